"""Storing a fetched file: the pipelined sha256 and ``FileCache.store_from`` on real files."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.proxy.cache import (
    READ_BUFFER,
    WRITE_SLICE,
    FileCache,
    IntegrityError,
    write_in_slices,
)
from bastion._internal.proxy.digest import PipelinedSha256

PIECES = st.lists(st.binary(min_size=1, max_size=3000), max_size=12)


@settings(max_examples=60, deadline=None)
@given(PIECES, st.integers(min_value=2, max_value=5))
def test_the_pipelined_digest_is_the_digest_of_the_pieces_in_order(
    pieces: list[bytes], depth: int
) -> None:
    digest = PipelinedSha256(3000, depth)
    for piece in pieces:
        buffer = digest.take()
        buffer[: len(piece)] = piece
        digest.update(buffer, len(piece))
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()


def source(data: bytes, piece: int, fail_after: int | None = None) -> Callable[[memoryview], int]:
    """A ``read_into`` over ``data`` in pieces of at most ``piece`` bytes; may fail midway."""
    offset = 0

    def read_into(buffer: memoryview) -> int:
        nonlocal offset
        if fail_after is not None and offset >= fail_after:
            raise OSError("connection reset")
        count = min(piece, len(buffer), len(data) - offset)
        buffer[:count] = data[offset : offset + count]
        offset += count
        return count

    return read_into


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[FileCache]:
    threads = threading.active_count()
    yield FileCache(tmp_path / "cache")
    assert threading.active_count() == threads  # no hashing thread left behind


@settings(max_examples=20, deadline=None)
@given(size=st.integers(0, 3 * READ_BUFFER + 7), piece=st.sampled_from([1000, 65536, READ_BUFFER]))
def test_store_from_keeps_the_exact_bytes(size: int, piece: int) -> None:
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32) + b"x" * (size % 32)
    cache = FileCache(Path(tempfile.mkdtemp(prefix="bastion-store-")))
    sha256 = hashlib.sha256(data).hexdigest()
    stored = cache.store_from(source(data, piece), sha256, limit=len(data))
    assert stored.read_bytes() == data and cache.has(sha256)
    assert not any(cache.tmp.iterdir())
    shutil.rmtree(cache.root)


def test_a_wrong_hash_a_size_over_the_limit_or_a_failed_read_leaves_nothing(
    cache: FileCache,
) -> None:
    data = b"abc" * READ_BUFFER  # three buffers: the hashing thread is used
    sha256 = hashlib.sha256(data).hexdigest()
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        cache.store_from(source(data, READ_BUFFER), "0" * 64, limit=len(data))
    with pytest.raises(IntegrityError, match="larger than the limit"):
        cache.store_from(source(data, READ_BUFFER), sha256, limit=len(data) - 1)
    with pytest.raises(OSError, match="connection reset"):
        cache.store_from(source(data, 65536, fail_after=2 * READ_BUFFER), sha256, len(data))
    assert not cache.has(sha256) and not cache.has("0" * 64)
    assert not any(cache.tmp.iterdir())
    stored = cache.store_from(source(data, 65536), sha256, limit=len(data))
    assert stored.read_bytes() == data


def write_calls() -> int:
    """write(2) calls made so far by this thread (``syscw`` of /proc/thread-self/io)."""
    for line in Path("/proc/thread-self/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/thread-self/io")


def test_a_fetched_file_is_written_at_most_a_slice_per_call(cache: FileCache) -> None:
    # 1 MiB writes made the kernel allocate large page-cache folios, 1.6 times
    # the proxy's CPU of 16 KiB writes for a cold 1 GB file (see WRITE_SLICE)
    data = bytes(range(256)) * ((3 * READ_BUFFER + 7) // 256) + b"tail"
    sha256 = hashlib.sha256(data).hexdigest()
    before = write_calls()
    stored = cache.store_from(source(data, READ_BUFFER), sha256, limit=len(data))
    calls = write_calls() - before
    pieces = [READ_BUFFER] * (len(data) // READ_BUFFER) + [len(data) % READ_BUFFER]
    assert calls == sum(math.ceil(piece / WRITE_SLICE) for piece in pieces if piece)
    assert stored.read_bytes() == data


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 4 * WRITE_SLICE + 3))
def test_write_in_slices_writes_every_byte_in_order(size: int) -> None:
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)
    data = data[:size]
    with tempfile.TemporaryFile() as out:
        before = write_calls()
        write_in_slices(out.fileno(), memoryview(data))
        assert write_calls() - before == math.ceil(size / WRITE_SLICE)
        out.seek(0)
        assert out.read() == data


FAILING_WRITE = """
import hashlib, resource, signal, sys
from pathlib import Path
from bastion._internal.proxy.cache import FileCache
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # mid-slice: a short write first
cache = FileCache(Path(sys.argv[1]))
data = b"q" * 300_000
offset = 0
def read_into(buffer):
    global offset
    count = min(len(buffer), len(data) - offset)
    buffer[:count] = data[offset : offset + count]
    offset += count
    return count
try:
    cache.store_from(read_into, hashlib.sha256(data).hexdigest(), limit=len(data))
except OSError as exc:
    print("failed", exc.errno)
"""


def test_a_write_that_fails_midway_leaves_nothing(tmp_path: Path) -> None:
    # a real failing write (the file size limit of the process), after a short write
    root = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-c", FAILING_WRITE, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["failed", "27"]  # EFBIG
    assert not any((root / "tmp").iterdir())
    assert not any((root / "files").iterdir())
