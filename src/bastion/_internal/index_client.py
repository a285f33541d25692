"""Project pages of a package index (opt-in network, ``--online``): upload times and existence.

One page per project answers both questions the names-and-age layer asks:
does the public index know this name, and when was each release uploaded.
Pages come from the PEP 691 JSON simple API; when it gives no upload times
(an HTML-only mirror, API 1.0), from PyPI's JSON API on the same host.
Answers are cached in the user cache for a day (a project page changes when
a release is added; the upload time of an existing file never does).

Everything read is hostile: https or loopback only, no credentials sent,
bounded in size and time, names validated before they go into a URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

from bastion._internal.errors import DownloadError
from bastion._internal.inputs.common import parse_timestamp

PEP691_JSON = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{PEP691_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
TIMEOUT_SECONDS = 30
MAX_PAGE_BYTES = 64 * 1024 * 1024
MAX_FILES = 200_000
CACHE_TTL = timedelta(days=1)
WORKERS = 8
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,200}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class Release:
    """One version on the index: the newest upload among its files, and whether it is yanked."""

    version: str
    uploaded: datetime | None
    yanked: bool = False


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """What an index says about a project name."""

    index: str
    name: str
    exists: bool
    releases: Mapping[str, Release]  # by normalised version

    def release(self, version: str) -> Release | None:
        """The release of ``version`` (compared in normalised form)."""
        return self.releases.get(_normal(version))


def _normal(version: str) -> str:
    return canonicalize_version(version)


def check_url(url: str) -> str:
    """The URL without a trailing slash, when it is https (or http to loopback) with no login."""
    split = urlsplit(url)
    loopback = split.hostname in ("127.0.0.1", "localhost", "::1")
    if split.scheme != "https" and not (split.scheme == "http" and loopback):
        raise DownloadError(f"refusing to query {url}: https (or http to loopback) only")
    if "@" in split.netloc:
        raise DownloadError(f"refusing to send credentials to {split.hostname}")
    return url.rstrip("/")


class IndexClient:
    """Fetches and caches project pages; one client per run."""

    def __init__(self, cache_dir: Path | None, now: datetime | None = None) -> None:
        self.cache_dir = cache_dir
        self.now = now or datetime.now(UTC)

    def pages(
        self, wanted: Iterable[tuple[str, str]], *, times: bool = True
    ) -> dict[tuple[str, str], ProjectPage]:
        """Pages for many ``(index URL, canonical name)`` pairs, fetched concurrently.

        Raises ``DownloadError`` for the first page that cannot be read: a
        layer that asked for network data must not pass on half of it.
        """
        unique = sorted(set(wanted))
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            found = list(pool.map(lambda pair: self.page(*pair, times=times), unique))
        return dict(zip(unique, found, strict=True))

    def page(self, index: str, name: str, *, times: bool = True) -> ProjectPage:
        """The page of one project on one index (``exists`` false on 404).

        With ``times`` false only existence matters: no second request is
        made for upload times the simple API left out.
        """
        index = check_url(index)
        if not _NAME.match(name):
            raise DownloadError(f"refusing to query the index for the name {name[:60]!r}")
        url = f"{index}/{name}/"
        cached = self._cached(url)
        if cached is not None and not (times and cached.exists and not _timed(cached)):
            return cached
        page = self._fetch(index, name, url, times=times)
        self._store(url, page)
        return page

    def _fetch(self, index: str, name: str, url: str, *, times: bool) -> ProjectPage:
        status, content_type, body = http_get(url, ACCEPT)
        if status == 404:
            return ProjectPage(index, name, False, MappingProxyType({}))
        releases: dict[str, Release] = {}
        if content_type.startswith(PEP691_JSON):
            releases = _from_simple_json(url, body)
        if times and not any(r.uploaded for r in releases.values()):
            releases = self._from_json_api(index, name) or releases
        return ProjectPage(index, name, True, MappingProxyType(releases))

    def _from_json_api(self, index: str, name: str) -> dict[str, Release]:
        """PyPI's JSON API beside a ``…/simple`` index, when the host has one."""
        if not index.endswith("/simple"):
            return {}
        url = f"{index.removesuffix('/simple')}/pypi/{name}/json"
        status, _, body = http_get(url, "application/json")
        if status != 200:
            return {}
        return _from_json_api(url, body)

    def _cache_file(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.cache_dir / "index-pages" / f"{key}.json"

    def _cached(self, url: str) -> ProjectPage | None:
        path = self._cache_file(url)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fetched = datetime.fromisoformat(data["fetched"])
            if data["url"] != url or not (timedelta(0) <= self.now - fetched <= CACHE_TTL):
                return None
            releases = {
                key: Release(
                    value["version"],
                    datetime.fromisoformat(value["uploaded"]) if value["uploaded"] else None,
                    bool(value["yanked"]),
                )
                for key, value in data["releases"].items()
            }
            return ProjectPage(data["index"], data["name"], data["exists"], releases)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged cache entry is fetched again

    def _store(self, url: str, page: ProjectPage) -> None:
        path = self._cache_file(url)
        if path is None:
            return
        data = {
            "url": url,
            "fetched": self.now.isoformat(),
            "index": page.index,
            "name": page.name,
            "exists": page.exists,
            "releases": {
                key: {
                    "version": r.version,
                    "uploaded": r.uploaded.isoformat() if r.uploaded else None,
                    "yanked": r.yanked,
                }
                for key, r in page.releases.items()
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".page-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            Path(temp).replace(path)
        except OSError:
            Path(temp).unlink(missing_ok=True)  # the cache is an optimisation, not a duty


def _timed(page: ProjectPage) -> bool:
    return any(r.uploaded for r in page.releases.values())


def http_get(url: str, accept: str, limit: int | None = None) -> tuple[int, str, bytes]:
    """Status, content type and body (at most ``limit`` bytes, default a page's); 404, 410 back.

    Other HTTP errors and unreachable hosts raise ``DownloadError``; the caller
    checks the URL with ``check_url`` first.
    """
    limit = MAX_PAGE_BYTES if limit is None else limit
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "bastion"})  # noqa: S310 - scheme checked by check_url
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - as above
            body = response.read(limit + 1)
            if len(body) > limit:
                raise DownloadError(f"{url}: larger than {limit // 2**20} MiB")
            return response.status, response.headers.get("Content-Type", ""), body
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            return 404, "", b""
        raise DownloadError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DownloadError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


def _json(url: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise DownloadError(f"{url}: not valid JSON") from None


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def _merge(
    releases: dict[str, Release], version: str, uploaded: datetime | None, yanked: bool
) -> None:
    key = _normal(version)
    known = releases.get(key)
    if known is None:
        releases[key] = Release(version, uploaded, yanked)
        return
    times = [t for t in (known.uploaded, uploaded) if t is not None]
    releases[key] = Release(known.version, max(times) if times else None, known.yanked and yanked)


def _from_simple_json(url: str, body: bytes) -> dict[str, Release]:
    """Releases of a PEP 691 page: versions from file names, the newest upload of each."""
    data = _json(url, body)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise DownloadError(f"{url}: not a PEP 691 project page")
    releases: dict[str, Release] = {}
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        version = _version_of(item["filename"])
        if version is not None:
            yanked = item.get("yanked", False) not in (False, None)
            _merge(releases, version, parse_timestamp(item.get("upload-time")), yanked)
    return releases


def _from_json_api(url: str, body: bytes) -> dict[str, Release]:
    """Releases of PyPI's ``/pypi/NAME/json``: ``releases`` maps versions to their files."""
    data = _json(url, body)
    listed = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(listed, dict) or len(listed) > MAX_FILES:
        raise DownloadError(f"{url}: not a PyPI JSON API answer")
    releases: dict[str, Release] = {}
    for version, files in listed.items():
        if not isinstance(files, list):
            continue
        for item in files:
            if isinstance(item, dict):
                moment = parse_timestamp(
                    item.get("upload_time_iso_8601") or item.get("upload_time")
                )
                _merge(releases, str(version), moment, bool(item.get("yanked", False)))
    return releases
