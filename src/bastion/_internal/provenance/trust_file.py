"""The trust file: the publisher each package is expected to have, reviewed like a lock.

``bastion provenance pin`` writes ``bastion-provenance.toml`` at the project
root from verified provenance; a change to it in a pull request is a new
party allowed to publish what the project installs, and deserves the same
review as a lock change::

    version = 1

    [[package]]
    name = "pypi-attestations"
    kind = "GitHub"
    repository = "trailofbits/pypi-attestations"
    workflow = "release.yml"
    environment = "release"      # optional

A package may have several entries (a move between repositories). Any
defect is an ``InputError`` naming the file and line (exit code 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.model import Location
from bastion._internal.provenance.model import Expectation, Identity
from bastion._internal.safe_read import TomlLines, parse_toml, read_text
from bastion._internal.safe_write import write_atomically

TRUST_FILE = "bastion-provenance.toml"
FORMAT_VERSION = 1
MAX_TRUST_BYTES = 4 * 1024 * 1024
KINDS = ("GitHub", "GitLab", "Google", "CircleCI")
_KEYS = frozenset({"name", "kind", "repository", "workflow", "environment"})
_HEADER = """\
# Expected publishers, written by `bastion provenance pin`.
# Review changes to this file like changes to a lock: a new repository,
# workflow or environment here is a new party allowed to publish a package
# this project installs.
"""


def trust_file_path(root: Path) -> Path:
    """Where a project keeps its trust file."""
    return root / TRUST_FILE


def read_trust_file(path: Path) -> dict[str, Expectation]:
    """The expectations a trust file holds, by canonical package name."""
    text = read_text(path, limit=MAX_TRUST_BYTES)
    data = parse_toml(path, text)
    lines = TomlLines(text, "package")
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise InputError(
            path, f"unsupported trust file version {str(version)[:20]!r} (expected 1)", 1
        )
    unknown = sorted(set(data) - {"version", "package"})
    if unknown:
        raise InputError(path, f"unknown key {unknown[0][:40]!r}", 1)
    entries = data.get("package", [])
    if not isinstance(entries, list):
        raise InputError(path, "'package' must be an array of tables ([[package]])", 1)
    found: dict[str, list[Identity]] = {}
    first_line: dict[str, int | None] = {}
    for index, entry in enumerate(entries):
        line = lines.line_of(index)
        if not isinstance(entry, dict):
            raise InputError(path, "each [[package]] must be a table", line)
        name, identity = _entry(path, line, entry)
        if identity in found.get(name, []):
            raise InputError(path, f"{name}: the same publisher is listed twice", line)
        found.setdefault(name, []).append(identity)
        first_line.setdefault(name, line)
    return {
        name: Expectation(name, tuple(ids), Location(path, first_line[name]), "trust file")
        for name, ids in found.items()
    }


def _entry(path: Path, line: int | None, entry: Mapping[str, object]) -> tuple[str, Identity]:
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise InputError(path, f"unknown key {unknown[0][:40]!r} in [[package]]", line)
    values = {}
    for key in _KEYS:
        value = entry.get(key, "")
        if not isinstance(value, str):
            raise InputError(path, f"{key!r} must be a string", line)
        values[key] = value.strip()
    if not values["name"]:
        raise InputError(path, "[[package]] needs a 'name'", line)
    if values["kind"] not in KINDS:
        shown = values["kind"][:40]
        raise InputError(
            path, f"unknown publisher kind {shown!r} (one of {', '.join(KINDS)})", line
        )
    if not values["repository"]:
        raise InputError(path, f"{values['name']}: 'repository' is required", line)
    if values["kind"] in ("GitHub", "GitLab") and not values["workflow"]:
        raise InputError(
            path, f"{values['name']}: 'workflow' is required for {values['kind']}", line
        )
    identity = Identity(
        values["kind"], values["repository"], values["workflow"], values["environment"]
    )
    return canonical(values["name"]), identity


def render_trust_file(pins: Mapping[str, Iterable[Identity]]) -> str:
    """The text of a trust file holding ``pins`` (sorted, stable, reviewable)."""
    out = [_HEADER, f"version = {FORMAT_VERSION}\n"]
    for name in sorted(pins):
        for identity in sorted(set(pins[name]), key=lambda i: (i.kind, i.repository, i.workflow)):
            out.append("\n[[package]]\n")
            out.append(f"name = {_quote(name)}\n")
            out.append(f"kind = {_quote(identity.kind)}\n")
            out.append(f"repository = {_quote(identity.repository)}\n")
            if identity.workflow:
                out.append(f"workflow = {_quote(identity.workflow)}\n")
            if identity.environment:
                out.append(f"environment = {_quote(identity.environment)}\n")
    return "".join(out)


def write_trust_file(path: Path, pins: Mapping[str, Iterable[Identity]]) -> None:
    """Write the trust file atomically."""
    write_atomically(path, render_trust_file(pins))


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
