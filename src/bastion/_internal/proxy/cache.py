"""The cache directory: content-addressed files and project pages, written by atomic rename.

``files/ab/abcdef…`` holds a file under its sha256; it is written to
``tmp/`` first, hashed while it streams, and renamed into place only when the
hash is the one upstream declared, so a reader (this process, another
worker, another instance sharing the folder) sees a whole verified file or
none. While one process fetches a file it holds an exclusive ``flock`` on
``locks/SHA256``: other workers (and instances on the same host) wait for
it and then find the file, so a file is fetched once. ``pages/NAME.json``
holds a project page as read from upstream with its fetch time (before any
policy: the policy runs on every answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bastion._internal.inputs.common import parse_timestamp
from bastion._internal.proxy.digest import PipelinedSha256
from bastion._internal.proxy.model import IndexFile, ProjectPage

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
READ_BUFFER = 1024 * 1024  # per read and hash of a file fetched in a thread
# Per write(2) into a new cache file. Linux sizes the page-cache folios of a
# buffered write by the length of the write: 1 MiB writes get large folios,
# taken from high-order free blocks that a virtual machine with free-page
# reporting (this one: Firecracker, virtio-balloon) has handed back to its
# host, so each of their 4 KiB pages faults in the host, counted as the
# proxy's system time in the copy. perf of a cold 1 GB fetch in the proxy:
# 2.6 of its 3.3 s in copy_folio_from_iter_atomic with 1 MiB writes; dd of
# 1 GB into recycled memory, sys time: 1 MiB writes 2.5-2.9 s, 256 KiB 1.5 s,
# 64 KiB 0.45-0.6 s, 16 KiB 0.4-0.65 s; bench_proxy, 1 GB cold, proxy CPU:
# 1 MiB 3.7 s, 64 KiB 3.0 s, 16 KiB 2.3 s (proxpi, 16 KiB writes: 2.4 s).
# 65,536 write calls per GB: 0.03 s CPU of calls (1 GB to /dev/null) anywhere.
WRITE_SLICE = 16 * 1024


class IntegrityError(Exception):
    """The bytes upstream sent are not the ones it declared (hash or size)."""


class FileCache:
    """One cache directory (created on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.pages = root / "pages"
        self.files = root / "files"
        self.locks = root / "locks"
        for folder in (self.tmp, self.pages, self.files, self.locks):
            folder.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the file with this sha256 lives (whether or not it is there)."""
        if not _SHA256.match(sha256):
            raise ValueError("not a sha256")
        return self.files / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """True when the verified file is in the cache."""
        return self.path(sha256).is_file()

    @asynccontextmanager
    async def exclusive(self, sha256: str) -> AsyncIterator[None]:
        """Hold the fetch lock of one file (across processes), waiting for another holder."""
        self.path(sha256)  # a sha256 or ValueError: never a path from outside
        handle = os.open(self.locks / sha256, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.05)
            yield
        finally:
            os.close(handle)  # releases the lock; the empty lock file stays (no unlink race)

    async def store(self, chunks: AsyncIterator[bytes], sha256: str, limit: int) -> Path:
        """Stream ``chunks`` into the cache as the file with ``sha256``; ``IntegrityError`` if not.

        Nothing is left behind when the bytes are wrong, too many or the stream fails.
        """
        target = self.path(sha256)
        digest = hashlib.sha256()
        size = 0
        handle, temp = tempfile.mkstemp(dir=self.tmp, prefix=sha256[:12] + ".")
        try:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise IntegrityError(f"larger than the limit of {limit} bytes")
                    digest.update(chunk)
                    write_in_slices(handle, memoryview(chunk))
            finally:
                os.close(handle)
            _commit(Path(temp), digest.hexdigest(), target)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise
        return target

    def store_from(self, read_into: Callable[[memoryview], int], sha256: str, limit: int) -> Path:
        """``store`` from a blocking source, in the calling thread (and a hashing thread).

        ``read_into(buffer)`` fills some of ``buffer`` and says how much (0 at the
        end); each piece is counted, handed to the hash (see ``digest``) and
        written (see ``write_in_slices``); a few buffers of ``READ_BUFFER`` bytes
        are reused.
        """
        target = self.path(sha256)
        pieces = PipelinedSha256(READ_BUFFER)
        size = 0
        handle, temp = tempfile.mkstemp(dir=self.tmp, prefix=sha256[:12] + ".")
        try:
            try:
                while True:
                    buffer = pieces.take()
                    count = read_into(buffer)
                    if not count:
                        pieces.give_back(buffer)
                        break
                    size += count
                    if size > limit:
                        raise IntegrityError(f"larger than the limit of {limit} bytes")
                    pieces.update(buffer, count)  # hashed while it is written and the next read
                    write_in_slices(handle, buffer[:count])
            finally:
                os.close(handle)
            _commit(Path(temp), pieces.hexdigest(), target)
        except BaseException:
            pieces.close()
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise
        return target

    def _page_file(self, name: str) -> Path:
        return self.pages / f"{name}.json"

    def save_page(self, page: ProjectPage) -> None:
        """Keep a page (atomically replacing the previous one)."""
        body = json.dumps(_page_to_json(page), separators=(",", ":"))
        handle, temp = tempfile.mkstemp(dir=self.tmp, prefix="page.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(body)
            Path(temp).replace(self._page_file(page.name))
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise

    def load_page(self, name: str) -> ProjectPage | None:
        """The kept page, or None (also for an unreadable one)."""
        try:
            data = json.loads(self._page_file(name).read_text(encoding="utf-8"))
            return _page_from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def page_names(self, limit: int = 100_000) -> list[str]:
        """The projects with a kept page, sorted."""
        names = []
        for entry in os.scandir(self.pages):
            if entry.name.endswith(".json"):
                names.append(entry.name[:-5])
                if len(names) >= limit:
                    break
        return sorted(names)


def write_in_slices(handle: int, data: memoryview) -> None:
    """Write all of ``data`` to the file descriptor, at most ``WRITE_SLICE`` bytes per call."""
    done, total = 0, len(data)
    while done < total:
        written = os.write(handle, data[done : done + WRITE_SLICE])  # short: the rest next
        if written <= 0:
            raise OSError(errno.EIO, "the file took no bytes")
        done += written


def _commit(temp: Path, received: str, target: Path) -> None:
    """Rename a fully written file into place when its sha256 is the declared one (its name)."""
    if received != target.name:
        raise IntegrityError(f"sha256 mismatch: upstream declared {target.name}, sent {received}")
    target.parent.mkdir(exist_ok=True)
    temp.replace(target)


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _page_to_json(page: ProjectPage) -> dict[str, Any]:
    return {
        "name": page.name,
        "status": page.status,
        "status_reason": page.status_reason,
        "fetched_at": _when(page.fetched_at),
        "files": [
            {
                "filename": f.filename,
                "url": f.url,
                "sha256": f.sha256,
                "upload_time": _when(f.upload_time),
                "size": f.size,
                "requires_python": f.requires_python,
                "yanked": f.yanked,
                "core_metadata": f.core_metadata,
                "provenance": f.provenance,
                "version": f.version,
            }
            for f in page.files
        ],
    }


def _page_from_json(data: dict[str, Any]) -> ProjectPage:
    files = tuple(
        IndexFile(
            filename=str(f["filename"]),
            url=str(f["url"]),
            sha256=str(f["sha256"]),
            upload_time=parse_timestamp(f["upload_time"]),
            size=f["size"],
            requires_python=f["requires_python"],
            yanked=f["yanked"],
            core_metadata=f["core_metadata"],
            provenance=f["provenance"],
            version=f["version"],
        )
        for f in data["files"]
    )
    return ProjectPage(
        str(data["name"]),
        files,
        str(data["status"]),
        str(data["status_reason"]),
        parse_timestamp(data["fetched_at"]),
    )
