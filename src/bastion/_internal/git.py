"""Read-only questions to git about a file's history: when was it committed, what was it before.

The repository being inspected may be hostile, and its ``.git/config`` can
name programs (pagers, signature checkers, fsmonitor hooks) that git would
run. Every call here therefore runs plumbing-level commands that use none of
them, overrides those settings on the command line, ignores the system
configuration, and is bounded in time and output. When git is missing, the
file is not in a repository, or git refuses, the answer is ``None``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

TIMEOUT_SECONDS = 10
MAX_BLOB_BYTES = 16 * 1024 * 1024
_HARDENING = (
    "--no-pager",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "log.showSignature=false",
    "-c",
    "core.pager=cat",
    "-c",
    "safe.directory=*",
)


@dataclass(frozen=True, slots=True)
class FileHistory:
    """The commits that last changed a file, and whether the working copy matches the newest."""

    last_commit: str
    committed_at: datetime
    unmodified: bool  # the file on disk is the committed one
    previous_commit: str | None  # the commit before ``last_commit`` that changed it, if any


def _in_repository(path: Path) -> bool:
    return any((folder / ".git").exists() for folder in (path.parent, *path.parent.parents))


def _git(folder: Path, *args: str) -> bytes | None:
    executable = shutil.which("git")
    if executable is None:
        return None
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "LC_ALL": "C",
    }
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [executable, "-C", str(folder), *_HARDENING, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def blob_id(data: bytes, length: int) -> str:
    """The id git gives a blob with these bytes (SHA-1, or SHA-256 for 64-hex repositories)."""
    digest = hashlib.sha256 if length == 64 else hashlib.sha1
    return digest(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def file_history(path: Path) -> FileHistory | None:
    """When ``path`` was last committed, and whether the copy on disk is that commit's."""
    path = path.resolve()
    if not _in_repository(path):
        return None
    output = _git(path.parent, "log", "-n", "2", "--format=%H %ct", "--", path.name)
    if not output:
        return None
    rows = [line.split() for line in output.decode("ascii", "replace").splitlines()]
    try:
        last, seconds = rows[0][0], int(rows[0][1])
    except (IndexError, ValueError):
        return None
    committed = _git(path.parent, "rev-parse", f"{last}:./{path.name}")
    from bastion._internal.errors import InputError
    from bastion._internal.safe_read import lock_limit, read_bytes

    try:  # bounded, regular files only: the file may have been swapped since it was read
        current = read_bytes(path, limit=lock_limit())
    except InputError:
        return None
    expected = committed.decode("ascii", "replace").strip() if committed else ""
    return FileHistory(
        last_commit=last,
        committed_at=datetime.fromtimestamp(seconds, UTC),
        unmodified=bool(expected) and blob_id(current, len(expected)) == expected,
        previous_commit=rows[1][0] if len(rows) > 1 and rows[1] else None,
    )


def file_at(path: Path, commit: str) -> bytes | None:
    """The bytes of ``path`` as of ``commit`` (bounded), or ``None``."""
    path = path.resolve()
    if not commit or not all(c in "0123456789abcdef" for c in commit):
        return None
    spec = f"{commit}:./{path.name}"
    size = _git(path.parent, "cat-file", "-s", spec)  # asked first: the history may be hostile
    try:
        if size is None or int(size) > MAX_BLOB_BYTES:
            return None
    except ValueError:
        return None
    return _git(path.parent, "cat-file", "blob", spec)


def last_author(folder: Path) -> str | None:
    """The author name of the newest commit of the repository holding ``folder`` (read-only)."""
    if not (folder / ".git").exists() and not _in_repository(folder / "x"):
        return None
    output = _git(folder, "log", "-1", "--no-show-signature", "--format=%an")
    if output is None:
        return None
    name = output.decode("utf-8", "replace").strip()
    return name[:200] or None
