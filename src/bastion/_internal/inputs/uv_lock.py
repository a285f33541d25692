"""uv.lock: uv's universal lockfile (TOML, ``version = 1``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion._internal.inputs.common import canonical, is_full_commit, parse_duration
from bastion._internal.inputs.fields import Fields, artifact_digests, registry_settings
from bastion._internal.model import (
    DependencySource,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import TomlLines, parse_toml, read_lock_text

_SOURCE_KINDS = {
    "registry": SourceKind.REGISTRY,
    "git": SourceKind.VCS,
    "url": SourceKind.URL,
    "path": SourceKind.PATH,
    "directory": SourceKind.PATH,
    "editable": SourceKind.EDITABLE,
    "virtual": SourceKind.VIRTUAL,
}


def parse_uv_lock(path: Path) -> DependencySource:
    """Read a uv.lock file."""
    text = read_lock_text(path)
    data = parse_toml(path, text)
    fields = Fields(path, TomlLines(text, "package").line_of)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fields.fail("not a uv.lock file: missing integer 'version'")
    packages = [
        _package(fields, index, entry)
        for index, entry in enumerate(fields.tables(data.get("package", []), "'package'"))
    ]
    options = fields.get(data, "options", dict, None, {})
    cutoff = fields.timestamp(options.get("exclude-newer"), None)
    span_text = fields.get(options, "exclude-newer-span", str, None, "")
    span = parse_duration(span_text) if span_text else None
    if span_text and span is None:
        raise fields.fail(f"invalid exclude-newer-span {span_text!r}")
    return DependencySource(
        path=path.resolve(),
        format=SourceFormat.UV_LOCK,
        packages=tuple(packages),
        indexes=registry_settings(packages),
        per_package_index=True,
        exclude_newer=cutoff,
        exclude_newer_span=span,
    )


def _package(fields: Fields, index: int, entry: dict[str, Any]) -> LockedPackage:
    name = canonical(fields.require(entry, "name", str, index))
    version = fields.get(entry, "version", str, index, "") or None
    source = fields.get(entry, "source", dict, index, {})
    kind, location_value = _source(fields, index, source)
    artifacts = [fields.get(entry, "sdist", dict, index, {})] if "sdist" in entry else []
    artifacts += fields.tables(entry.get("wheels", []), f"'wheels' of {name}", index)
    hashes, uploaded = artifact_digests(fields, index, artifacts)
    commit = None
    if kind is SourceKind.VCS and location_value and "#" in location_value:
        fragment = location_value.rsplit("#", 1)[1]
        commit = fragment if is_full_commit(fragment) else None
    dependencies = _dependency_names(fields, index, entry)
    return LockedPackage(
        name=name,
        version=version,
        location=Location(fields.resolved, fields.line(index)),
        hashes=hashes,
        source_kind=kind,
        source=location_value,
        specifier=f"=={version}" if version else "",
        dependencies=dependencies,
        upload_time=uploaded,
        vcs_commit=commit,
    )


def _source(fields: Fields, index: int, source: dict[str, Any]) -> tuple[SourceKind, str | None]:
    for key, kind in _SOURCE_KINDS.items():
        if key in source:
            value = source[key]
            if not isinstance(value, str):
                raise fields.fail(f"source {key!r} should be a string", index)
            return kind, value
    if source:
        raise fields.fail(f"unknown package source {sorted(source)}", index)
    return SourceKind.REGISTRY, None


def _dependency_names(fields: Fields, index: int, entry: dict[str, Any]) -> tuple[str, ...]:
    names: set[str] = set()
    groups = [entry.get("dependencies", [])]
    for key in ("optional-dependencies", "dev-dependencies"):
        table = fields.get(entry, key, dict, index, {})
        groups.extend(table.values())
    for group in groups:
        for dep in fields.tables(group, "dependencies", index):
            names.add(canonical(fields.require(dep, "name", str, index)))
    return tuple(sorted(names))
