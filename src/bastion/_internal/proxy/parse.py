"""Upstream project pages (PEP 691 JSON, PEP 503 HTML) read into ``ProjectPage``, bounded.

Upstream answers are hostile input: a page is at most ``MAX_PAGE_BYTES`` and
``MAX_FILES`` files; a file is listed only when its name is a plain file name
of this project (no ``/``, ``\\``, ``..``, no other project's name), its URL
is http(s) on an allowed host, and it carries a sha256. Anything else is
dropped (and counted); a page that is not a page at all is ``PageError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from bastion._internal.inputs.common import parse_timestamp
from bastion._internal.proxy.model import IndexFile, ProjectPage

MAX_PAGE_BYTES = 32 * 1024 * 1024
MAX_FILES = 50_000
MAX_FIELD = 4096  # characters of any one string field kept
PROJECT_STATUSES = frozenset({"active", "archived", "quarantined", "deprecated"})
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!~-]{0,254}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$")


class PageError(ValueError):
    """The upstream answer is not a project page we can read."""


def project_name(raw: str) -> str | None:
    """The canonical form of a project name from a request, or ``None`` when it is not one."""
    if not _NAME.match(raw):
        return None
    return str(canonicalize_name(raw))


def _version_of(filename: str, project: str) -> str | bool | None:
    """The version in a file name; False when the file belongs to another project."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    if canonicalize_name(name) != project:
        return False
    return str(version)


def safe_filename(filename: str) -> bool:
    """True for a plain file name: no path, no ``..``, printable ASCII of a distribution."""
    return bool(_FILENAME.match(filename)) and ".." not in filename


def _host(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")


def check_file_url(url: str, allowed_hosts: Collection[str]) -> bool:
    """True when a file URL is http(s) on one of the allowed hosts (``host`` or ``host:port``)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return False
    return _host(url) in allowed_hosts or (parts.hostname or "").lower() in allowed_hosts


def _yanked(value: Any) -> str | bool:
    if isinstance(value, str):
        return value[:MAX_FIELD] or True
    return bool(value)


def _metadata_hash(value: Any) -> str | None:
    if isinstance(value, dict):
        digest = value.get("sha256")
        return digest.lower() if isinstance(digest, str) and _SHA256.match(digest.lower()) else None
    return None


def _short(value: Any) -> str | None:
    return value[:MAX_FIELD] if isinstance(value, str) else None


class _Builder:
    """Collects the files of one page, dropping what is not acceptable."""

    def __init__(self, project: str, page_url: str, allowed_hosts: Collection[str]) -> None:
        self.project = project
        self.page_url = page_url
        self.allowed_hosts = allowed_hosts
        self.files: dict[str, IndexFile] = {}
        self.dropped = 0

    def add(
        self,
        filename: Any,
        href: Any,
        sha256: Any,
        *,
        upload_time: datetime | None = None,
        size: Any = None,
        requires_python: Any = None,
        yanked: str | bool = False,
        core_metadata: str | None = None,
        provenance: Any = None,
    ) -> None:
        if len(self.files) >= MAX_FILES:
            raise PageError(f"more than {MAX_FILES} files")
        if not isinstance(filename, str) or not isinstance(href, str) or len(href) > MAX_FIELD:
            self.dropped += 1
            return
        digest = sha256.lower() if isinstance(sha256, str) else ""
        url = urljoin(self.page_url, urldefrag(href)[0])
        version = _version_of(filename, self.project) if safe_filename(filename) else False
        if (
            version is False
            or not _SHA256.match(digest)
            or not check_file_url(url, self.allowed_hosts)
            or filename in self.files
        ):
            self.dropped += 1
            return
        proof = urljoin(self.page_url, provenance) if isinstance(provenance, str) else None
        self.files[filename] = IndexFile(
            filename=filename,
            url=url,
            sha256=digest,
            upload_time=upload_time,
            size=size
            if isinstance(size, int) and not isinstance(size, bool) and size >= 0
            else None,
            requires_python=_short(requires_python),
            yanked=yanked,
            core_metadata=core_metadata,
            provenance=proof if proof and len(proof) <= MAX_FIELD else None,
            version=version if isinstance(version, str) else None,
        )


def parse_json_page(
    body: bytes, project: str, page_url: str, allowed_hosts: Collection[str]
) -> ProjectPage:
    """A PEP 691 JSON project page (api-version 1.x)."""
    if len(body) > MAX_PAGE_BYTES:
        raise PageError(f"larger than {MAX_PAGE_BYTES // 2**20} MiB")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise PageError("not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PageError("not a PEP 691 project page (no files list)")
    meta = data.get("meta")
    api = meta.get("api-version") if isinstance(meta, dict) else None
    if not isinstance(api, str) or not api.startswith("1."):
        raise PageError(f"unsupported api-version {api!r}")
    builder = _Builder(project, page_url, allowed_hosts)
    for item in data["files"]:
        if not isinstance(item, dict):
            builder.dropped += 1
            continue
        hashes = item.get("hashes")
        metadata = item.get("core-metadata", item.get("dist-info-metadata"))
        when = item.get("upload-time")
        builder.add(
            item.get("filename"),
            item.get("url"),
            hashes.get("sha256") if isinstance(hashes, dict) else None,
            upload_time=parse_timestamp(when) if isinstance(when, str) else None,
            size=item.get("size"),
            requires_python=item.get("requires-python"),
            yanked=_yanked(item.get("yanked", False)),
            core_metadata=_metadata_hash(metadata),
            provenance=item.get("provenance"),
        )
    status, reason = "active", ""
    given = data.get("project-status")
    if isinstance(given, dict):
        value = given.get("status")
        if isinstance(value, str) and value in PROJECT_STATUSES:
            status = value
        reason = _short(given.get("reason")) or ""
    return ProjectPage(project, tuple(builder.files.values()), status, reason)


class _Anchors(HTMLParser):
    def __init__(self, builder: _Builder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder
        self.current: dict[str, str | None] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.current = dict(attrs)
            self.text = []

    def handle_data(self, data: str) -> None:
        if self.current is not None and sum(map(len, self.text)) < MAX_FIELD:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self.current is None:
            return
        attrs, self.current = self.current, None
        href = attrs.get("href") or ""
        fragment = urldefrag(href)[1]
        algorithm, _, digest = fragment.partition("=")
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        meta_hash = None
        if metadata and metadata.startswith("sha256="):
            meta_hash = _metadata_hash({"sha256": metadata[7:]})
        yanked: str | bool = False
        if "data-yanked" in attrs:
            yanked = _yanked(attrs["data-yanked"] or True)
        self.builder.add(
            "".join(self.text).strip(),
            href,
            digest if algorithm == "sha256" else None,
            requires_python=attrs.get("data-requires-python"),
            yanked=yanked,
            core_metadata=meta_hash,
            provenance=attrs.get("data-provenance"),
        )


def parse_html_page(
    body: bytes, project: str, page_url: str, allowed_hosts: Collection[str]
) -> ProjectPage:
    """A PEP 503 HTML project page (no upload times: HTML carries none)."""
    if len(body) > MAX_PAGE_BYTES:
        raise PageError(f"larger than {MAX_PAGE_BYTES // 2**20} MiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PageError("not UTF-8 HTML") from None
    builder = _Builder(project, page_url, allowed_hosts)
    parser = _Anchors(builder)
    try:
        parser.feed(text)
        parser.close()
    except AssertionError:  # html.parser's way of refusing some malformed markup
        raise PageError("malformed HTML") from None
    return ProjectPage(project, tuple(builder.files.values()))


def upload_times_from_json_api(body: bytes) -> dict[str, datetime]:
    """File name -> upload time from PyPI's ``/pypi/NAME/json`` (for an HTML-only upstream)."""
    if len(body) > MAX_PAGE_BYTES:
        raise PageError(f"larger than {MAX_PAGE_BYTES // 2**20} MiB")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise PageError("not valid JSON") from None
    releases = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(releases, dict):
        raise PageError("not a PyPI JSON API answer")
    times: dict[str, datetime] = {}
    for files in releases.values():
        for item in files if isinstance(files, list) else ():
            if isinstance(item, dict) and isinstance(item.get("filename"), str):
                raw = item.get("upload_time_iso_8601") or item.get("upload_time")
                moment = parse_timestamp(raw) if isinstance(raw, str) else None
                if moment is not None:
                    times[item["filename"]] = moment
    return times


def to_utc(moment: datetime) -> datetime:
    """A timestamp in UTC (a naive one is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
