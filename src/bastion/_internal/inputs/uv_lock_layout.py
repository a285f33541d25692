"""uv's own layout of one registry ``[[package]]`` entry, read by one regex match.

uv writes a registry package the same way every time::

    [[package]]
    name = "anyio"
    version = "4.4.0"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [
        { name = "idna" },
        { name = "exceptiongroup", marker = "python_full_version < '3.11'" },
    ]
    sdist = { url = "https://...", hash = "sha256:...", size = 173126, upload-time = "..." }
    wheels = [
        { url = "https://...", hash = "sha256:...", size = 89631, upload-time = "..." },
    ]

    [package.optional-dependencies]
    trio = [
        { name = "trio" },
    ]

``read_entry`` matches exactly that (the keys in uv's order, strings without
escapes, integers of at most 16 digits) and answers ``None`` for anything else
(a comment, an escape, other spacing or keys, metadata tables...), so the
caller parses that entry with the TOML parser, which stays the authority:
whatever this module answers, tomli answers too, with the same value (tested
with hypothesis on generated and mutated entries, and on real locks). One
regex match runs in C: on a 5,000-package lock it reads the entries in about a
third of tomli's time. Every pattern is linear: each repeated or optional
part starts with its own literal, so a failed match never backtracks far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A TOML basic string without escapes: no quote, backslash or control character but tab.
_S = r'"[^"\\\x00-\x08\x0a-\x1f\x7f]*"'
_INTEGER = r"(?:0|[1-9][0-9]{0,15})"
_KEY = r"[A-Za-z0-9_-]+"
_ARTIFACT = (
    rf"\{{ (url|path) = ({_S})(?:, hash = ({_S}))?(?:, size = ({_INTEGER}))?"
    rf"(?:, upload-time = ({_S}))? \}}"
)
_DEPENDENCY = rf"\{{ name = ({_S})(?:, extra = \[({_S}(?:, {_S})*)\])?(?:, marker = ({_S}))? \}}"
_DEPENDENCY_LINES = rf"(?:    {_DEPENDENCY},\n)*"
_NO_GROUPS = re.compile(r"\((?!\?)")


def _plain(pattern: str) -> str:
    """``pattern`` with its capturing groups made non-capturing (to nest it in another)."""
    return _NO_GROUPS.sub("(?:", pattern)


_GROUP = rf"({_KEY}) = \[\n({_plain(_DEPENDENCY_LINES)})\]\n"


_ENTRY = re.compile(
    rf"\[\[package\]\]\nname = ({_S})\nversion = ({_S})\n"
    rf"source = \{{ (registry|git|url|path|directory|editable|virtual) = ({_S}) \}}\n"
    rf"(?:dependencies = \[\n({_plain(_DEPENDENCY_LINES)})\]\n)?"
    rf"(?:sdist = ({_plain(_ARTIFACT)})\n)?"
    rf"(?:wheels = \[\n((?:    {_plain(_ARTIFACT)},\n)*)\]\n)?"
    rf"(?:\n\[package\.optional-dependencies\]\n((?:{_plain(_GROUP)})*))?"
    r"\n*"
)
_ARTIFACT_FIELDS = re.compile(_ARTIFACT)
_DEPENDENCY_FIELDS = re.compile(_DEPENDENCY)
_GROUP_FIELDS = re.compile(_GROUP)
_STRING = re.compile(_S)


@dataclass(frozen=True, slots=True)
class EntryFields:
    """What a package reader takes from an entry in uv's layout, quotes removed.

    ``artifacts`` holds ``(hash or None, upload-time or None)`` for the sdist,
    then each wheel; ``dependencies`` the names in ``dependencies`` and in every
    optional group, as written.
    """

    name: str
    version: str
    source: tuple[str, str]
    artifacts: list[tuple[str | None, str | None]]
    dependencies: list[str]


def entry_fields(text: str) -> EntryFields | None:
    """The fields of one ``[[package]]`` part in uv's layout, else ``None``."""
    match = _ENTRY.fullmatch(text)
    if match is None:
        return None
    name, version, kind, location, dependencies, sdist, wheels, groups = match.groups()
    artifacts = []
    if sdist is not None:
        artifacts.append(_ARTIFACT_FIELDS.fullmatch(sdist).groups())  # type: ignore[union-attr]
    if wheels is not None:
        artifacts += _ARTIFACT_FIELDS.findall(wheels)
    names = [found[0][1:-1] for found in _DEPENDENCY_FIELDS.findall(dependencies or "")]
    if groups is not None:
        keys = set()
        for key, lines in _GROUP_FIELDS.findall(groups):
            if key in keys:
                return None  # a key defined twice: the TOML parser refuses it
            keys.add(key)
            names += [found[0][1:-1] for found in _DEPENDENCY_FIELDS.findall(lines)]
    return EntryFields(
        name[1:-1],
        version[1:-1],
        (kind, location[1:-1]),
        [
            (digest[1:-1] if digest else None, uploaded[1:-1] if uploaded else None)
            for _, _, digest, _, uploaded in artifacts
        ],
        names,
    )


def read_entry(text: str) -> dict[str, Any] | None:
    """``{"package": [entry]}`` for one ``[[package]]`` part in uv's layout, else ``None``."""
    match = _ENTRY.fullmatch(text)
    if match is None:
        return None
    name, version, kind, location, dependencies, sdist, wheels, groups = match.groups()
    entry: dict[str, Any] = {
        "name": name[1:-1],
        "version": version[1:-1],
        "source": {kind: location[1:-1]},
    }
    if dependencies is not None:
        entry["dependencies"] = _dependencies(dependencies)
    if sdist is not None:
        entry["sdist"] = _artifact(_ARTIFACT_FIELDS.fullmatch(sdist).groups())  # type: ignore[union-attr]
    if wheels is not None:
        entry["wheels"] = [_artifact(fields) for fields in _ARTIFACT_FIELDS.findall(wheels)]
    if groups is not None:
        optional: dict[str, Any] = {}
        for key, lines in _GROUP_FIELDS.findall(groups):
            if key in optional:
                return None  # a key defined twice: the TOML parser refuses it
            optional[key] = _dependencies(lines)
        entry["optional-dependencies"] = optional
    return {"package": [entry]}


def _artifact(fields: tuple[str, ...]) -> dict[str, Any]:
    kind, location, digest, size, uploaded = fields
    artifact: dict[str, Any] = {kind: location[1:-1]}
    if digest:  # a matched string keeps its quotes: empty means absent
        artifact["hash"] = digest[1:-1]
    if size:
        artifact["size"] = int(size)
    if uploaded:
        artifact["upload-time"] = uploaded[1:-1]
    return artifact


def _dependencies(lines: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name, extras, marker in _DEPENDENCY_FIELDS.findall(lines):
        dependency: dict[str, Any] = {"name": name[1:-1]}
        if extras:
            dependency["extra"] = [extra[1:-1] for extra in _STRING.findall(extras)]
        if marker:
            dependency["marker"] = marker[1:-1]
        found.append(dependency)
    return found
