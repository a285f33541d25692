"""Which indexes a project's tools search, and which packages they pin to one.

Read from pyproject.toml: uv's ``[[tool.uv.index]]``, ``index-url``,
``extra-index-url``, ``index-strategy`` and ``[tool.uv.sources]``; Poetry's
``[[tool.poetry.source]]`` and the ``source = ...`` of its dependency tables.
The ``index-confusion`` control compares this with the index each locked
package came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.model import ConfiguredIndex, IndexConfig, IndexPin, Location
from bastion._internal.safe_read import TomlLines, key_line

PYPI_SIMPLE = "https://pypi.org/simple"
UV_MERGING_STRATEGIES = frozenset({"unsafe-first-match", "unsafe-best-match"})
POETRY_PRIORITIES = frozenset({"default", "primary", "secondary", "supplemental", "explicit"})
MAX_INDEXES = 1_000


def read_index_configs(path: Path, text: str, data: dict[str, Any]) -> tuple[IndexConfig, ...]:
    """The uv and Poetry index settings of one parsed pyproject.toml (none when absent)."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        return ()
    lines = text.splitlines()
    configs = []
    uv = tool.get("uv")
    if isinstance(uv, dict):
        configs.append(_uv(_Reader(path, text, lines), uv))
    poetry = tool.get("poetry")
    if isinstance(poetry, dict) and ("source" in poetry or _poetry_pins_present(poetry)):
        configs.append(_poetry(_Reader(path, text, lines), poetry))
    return tuple(c for c in configs if c.indexes or c.pins or c.merges_indexes)


class _Reader:
    """Values of one file with the line they are on, for findings and errors."""

    def __init__(self, path: Path, text: str, lines: list[str]) -> None:
        self.path = path.resolve()
        self.text = text
        self.lines = lines

    def at(self, line: int | None) -> Location:
        return Location(self.path, line)

    def key(self, name: str) -> Location:
        return self.at(key_line(self.lines, name))

    def fail(self, message: str, line: int | None = None) -> InputError:
        return InputError(self.path, message, line)

    def tables(self, value: object, header: str) -> list[tuple[dict[str, Any], int | None]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            line = self.key(header.rsplit(".", 1)[-1]).line
            raise self.fail(f"[[{header}]] should be an array of tables", line)
        if len(value) > MAX_INDEXES:
            raise self.fail(f"more than {MAX_INDEXES} [[{header}]] entries")
        positions = TomlLines(self.text, header)
        return [(table, positions.line_of(i)) for i, table in enumerate(value)]

    def string(self, table: dict[str, Any], key: str, line: int | None) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"{key!r} should be a string", line)
        return value

    def flag(self, table: dict[str, Any], key: str, line: int | None) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{key!r} should be true or false", line)
        return value


def _uv(reader: _Reader, uv: dict[str, Any]) -> IndexConfig:
    indexes: list[ConfiguredIndex] = []
    replaced = False
    for table, line in reader.tables(uv.get("index", []), "tool.uv.index"):
        url = reader.string(table, "url", line)
        if not url:
            raise reader.fail("[[tool.uv.index]] needs a 'url'", line)
        default = reader.flag(table, "default", line)
        replaced = replaced or default
        indexes.append(
            ConfiguredIndex(
                name=reader.string(table, "name", line),
                url=url,
                location=reader.at(line),
                explicit=reader.flag(table, "explicit", line),
                last=default,
            )
        )
    extra = uv.get("extra-index-url", [])
    if not isinstance(extra, list) or not all(isinstance(u, str) for u in extra):
        raise reader.fail("'extra-index-url' should be an array of strings")
    location = reader.key("extra-index-url")
    indexes += [ConfiguredIndex(None, url, location) for url in extra]
    primary = reader.string(uv, "index-url", reader.key("index-url").line)
    if primary:
        replaced = True
        indexes.append(ConfiguredIndex(None, primary, reader.key("index-url"), last=True))
    strategy = reader.string(uv, "index-strategy", reader.key("index-strategy").line)
    merging = reader.key("index-strategy") if strategy in UV_MERGING_STRATEGIES else None
    return IndexConfig(
        tool="uv",
        indexes=tuple(indexes),
        pins=tuple(_uv_pins(reader, uv.get("sources", {}))),
        merges_indexes=merging,
        default_replaced=replaced,
    )


def _uv_pins(reader: _Reader, sources: object) -> list[IndexPin]:
    if not isinstance(sources, dict):
        raise reader.fail("[tool.uv.sources] should be a table", reader.key("sources").line)
    pins = []
    for raw_name, value in sources.items():
        location = reader.key(raw_name)
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if not isinstance(entry, dict):
                raise reader.fail(f"source of {raw_name!r} should be a table", location.line)
            index = reader.string(entry, "index", location.line)
            if index:
                pins.append(IndexPin(canonical(raw_name), index, location))
    return pins


def _poetry(reader: _Reader, poetry: dict[str, Any]) -> IndexConfig:
    indexes: list[ConfiguredIndex] = []
    replaced = False
    for table, line in reader.tables(poetry.get("source", []), "tool.poetry.source"):
        name = reader.string(table, "name", line)
        url = reader.string(table, "url", line)
        if not url:
            if (name or "").lower() != "pypi":
                raise reader.fail("[[tool.poetry.source]] needs a 'url'", line)
            url = PYPI_SIMPLE
        priority = reader.string(table, "priority", line)
        if priority is None:
            if reader.flag(table, "default", line):
                priority = "default"
            elif reader.flag(table, "secondary", line):
                priority = "secondary"
            else:
                priority = "primary"
        if priority not in POETRY_PRIORITIES:
            raise reader.fail(f"unknown source priority {priority!r}", line)
        replaced = replaced or priority in ("default", "primary")
        indexes.append(
            ConfiguredIndex(
                name=name,
                url=url,
                location=reader.at(line),
                explicit=priority == "explicit",
                last=priority in ("secondary", "supplemental"),
            )
        )
    return IndexConfig(
        tool="poetry",
        indexes=tuple(indexes),
        pins=tuple(_poetry_pins(reader, poetry)),
        default_replaced=replaced,
    )


def _poetry_tables(poetry: dict[str, Any]) -> list[object]:
    tables: list[object] = [poetry.get("dependencies", {})]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        tables += [g.get("dependencies", {}) for g in groups.values() if isinstance(g, dict)]
    return tables


def _poetry_constraints(poetry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every ``(name, table)`` dependency constraint, lists of constraints included."""
    found = []
    for table in _poetry_tables(poetry):
        if not isinstance(table, dict):
            continue
        for raw_name, value in table.items():
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict):
                    found.append((raw_name, entry))
    return found


def _poetry_pins_present(poetry: dict[str, Any]) -> bool:
    return any("source" in entry for _, entry in _poetry_constraints(poetry))


def _poetry_pins(reader: _Reader, poetry: dict[str, Any]) -> list[IndexPin]:
    pins = []
    for raw_name, entry in _poetry_constraints(poetry):
        location = reader.key(raw_name)
        source = reader.string(entry, "source", location.line)
        if source:
            pins.append(IndexPin(canonical(raw_name), source, location))
    return pins
