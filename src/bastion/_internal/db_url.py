"""Database names as users write them: a path, or a SQLAlchemy-style ``sqlite:///PATH`` URL.

``sqlite:///relative/file.db`` and ``sqlite:////absolute/file.db`` name a file,
as in SQLAlchemy; ``sqlite://`` (in memory) and URL query options name no file
to keep and are refused, as is any other scheme where a SQLite file is meant.
"""

from __future__ import annotations

from pathlib import Path

from bastion._internal.errors import UsageError

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(value: str, option: str = "--db") -> Path:
    """The file a ``--db`` value names; ``UsageError`` for a URL that names no SQLite file."""
    if value.startswith("sqlite:"):
        rest = value.removeprefix(SQLITE_PREFIX) if value.startswith(SQLITE_PREFIX) else ""
        if not rest or "?" in rest:
            raise UsageError(
                f"{option} {value!r}: a SQLite URL names a file: sqlite:///relative/path or "
                "sqlite:////absolute/path (no in-memory database, no query options)"
            )
        return Path(rest).expanduser()
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise UsageError(
            f"{option} {scheme}://...: this database is a SQLite file (a path or sqlite:///PATH)"
        )
    return Path(value).expanduser()
