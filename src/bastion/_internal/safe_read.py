"""Reading untrusted files: bounded sizes, text only, line numbers on every error."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError

MAX_FILE_BYTES = 16 * 1024 * 1024  # no real lockfile comes near this
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def read_text(path: Path, *, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file, refusing binary content and anything over ``limit`` bytes."""
    try:
        if path.exists() and not path.is_file():
            # A FIFO or device would block or never end: only regular files are read.
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise InputError(path, f"is {kind}" if kind.startswith("a ") else kind)
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(path, f"file is larger than the {limit // (1024 * 1024)} MiB limit")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "binary content (NUL byte), not a text file", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, "not valid UTF-8 text", line) from None
    return text.removeprefix("\ufeff")


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML text read from ``path``; syntax errors name the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        message = _TOML_POSITION.sub("", message).strip()
        raise InputError(path, f"invalid TOML: {message}", line) from None
    except RecursionError:
        raise InputError(path, "invalid TOML: nested too deeply") from None


def parse_json(path: Path, text: str) -> Any:
    """Parse JSON text read from ``path``; syntax errors name the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None


def key_line(lines: list[str], name: str) -> int | None:
    """The 1-based line where a TOML key ``name = ...`` (bare or quoted) is first assigned."""
    pattern = re.compile(r"^\s*[\"']?" + re.escape(name) + r"[\"']?\s*=")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


class TomlLines:
    """Approximate line numbers for TOML tables such as ``[[package]]`` entries.

    tomllib gives no positions, so readers map the n-th array-of-tables header
    (and the ``name = "..."`` inside it) back to its line for findings.
    """

    def __init__(self, text: str, header: str) -> None:
        self._starts: list[int] = []
        self._names: list[dict[str, int]] = []
        pattern = re.compile(r"^\s*\[\[\s*" + re.escape(header) + r"\s*\]\]\s*(#.*)?$")
        key_line = re.compile(r"""^\s*name\s*=\s*["']""")
        current: dict[str, int] | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.match(line):
                self._starts.append(number)
                current = {}
                self._names.append(current)
            elif current is not None and "name" not in current:
                m = key_line.match(line)
                if m:
                    current["name"] = number

    def line_of(self, index: int) -> int | None:
        """Line of the ``name`` key of the ``index``-th table, or of its header."""
        if index >= len(self._starts):
            return None
        return self._names[index].get("name", self._starts[index])


def describe_type(value: object) -> str:
    """A short type name for error messages about unexpected values."""
    return {dict: "table", list: "array", str: "string", int: "integer", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
