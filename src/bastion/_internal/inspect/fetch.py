"""Every file of a release from a PEP 691 index, hash verified, cached by sha256.

The index is hostile: https (or http to loopback) only, names validated,
bodies bounded, a file whose bytes do not match the sha256 the index gave is
refused, and a file the index gives no sha256 for is not downloaded.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from packaging.utils import canonicalize_name, canonicalize_version

from bastion._internal.errors import DownloadError, UsageError
from bastion._internal.index_client import PEP691_JSON, _json, _version_of, check_url, http_get

DEFAULT_INDEX = "https://pypi.org/simple/"
MAX_ARTIFACT_BYTES = 300 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]{0,250}$")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!_-]+)\s*$")


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One file of a release as the index lists it."""

    filename: str
    url: str
    sha256: str


def parse_requirement(text: str) -> tuple[str, str] | None:
    """``(canonical name, version)`` of ``NAME==VERSION``, else None."""
    match = _REQUIREMENT.match(text)
    if match is None:
        return None
    return canonicalize_name(match.group(1)), match.group(2)


def default_cache_dir() -> Path:
    """Where downloaded artifacts are kept: the bastion user cache, ``inspect/``."""
    from bastion._internal.user_cache import cache_dir

    return cache_dir() / "inspect"


def cached_path(cache_dir: Path, sha256: str) -> Path | None:
    """The cached artifact with this sha256, if there is one."""
    if not _SHA256.match(sha256):
        return None
    folder = cache_dir / sha256[:2] / sha256
    try:
        found = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return None
    return found[0] if len(found) == 1 else None


def release_files(index: str, name: str, version: str) -> list[IndexFile]:
    """Every file of ``name==version`` on the index (``DownloadError`` when there is none)."""
    base = check_url(index)
    url = f"{base}/{canonicalize_name(name)}/"
    status, _, body = http_get(url, PEP691_JSON)
    if status == 404:
        raise DownloadError(f"{url}: no such project on the index")
    data = _json(url, body)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        raise DownloadError(f"{url}: not a PEP 691 JSON project page")
    wanted = canonicalize_version(version)
    found = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        filename = item["filename"]
        listed = _version_of(filename)
        if listed is None or canonicalize_version(listed) != wanted:
            continue
        if not _FILENAME.match(filename):
            raise DownloadError(f"{url}: refusing the file name {filename[:80]!r}")
        hashes = item.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        if not isinstance(sha256, str) or not _SHA256.match(sha256.lower()):
            raise DownloadError(f"{url}: {filename} has no sha256 on the index (not downloaded)")
        link = urljoin(url, str(item.get("url", "")))
        if urlsplit(link).scheme not in ("https", "http"):
            raise DownloadError(f"{url}: {filename} has no http(s) URL")
        found.append(IndexFile(filename, link, sha256.lower()))
    if not found:
        raise DownloadError(f"{url}: no file of version {version}")
    return found


def download(file: IndexFile, cache_dir: Path, limit: int = MAX_ARTIFACT_BYTES) -> Path:
    """The artifact in the cache, downloaded when missing and its sha256 checked."""
    known = cached_path(cache_dir, file.sha256)
    if known is not None:
        return known
    check_url(file.url)
    status, _, body = http_get(file.url, "application/octet-stream", limit)
    if status == 404:
        raise DownloadError(f"{file.url}: not found")
    actual = hashlib.sha256(body).hexdigest()
    if actual != file.sha256:
        raise DownloadError(
            f"{file.filename}: sha256 {actual} does not match the index's {file.sha256}"
        )
    folder = cache_dir / file.sha256[:2] / file.sha256
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file.filename
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        Path(temp).replace(target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise UsageError(f"cannot write the cache {folder}: {exc.strerror or exc}") from None
    return target
