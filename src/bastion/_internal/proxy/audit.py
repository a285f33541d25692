"""The audit log: one JSON line per decision (what, why, for which client).

Each line is written with a single ``write`` on a file opened for appending,
so lines of several workers and instances sharing the file do not interleave
(POSIX ``O_APPEND``; lines are kept short of the pipe-buffer size).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

MAX_LINE = 4000


class AuditLog:
    """Appends decisions to a JSON-lines file (or nowhere, when no path is given)."""

    def __init__(self, path: Path | None, instance: str = "") -> None:
        self.instance = instance
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    def write(self, event: str, **fields: object) -> None:
        """Append one record: time, instance, event and the given fields."""
        if self._fd is None:
            return
        record: dict[str, object] = {
            "time": datetime.now(UTC).isoformat(),
            "instance": self.instance,
            "event": event,
        }
        record.update(fields)
        line = json.dumps(record, separators=(",", ":"), default=str)
        if len(line) > MAX_LINE:
            record["reason"] = str(record.get("reason", ""))[:500]
            line = json.dumps(record, separators=(",", ":"), default=str)[:MAX_LINE]
        os.write(self._fd, (line + "\n").encode())

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
