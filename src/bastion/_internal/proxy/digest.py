"""sha256 beside the download: a hashing thread works while the next piece is read.

The thread fetching a file reads a piece into a buffer, writes it to the
temporary file and hands the buffer over; a second thread hashes it and gives
the buffer back. hashlib and the file and socket calls all release the GIL, so
on two cores a file takes about ``max(read + write, hash)`` instead of their
sum. Memory stays bounded: ``depth`` buffers, the reader waits for a free one.
A file that fits in one buffer (most wheels) is hashed in the calling thread,
no second thread started.
"""

from __future__ import annotations

import hashlib
import queue
import threading

_Piece = tuple[memoryview, int]


class PipelinedSha256:
    """Buffers to read into and the sha256 of what was handed over, in order."""

    def __init__(self, size: int, depth: int = 4) -> None:
        self._digest = hashlib.sha256()
        self._free: queue.Queue[memoryview] = queue.Queue()
        for _ in range(max(2, depth)):
            self._free.put(memoryview(bytearray(size)))
        self._full: queue.Queue[_Piece | None] = queue.Queue()
        self._first: _Piece | None = None
        self._thread: threading.Thread | None = None

    def take(self) -> memoryview:
        """A buffer to read into (waits while every buffer is still being hashed)."""
        return self._free.get()

    def give_back(self, buffer: memoryview) -> None:
        """Return a buffer that holds nothing to hash (the read at the end)."""
        self._free.put(buffer)

    def update(self, buffer: memoryview, count: int) -> None:
        """Hash ``buffer[:count]`` (later or in the other thread); the buffer comes back after."""
        if self._thread is None:
            if self._first is None:  # maybe the only piece: no thread for it yet
                self._first = (buffer, count)
                return
            self._thread = threading.Thread(target=self._hash_pieces, daemon=True)
            self._thread.start()
            self._full.put(self._first)
        self._full.put((buffer, count))

    def hexdigest(self) -> str:
        """The sha256 of every piece handed over (waits for the hashing thread)."""
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        """Finish: hash what is pending and stop the thread (safe to call twice)."""
        if self._thread is None:
            if self._first is not None:
                buffer, count = self._first
                self._digest.update(buffer[:count])
                self._first = None
            return
        self._full.put(None)
        self._thread.join()
        self._thread = None
        self._first = None

    def _hash_pieces(self) -> None:
        while (piece := self._full.get()) is not None:
            buffer, count = piece
            self._digest.update(buffer[:count])
            self._free.put(buffer)
