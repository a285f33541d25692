"""Dependencies a pyproject.toml declares: PEP 621, PEP 735 groups, and Poetry's tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.inputs.index_config import read_index_configs
from bastion._internal.model import DeclaredDependency, DeclaredProject, Location
from bastion._internal.safe_read import key_line, parse_toml, read_text

MAX_GROUP_INCLUDES = 64


def parse_pyproject(path: Path) -> DeclaredProject:
    """Read the declared dependencies of a pyproject.toml."""
    text = read_text(path)
    data = parse_toml(path, text)
    finder = _LineFinder(text)
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise InputError(path, "[project] should be a table", finder.first("[project]"))
    deps: list[DeclaredDependency] = []
    main = project.get("dependencies", [])
    deps += _requirements(path, finder, main, "main", "dependencies")
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise InputError(path, "optional-dependencies should be a table", None)
    for extra, specs in optional.items():
        deps += _requirements(path, finder, specs, f"extra:{extra}", f"optional {extra!r}")
    groups = data.get("dependency-groups", {})
    if not isinstance(groups, dict):
        raise InputError(path, "[dependency-groups] should be a table", None)
    for group in groups:
        specs = _expand_group(path, groups, group, ())
        deps += _requirements(path, finder, specs, f"group:{group}", f"group {group!r}")
    deps += _poetry(path, finder, data)
    name = project.get("name")
    if not isinstance(name, str):
        poetry = data.get("tool", {}).get("poetry", {})
        name = poetry.get("name") if isinstance(poetry, dict) else None
    return DeclaredProject(
        path=path.resolve(),
        name=canonical(name) if isinstance(name, str) else None,
        dependencies=tuple(deps),
        index_configs=read_index_configs(path, text, data),
    )


def _expand_group(
    path: Path, groups: dict[str, Any], group: str, stack: tuple[str, ...]
) -> list[str]:
    """PEP 735: a group's requirements, with ``{include-group = ...}`` expanded."""
    if group in stack:
        raise InputError(path, f"dependency group cycle: {' -> '.join((*stack, group))}")
    if len(stack) > MAX_GROUP_INCLUDES or group not in groups:
        raise InputError(path, f"unknown dependency group {group!r}")
    items = groups[group]
    if not isinstance(items, list):
        raise InputError(path, f"dependency group {group!r} should be an array")
    specs: list[str] = []
    for item in items:
        if isinstance(item, str):
            specs.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            specs += _expand_group(path, groups, item["include-group"], (*stack, group))
        else:
            raise InputError(path, f"dependency group {group!r} has an invalid entry")
    return specs


def _requirements(
    path: Path, finder: _LineFinder, specs: object, group: str, what: str
) -> list[DeclaredDependency]:
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise InputError(path, f"{what} should be an array of strings")
    result = []
    for spec in specs:
        line = finder.string(spec)
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            first = str(exc).splitlines()[0]
            raise InputError(path, f"invalid requirement {spec!r}: {first}", line) from None
        result.append(
            DeclaredDependency(
                name=canonical(req.name),
                specifier=str(req.specifier),
                group=group,
                location=Location(path.resolve(), line),
                markers=str(req.marker) if req.marker else None,
            )
        )
    return result


def _poetry(path: Path, finder: _LineFinder, data: dict[str, Any]) -> list[DeclaredDependency]:
    """Poetry's ``[tool.poetry.dependencies]`` and group tables (Poetry 1.x style)."""
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    if not isinstance(poetry, dict):
        return []
    tables: list[tuple[str, object]] = [("main", poetry.get("dependencies", {}))]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        for group, table in groups.items():
            if isinstance(table, dict):
                tables.append((f"group:{group}", table.get("dependencies", {})))
    result = []
    for group, table in tables:
        if not isinstance(table, dict):
            raise InputError(path, f"poetry {group} dependencies should be a table")
        for raw_name, value in table.items():
            if raw_name.lower() == "python":
                continue
            optional = isinstance(value, dict) and value.get("optional") is True
            spec = value.get("version", "") if isinstance(value, dict) else value
            result.append(
                DeclaredDependency(
                    name=canonical(raw_name),
                    specifier=_poetry_specifier(spec if isinstance(spec, str) else ""),
                    group="extra:poetry" if optional else group,
                    location=Location(path.resolve(), finder.key(raw_name)),
                )
            )
    return result


def _poetry_specifier(spec: str) -> str:
    """Poetry's constraint syntax, approximated as PEP 440 (``^``/``~`` become lower bounds)."""
    spec = spec.strip()
    if spec in ("", "*"):
        return ""
    if spec[0] in "^~" and not spec.startswith("~="):
        return f">={spec.lstrip('^~').strip()}"
    if spec[0].isdigit():
        return f"=={spec}"
    return spec


class _LineFinder:
    """Finds the line of a string literal or key in the file for error messages."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def first(self, needle: str) -> int | None:
        for number, line in enumerate(self._lines, start=1):
            if needle in line:
                return number
        return None

    def string(self, value: str) -> int | None:
        return self.first(f'"{value}"') or self.first(f"'{value}'")

    def key(self, name: str) -> int | None:
        return key_line(self._lines, name)
