"""Reading a wheel or sdist in memory, one member at a time, within ``Limits``.

Nothing is extracted to disk and no link is followed. A file that is not a
readable archive (truncated, encrypted, overlapping zip entries, a bomb, an
unsafe member name) raises ``ArchiveError`` naming the file and the member.
"""

from __future__ import annotations

import hashlib
import itertools
import lzma
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bastion._internal.errors import InputError
from bastion._internal.inspect.limits import Limits

CHUNK = 1024 * 1024
HEAD_BYTES = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    UnicodeDecodeError,
)


class ArchiveError(InputError):
    """The file is not an archive bastion can read safely."""

    def __reduce__(self) -> tuple[type[ArchiveError], tuple[Path, str, int | None]]:
        return (ArchiveError, (self.path, self.message, self.line))  # crosses process pools


@dataclass(frozen=True, slots=True)
class Entry:
    """One member: its bytes when small enough to scan (else the first 64 KiB)."""

    name: str
    kind: str  # "file", "link", "special"
    size: int
    data: bytes
    complete: bool  # data holds the whole member
    sha256: str = ""
    git_id: str = ""  # git's blob id (SHA-1), when asked for
    link_target: str = ""


def unsafe_name(name: str) -> str | None:
    """Why a member name may not be written anywhere, or None when it is a plain relative path."""
    if "\x00" in name:
        return "NUL byte in member name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute member path"
    if ".." in re.split(r"[\\/]", name):
        return "path traversal ('..') in member name"
    return None


def archive_format(path: Path) -> str:
    """``zip`` or ``tar`` from the first bytes; ``ArchiveError`` for anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise ArchiveError(path, f"cannot read: {exc.strerror or exc}") from None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return "tar"
    if len(head) == 512 and head[257:262] == b"ustar":
        return "tar"
    raise ArchiveError(path, "not a wheel or sdist (neither a zip nor a tar archive)")


def iter_entries(
    path: Path, limits: Limits, *, git_ids: bool = False, shard: tuple[int, int] = (0, 1)
) -> Iterator[Entry]:
    """Every member of the archive at ``path``, in archive order, within ``limits``.

    ``shard`` (k, n) reads only the zip members whose index is k modulo n (every
    member is still checked against the limits); a tar stream is read whole by shard 0.
    """
    kind = archive_format(path)
    try:
        if kind == "zip":
            yield from _zip_entries(path, limits, git_ids, shard)
        elif shard[0] == 0:
            yield from _tar_entries(path, limits, git_ids)
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        raise ArchiveError(path, f"unreadable archive: {_reason(exc)}") from None
    except RecursionError:
        raise ArchiveError(path, "unreadable archive: nested too deeply") from None


def read_members(path: Path, names: set[str], limits: Limits) -> dict[str, bytes]:
    """The complete bytes of the named members (those small enough to scan)."""
    found: dict[str, bytes] = {}
    for entry in iter_entries(path, limits):
        if entry.name in names and entry.complete:
            found[entry.name] = entry.data
    return found


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, EOFError | zlib.error | lzma.LZMAError):
        return f"truncated or corrupt ({text})"
    return text[:200]


def _check_name(path: Path, name: str) -> None:
    reason = unsafe_name(name)
    if reason is not None:
        raise ArchiveError(path, f"{reason}: {name[:120]!r}")


class _Budget:
    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.members = 0
        self.total = 0

    def admit(self, name: str, size: int) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveError(self.path, f"more than {self.limits.max_members} members")
        if size > self.limits.max_member_bytes:
            raise ArchiveError(
                self.path,
                f"member {name[:120]!r} declares {size:,} bytes "
                f"(limit {self.limits.max_member_bytes:,})",
            )
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                self.path, f"members total over {self.limits.max_total_bytes:,} bytes uncompressed"
            )


def _read(
    handle: IO[bytes], name: str, size: int, limits: Limits, git_ids: bool, path: Path
) -> Entry:
    sha = hashlib.sha256()
    git = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False) if git_ids else None
    keep = size <= limits.max_scan_bytes
    parts: list[bytes] = []
    head = b""
    read = 0
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            break
        read += len(chunk)
        if read > size:
            raise ArchiveError(path, f"member {name[:120]!r} is larger than it declares")
        sha.update(chunk)
        if git is not None:
            git.update(chunk)
        if keep:
            parts.append(chunk)
        elif len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    if read != size:
        raise ArchiveError(path, f"member {name[:120]!r} is truncated")
    data = b"".join(parts) if keep else head
    return Entry(name, "file", size, data, keep, sha.hexdigest(), git.hexdigest() if git else "")


def _zip_entries(
    path: Path, limits: Limits, git_ids: bool, shard: tuple[int, int]
) -> Iterator[Entry]:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveError(path, f"more than {limits.max_members} members")
        _check_zip_layout(path, infos, limits)
        budget = _Budget(path, limits)
        for index, info in enumerate(infos):
            budget.admit(info.filename, info.file_size)
            if info.is_dir() or index % shard[1] != shard[0]:
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                if info.file_size > 4096:
                    raise ArchiveError(path, f"link {info.filename[:120]!r} is too long")
                target = archive.read(info).decode("utf-8", "replace")
                yield Entry(info.filename, "link", info.file_size, b"", True, link_target=target)
                continue
            with archive.open(info) as handle:
                yield _read(handle, info.filename, info.file_size, limits, git_ids, path)


def _check_zip_layout(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Names, encryption, compression ratio and overlapping entries (a zip quine or bomb)."""
    seen: set[str] = set()
    spans: list[tuple[int, int, str]] = []
    for info in infos:
        name = info.filename
        _check_name(path, info.orig_filename)  # zipfile cuts a name at a NUL byte
        if name in seen:
            raise ArchiveError(path, f"duplicate member {name[:120]!r}")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise ArchiveError(path, f"member {name[:120]!r} is encrypted")
        if info.file_size > limits.ratio_floor and (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
        ):
            raise ArchiveError(
                path,
                f"member {name[:120]!r} expands {info.file_size:,} bytes from "
                f"{info.compress_size:,} (ratio over {limits.max_ratio}: a zip bomb?)",
            )
        spans.append((info.header_offset, info.compress_size, name))
    spans.sort()
    for (start, length, name), (following, _, other) in itertools.pairwise(spans):
        if start + 30 + length > following:
            raise ArchiveError(
                path, f"members {name[:60]!r} and {other[:60]!r} overlap (a self-referencing zip?)"
            )


def _tar_entries(path: Path, limits: Limits, git_ids: bool) -> Iterator[Entry]:
    compressed = max(path.stat().st_size, 1)
    with tarfile.open(path, mode="r|*") as archive:  # a stream: one member in memory at a time
        budget = _Budget(path, limits)
        for member in archive:
            name = member.name
            _check_name(path, name)
            budget.admit(name, member.size)
            if budget.total > limits.ratio_floor and budget.total > limits.max_ratio * compressed:
                raise ArchiveError(
                    path,
                    f"expands to over {budget.total:,} bytes from {compressed:,} "
                    f"(ratio over {limits.max_ratio}: a tar bomb?)",
                )
            if member.isdir():
                continue
            if member.issym() or member.islnk():
                yield Entry(name, "link", 0, b"", True, link_target=member.linkname[:4096])
                continue
            if not member.isfile():
                yield Entry(name, "special", 0, b"", True)
                continue
            handle = archive.extractfile(member)
            if handle is None:  # pragma: no cover - isfile() members always have one
                continue
            yield _read(handle, name, member.size, limits, git_ids, path)
