"""The pages the proxy answers: PEP 691 JSON and PEP 503 HTML, after the policy.

File URLs point back at the proxy (``../../files/PROJECT/FILE``, relative, so
a proxy behind a path prefix works), never at upstream: every byte passes the
verification. ``versions`` (PEP 700) is recomputed from the served files.
With ``explain`` (the default), a hidden file stays listed as *yanked*
(PEP 592) with the reason as the yank reason and without its metadata file:
pip and uv skip yanked files unless a requirement pins that exact version,
and then they print the reason and fail on the download, which answers 403
with the reason. Without ``explain`` hidden files are left out. Either way
they are named with their reason under ``_bastion`` (PEP 691 leaves
underscore keys to implementations) and never counted in ``versions``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from html import escape
from urllib.parse import quote

from packaging.version import InvalidVersion, Version

from bastion._internal.proxy.model import IndexFile
from bastion._internal.proxy.policy import Verdict

API_VERSION = "1.4"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
_UNSAFE = re.compile(r"[^A-Za-z0-9.:,()<>=!+-]+")


def choose_format(accept: str, format_param: str | None) -> str | None:
    """``json`` or ``html`` by ``?format=`` or the Accept header (q-values); None: 406."""
    if format_param:
        if format_param in (JSON_TYPE, "json"):
            return "json"
        if format_param in (HTML_TYPE, "text/html", "html"):
            return "html"
        return None
    if not accept.strip():
        return "html"
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")[:32]):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        chosen = None
        if media in (JSON_TYPE, "application/json"):
            chosen = "json"
        elif media in (HTML_TYPE, "text/html", "*/*", "text/*", "application/*"):
            chosen = "html" if media != "application/*" else "json"
        if chosen and (best is None or (quality, -position) > (best[0], best[1])):
            best = (quality, -position, chosen)
    return best[2] if best else None


def _file_url(project: str, item: IndexFile, refusal: str | None = None) -> str:
    url = f"../../files/{quote(project)}/{quote(item.filename)}"
    if refusal is None:
        return url
    # pip and uv print the URL of a failed download, not the body: the reason rides along.
    reason = refusal.removeprefix(f"{item.filename}: ")
    return f"{url}?bastion-refused={_UNSAFE.sub('_', reason)[:300]}"


def _versions(files: tuple[IndexFile, ...]) -> list[str]:
    found: dict[str, Version | None] = {}
    for item in files:
        if item.version is not None:
            try:
                found[item.version] = Version(item.version)
            except InvalidVersion:
                found[item.version] = None
    return sorted(found, key=lambda v: (found[v] is not None, found[v] or Version("0"), v))


def _listed(
    project: str, verdict: Verdict, explain: bool
) -> list[tuple[IndexFile, str, str | bool, bool]]:
    """(file, its URL, yanked value, served) for every file the page lists."""
    listed: list[tuple[IndexFile, str, str | bool, bool]] = []
    for item, decision in verdict.files:
        if decision.served:
            listed.append((item, _file_url(project, item), item.yanked, True))
        elif explain:
            url = _file_url(project, item, decision.reason)
            listed.append((item, url, f"bastion proxy refuses it: {decision.reason}", False))
    return listed


def page_json(project: str, verdict: Verdict, status: str, explain: bool = True) -> bytes:
    """The PEP 691 page of the served files (and, with ``explain``, the refused ones)."""
    files = []
    for item, url, yanked, served in _listed(project, verdict, explain):
        metadata = {"sha256": item.core_metadata} if item.core_metadata and served else False
        entry: dict[str, object] = {
            "filename": item.filename,
            "url": url,
            "hashes": {"sha256": item.sha256},
            "requires-python": item.requires_python,
            "yanked": yanked,
            "core-metadata": metadata,
            "dist-info-metadata": metadata,
        }
        if item.upload_time is not None:
            entry["upload-time"] = item.upload_time.astimezone(UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            )
        if item.size is not None:
            entry["size"] = item.size
        if item.provenance is not None:
            entry["provenance"] = item.provenance
        files.append(entry)
    hidden = [
        {"filename": item.filename, "reason": decision.reason, "rule": decision.rule}
        for item, decision in verdict.files
        if not decision.served
    ]
    body = {
        "meta": {"api-version": API_VERSION},
        "name": project,
        "project-status": {"status": status},
        "versions": _versions(verdict.served()),
        "files": files,
        "_bastion": {"hidden": hidden},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def page_html(project: str, verdict: Verdict, status: str, explain: bool = True) -> bytes:
    """The PEP 503 page of the served files (and, with ``explain``, the refused ones)."""
    lines = [
        "<!DOCTYPE html>",
        "<html><head>",
        f'<meta name="pypi:repository-version" content="{API_VERSION}">',
        f'<meta name="pypi:project-status" content="{escape(status)}">',
        f"<title>Links for {escape(project)}</title></head><body>",
        f"<h1>Links for {escape(project)}</h1>",
    ]
    for item, url, yanked, served in _listed(project, verdict, explain):
        attrs = [f'href="{escape(url)}#sha256={item.sha256}"']
        if item.requires_python:
            attrs.append(f'data-requires-python="{escape(item.requires_python)}"')
        if yanked is not False:
            reason = yanked if isinstance(yanked, str) else ""
            attrs.append(f'data-yanked="{escape(reason)}"')
        if item.core_metadata and served:
            attrs.append(f'data-core-metadata="sha256={item.core_metadata}"')
            attrs.append(f'data-dist-info-metadata="sha256={item.core_metadata}"')
        if item.provenance:
            attrs.append(f'data-provenance="{escape(item.provenance)}"')
        lines.append(f"<a {' '.join(attrs)}>{escape(item.filename)}</a><br>")
    lines.append("</body></html>")
    return ("\n".join(lines) + "\n").encode()


def root_json(projects: list[str]) -> bytes:
    """The PEP 691 root: the projects this proxy has pages for."""
    body = {"meta": {"api-version": API_VERSION}, "projects": [{"name": p} for p in projects]}
    return json.dumps(body, separators=(",", ":")).encode()


def root_html(projects: list[str]) -> bytes:
    """The PEP 503 root."""
    links = "".join(f'<a href="{quote(p)}/">{escape(p)}</a><br>\n' for p in projects)
    return (
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" '
        f'content="{API_VERSION}"><title>Simple index</title></head><body>\n{links}</body></html>\n'
    ).encode()
