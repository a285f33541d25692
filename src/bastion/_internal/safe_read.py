"""Reading untrusted files: bounded sizes, text only, line numbers on every error.

Every reader of a file bastion did not write goes through ``read_text`` (one
bounded read of a regular file, never a FIFO or device that would block or never
end) and ``parse_toml`` / ``parse_json`` (which turn every way the standard
parsers fail, nesting and over-long integer literals included, into one
``InputError`` naming the file and line).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from bastion._internal import toml
from bastion._internal.errors import InputError, UsageError

MAX_FILE_BYTES = 16 * 1024 * 1024  # no real requirements, pyproject or config comes near this
MAX_LOCK_BYTES = 64 * 1024 * 1024  # a 15,000-package uv.lock is 22 MB: lockfiles get more room
LOCK_LIMIT_VARIABLE = "BASTION_MAX_LOCK_MIB"
MAX_EXCERPT = 60
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")
_DIGIT_RUN = re.compile(r"[0-9_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def lock_limit() -> int:
    """The size bound for lockfiles: ``$BASTION_MAX_LOCK_MIB`` MiB, else 64 MiB."""
    value = os.environ.get(LOCK_LIMIT_VARIABLE, "").strip()
    if not value:
        return MAX_LOCK_BYTES
    if not value.isdigit() or not 1 <= int(value) <= 4096:
        raise UsageError(f"{LOCK_LIMIT_VARIABLE} must be a whole number of MiB from 1 to 4096")
    return int(value) * 1024 * 1024


def read_bytes(path: Path, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """At most ``limit`` bytes of a regular file; anything else, or anything larger, is refused.

    The file is opened without blocking (a FIFO would wait for a writer forever)
    and checked on the open descriptor (no race with a swapped path) before one
    read of ``limit + 1`` bytes, so ``/dev/zero`` costs nothing.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise InputError(path, "is a directory")
        raise InputError(path, "not a regular file (a FIFO, socket or device is never read)")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            # Sized by the file, not the limit: read(limit + 1) allocates the whole limit.
            data = handle.read(min(status.st_size, limit) + 1)
            if status.st_size < len(data) <= limit:  # it grew since fstat: read on to the limit
                data += handle.read(limit + 1 - len(data))
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(path, f"file is larger than the {_size(limit)} limit")
    return data


def read_text(path: Path, *, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file, refusing binary content and anything over ``limit`` bytes."""
    data = read_bytes(path, limit=limit)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "binary content (NUL byte), not a text file", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, "not valid UTF-8 text", line) from None
    return text.removeprefix("\ufeff")


def read_lock_text(path: Path) -> str:
    """Read a lockfile: the larger, configurable ``lock_limit()`` bound."""
    limit = lock_limit()
    try:
        return read_text(path, limit=limit)
    except InputError as exc:
        if "limit" not in exc.message:
            raise
        hint = f"; set {LOCK_LIMIT_VARIABLE} to raise it"
        raise InputError(path, exc.message + hint) from None


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """A short, printable quotation of untrusted text for an error message.

    Control and bidirectional characters become ``?`` and long text is cut, so
    an error line can neither carry a file's content away nor rewrite a terminal.
    """
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(_CONTROL.sub("?", short))


def _size(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _long_integer_line(text: str) -> int | None:
    """The line of the first integer literal Python refuses to convert (over 4,300 digits)."""
    bound = sys.get_int_max_str_digits() or 4300
    for match in _DIGIT_RUN.finditer(text):
        if match.end() - match.start() > bound:
            return text.count("\n", 0, match.start()) + 1
    return None


def _too_long_integer(path: Path, text: str, kind: str) -> InputError:
    bound = sys.get_int_max_str_digits() or 4300
    message = f"invalid {kind}: an integer literal longer than {bound:,} digits"
    return InputError(path, message, _long_integer_line(text))


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML text read from ``path``; syntax errors name the line."""
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        message = _TOML_POSITION.sub("", message).strip()
        raise InputError(path, f"invalid TOML: {message}", line) from None
    except RecursionError:
        raise InputError(path, "invalid TOML: nested too deeply") from None
    except ValueError:  # the parser converts integers with int(): over 4,300 digits raises
        raise _too_long_integer(path, text, "TOML") from None


def parse_json(path: Path, text: str) -> Any:
    """Parse JSON text read from ``path``; syntax errors name the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None
    except ValueError:  # the JSON scanner converts integers with int()
        raise _too_long_integer(path, text, "JSON") from None


def key_line(lines: list[str], name: str) -> int | None:
    """The 1-based line where a TOML key ``name = ...`` (bare or quoted) is first assigned."""
    pattern = re.compile(r"^\s*[\"']?" + re.escape(name) + r"[\"']?\s*=")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


class TomlLines:
    """Line numbers for TOML tables such as ``[[package]]`` entries.

    The TOML parser gives no positions, so readers map the n-th array-of-tables
    header (and the ``name = "..."`` inside it) back to its line for findings.
    Lines end at ``\\n``, as the parser counts them in its errors. ``offsets``
    holds where each header line starts in the text.
    """

    def __init__(self, text: str, header: str) -> None:
        self.offsets: list[int] = []
        self._starts: list[int] = []
        self._names: list[int | None] = []
        # Each match starts at the newline before its line: a literal first character lets
        # the regex engine skip to the next newline instead of trying every position.
        pattern = re.compile(
            r"\n[ \t]*(?:(\[\[[ \t]*"
            + re.escape(header)
            + r"[ \t]*\]\][ \t]*(?:#[^\n]*)?\r?$)|name[ \t]*=[ \t]*[\"'])",
            re.MULTILINE,
        )
        line, counted = 1, 0
        for match in pattern.finditer("\n" + text):  # offsets in text are one less
            start = match.start()  # where the line starts in text
            if match.group(1) is None and (not self._names or self._names[-1] is not None):
                continue  # a name outside any table, or after the table's first
            line += text.count("\n", counted, start)
            counted = start
            if match.group(1) is not None:
                self.offsets.append(start)
                self._starts.append(line)
                self._names.append(None)
            else:
                self._names[-1] = line

    def line_of(self, index: int) -> int | None:
        """Line of the ``name`` key of the ``index``-th table, or of its header."""
        if index >= len(self._starts):
            return None
        return self._names[index] or self._starts[index]


def describe_type(value: object) -> str:
    """A short type name for error messages about unexpected values."""
    return {dict: "table", list: "array", str: "string", int: "integer", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
