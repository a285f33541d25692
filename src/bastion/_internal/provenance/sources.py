"""Where provenance comes from: a local directory, the user cache, PyPI's Integrity API.

Each source answers for one artifact with a ``Lookup``: the provenance bytes,
a definite "none" (the directory holds no file for it, the index says the file
has no provenance), or nothing (this source cannot say). Sources are asked in
order; the first definite answer wins.

Everything read is hostile: only regular files, bounded sizes, names
validated before they go into a path or URL, https (or loopback) only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from bastion._internal.errors import DownloadError
from bastion._internal.provenance.model import Artifact
from bastion._internal.provenance.verify import MAX_PROVENANCE_BYTES, parse_filename

SUFFIX = ".provenance"
PAGE_TTL = 24 * 3600  # seconds a project page is reused from the cache
MAX_DIRECTORY_FILES = 200_000
PEP691_JSON = "application/vnd.pypi.simple.v1+json"
INTEGRITY_ACCEPT = "application/vnd.pypi.integrity.v1+json, application/json;q=0.9"
_HEX = frozenset("0123456789abcdef")
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]{0,250}$")


@dataclass(frozen=True, slots=True)
class Lookup:
    """A definite answer: ``data`` is the provenance, or ``None`` when there is none."""

    data: bytes | None
    origin: str
    reason: str = ""  # why there is none


@dataclass(frozen=True, slots=True)
class Unavailable:
    """The source could not answer (an index error): the artifact stays unverified."""

    reason: str


class Source(Protocol):
    """A place provenance is looked up in."""

    def lookup(self, artifact: Artifact) -> Lookup | Unavailable | None:
        """A definite answer, an error, or ``None`` when this source does not know."""
        ...


def read_bounded(path: Path) -> bytes:
    """A regular file's first ``MAX_PROVENANCE_BYTES + 1`` bytes (the verifier refuses more)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        return handle.read(MAX_PROVENANCE_BYTES + 1)


class DirectorySource:
    """``<filename>.provenance`` files in a folder, flat or under ``<project>/<version>/``.

    The folder is the evidence: a locked file with no provenance file in it
    is ``missing``. An artifact whose lock gives no file name is matched by
    the sha256 its provenance signs (the folder is indexed once, on demand).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_digest: dict[str, Path] | None = None

    def lookup(self, artifact: Artifact) -> Lookup | Unavailable | None:
        """The provenance file of ``artifact`` in this folder, or a definite "none"."""
        if artifact.filename is None:
            path = self._digest_index().get(artifact.sha256)
        else:
            path = self._by_name(artifact)
        if path is None:
            return Lookup(None, str(self.root), f"no provenance file in {self.root}")
        try:
            return Lookup(read_bounded(path), str(path))
        except OSError as exc:
            return Lookup(b"", str(path), f"unreadable: {exc.strerror or exc}")

    def _by_name(self, artifact: Artifact) -> Path | None:
        filename = artifact.filename or ""
        if not _SAFE_FILENAME.match(filename):
            return None
        candidates = [self.root / f"{filename}{SUFFIX}"]
        if artifact.version and _SAFE_FILENAME.match(artifact.version):
            parsed = parse_filename(filename)
            names = {artifact.name, *(p[0] for p in [parsed] if p)}
            for name in sorted(names):
                candidates.append(self.root / name / artifact.version / f"{filename}{SUFFIX}")
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return None

    def _digest_index(self) -> dict[str, Path]:
        if self._by_digest is None:
            self._by_digest = {}
            for path in provenance_files(self.root):
                for digest in signed_digests(path):
                    self._by_digest.setdefault(digest, path)
        return self._by_digest


def provenance_files(root: Path) -> Iterator[Path]:
    count = 0
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        if depth >= 2:
            dirs[:] = []
        for name in files:
            if name.endswith(SUFFIX):
                count += 1
                if count > MAX_DIRECTORY_FILES:
                    return
                yield Path(folder) / name


def signed_digests(path: Path) -> list[str]:
    """The sha256 digests the statements in a provenance file name (unverified: an index)."""
    import base64

    try:
        raw = json.loads(read_bounded(path))
        found = []
        for bundle in raw.get("attestation_bundles", [])[:8]:
            for attestation in bundle.get("attestations", [])[:16]:
                statement = json.loads(base64.b64decode(attestation["envelope"]["statement"]))
                for subject in statement.get("subject", [])[:4]:
                    digest = subject.get("digest", {}).get("sha256")
                    if isinstance(digest, str):
                        found.append(digest.lower())
        return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return []


class CacheSource:
    """Provenance fetched before, kept by sha256 (a file's provenance does not change)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, sha256: str) -> Path:
        """Where the provenance of a digest is cached."""
        return self.folder / f"{sha256}{SUFFIX}"

    def lookup(self, artifact: Artifact) -> Lookup | Unavailable | None:
        """The cached provenance, or ``None`` (the cache never says "none")."""
        return self.lookup_digest(artifact.sha256)

    def lookup_digest(self, sha256: str) -> Lookup | None:
        """The cached provenance of a digest, if any."""
        path = self.path(sha256)
        if not path.is_file():
            return None
        try:
            return Lookup(read_bounded(path), f"cache {path}")
        except OSError:
            return None

    def store(self, sha256: str, data: bytes) -> None:
        """Keep ``data`` for ``sha256``, atomically; a cache failure is not an error."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".prov-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(temp).replace(self.path(sha256))
        except OSError:
            return


@dataclass(frozen=True, slots=True)
class IndexFile:
    """A file as the index's simple page lists it."""

    filename: str
    version: str
    sha256: str
    has_provenance: bool | None  # None: the page does not say (no PEP 740 key)


class IntegritySource:
    """PyPI's Integrity API (``--online``): ``/integrity/<project>/<version>/<file>/provenance``.

    The project's simple page (PEP 691 JSON) maps each digest to its file name
    and says whether the file has provenance (PEP 740); the provenance itself
    comes from the Integrity API of the same index and is cached by digest.
    """

    def __init__(self, index_url: str, cache: CacheSource | None) -> None:
        from bastion._internal.index_client import check_url

        self.index_url = check_url(index_url)
        self.cache = cache
        self._pages: dict[str, list[IndexFile] | Unavailable] = {}
        self._now = time.time()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def files(self, name: str) -> list[IndexFile] | Unavailable:
        """The files the index lists for ``name`` (404: none); one fetch per name."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._pages:
                self._pages[name] = self._fetch_page(name)
            return self._pages[name]

    def lookup(self, artifact: Artifact) -> Lookup | Unavailable | None:
        """Ask the index for the provenance of ``artifact``."""
        files = self.files(artifact.name)
        if isinstance(files, Unavailable):
            return files
        listed = next((f for f in files if f.sha256 == artifact.sha256), None)
        if listed is None:
            reason = f"{self.index_url} lists no file with sha256 {artifact.sha256[:16]}"
            return Lookup(None, self.index_url, reason)
        if listed.has_provenance is False:
            return Lookup(None, self.index_url, "the index lists no provenance for this file")
        return self.fetch(artifact.name, listed.version, listed.filename, artifact.sha256)

    def fetch(self, name: str, version: str, filename: str, sha256: str) -> Lookup | Unavailable:
        """The Integrity API's answer for one file (200 cached, 404 none, else unavailable)."""
        from bastion._internal.index_client import http_get

        if not _SAFE_FILENAME.match(filename):
            return Lookup(b"", self.index_url, f"refusing the file name {filename[:60]!r}")
        parts = "/".join(quote(part, safe="") for part in (name, version, filename))
        url = f"{self.index_url}/integrity/{parts}/provenance"
        try:
            status, _, body = http_get(url, INTEGRITY_ACCEPT, limit=MAX_PROVENANCE_BYTES)
        except DownloadError as exc:
            if "larger than" in str(exc):
                return Lookup(b"x" * (MAX_PROVENANCE_BYTES + 1), url, "oversized answer")
            return Unavailable(exc.one_line())
        if status == 404:
            return Lookup(None, url, "the Integrity API has no provenance for this file")
        if self.cache is not None:
            self.cache.store(sha256, body)
        return Lookup(body, url)

    def _fetch_page(self, name: str) -> list[IndexFile] | Unavailable:
        from bastion._internal.index_client import http_get

        url = f"{self.index_url}/simple/{quote(name, safe='')}/"
        cached = self._cached_page(url)
        if cached is not None:
            return cached
        try:
            status, content_type, body = http_get(url, PEP691_JSON)
        except DownloadError as exc:
            return Unavailable(exc.one_line())
        if status == 404:
            return []
        if not content_type.startswith(PEP691_JSON):
            return Unavailable(f"{url}: not a PEP 691 JSON page ({content_type[:60]})")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return Unavailable(f"{url}: not valid JSON")
        files = index_files(data)
        self._store_page(url, files)
        return files

    def _page_path(self, url: str) -> Path | None:
        if self.cache is None:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.cache.folder / "pages" / f"{key}.json"

    def _cached_page(self, url: str) -> list[IndexFile] | None:
        """A page fetched less than a day ago (a release's files and provenance settle)."""
        path = self._page_path(url)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["url"] != url or not 0 <= self._now - float(data["fetched"]) <= PAGE_TTL:
                return None
            return [IndexFile(*row) for row in data["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store_page(self, url: str, files: list[IndexFile]) -> None:
        path = self._page_path(url)
        if path is None:
            return
        rows = [[f.filename, f.version, f.sha256, f.has_provenance] for f in files]
        text = json.dumps({"url": url, "fetched": self._now, "files": rows})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".page-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            Path(temp).replace(path)
        except OSError:
            return


def index_files(data: Any) -> list[IndexFile]:
    found = []
    files = data.get("files") if isinstance(data, dict) else None
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, dict):
            continue
        filename = item.get("filename")
        hashes = item.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        if not isinstance(filename, str) or not isinstance(sha256, str):
            continue
        sha256 = sha256.lower()
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            continue
        parsed = parse_filename(filename)
        if parsed is None:
            continue
        marker = item.get("provenance", ...)
        has = None if marker is ... else bool(marker)
        found.append(IndexFile(filename, parsed[1], sha256, has))
    return found
