"""poetry.lock, as written by Poetry 1.x (lock-version 1.1 and 2.0) and 2.x (2.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion._internal.inputs.common import canonical, is_full_commit
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
    "legacy": SourceKind.REGISTRY,
    "git": SourceKind.VCS,
    "url": SourceKind.URL,
    "file": SourceKind.PATH,
    "directory": SourceKind.PATH,
}
PYPI = "https://pypi.org/simple"


def parse_poetry_lock(path: Path) -> DependencySource:
    """Read a poetry.lock file of any released lock-version."""
    text = read_lock_text(path)
    data = parse_toml(path, text)
    fields = Fields(path, TomlLines(text, "package").line_of)
    metadata = fields.get(data, "metadata", dict, None, {})
    if "package" not in data and not metadata:
        raise fields.fail("not a poetry.lock file: no [[package]] or [metadata]")
    # lock-version 1.x keeps the files of every package under [metadata.files].
    legacy_files = fields.get(metadata, "files", dict, None, {})
    packages = [
        _package(fields, index, entry, legacy_files)
        for index, entry in enumerate(fields.tables(data.get("package", []), "'package'"))
    ]
    return DependencySource(
        path=path.resolve(),
        format=SourceFormat.POETRY_LOCK,
        packages=tuple(packages),
        indexes=registry_settings(packages),
        per_package_index=True,
    )


def _package(
    fields: Fields, index: int, entry: dict[str, Any], legacy_files: dict[str, Any]
) -> LockedPackage:
    raw_name = fields.require(entry, "name", str, index)
    name = canonical(raw_name)
    version = fields.require(entry, "version", str, index)
    files = entry.get("files")
    if files is None:
        files = legacy_files.get(raw_name, legacy_files.get(name, []))
    hashes, _ = artifact_digests(fields, index, fields.tables(files, f"'files' of {name}", index))
    source = fields.get(entry, "source", dict, index, {})
    kind, url, commit = _source(fields, index, source)
    dependencies = fields.get(entry, "dependencies", dict, index, {})
    groups = fields.strings(entry.get("groups", []), f"'groups' of {name}", index)
    markers = entry.get("markers")
    return LockedPackage(
        name=name,
        version=version,
        location=Location(fields.resolved, fields.line(index)),
        hashes=hashes,
        source_kind=kind,
        source=url,
        specifier=f"=={version}",
        markers=markers if isinstance(markers, str) else None,
        dependencies=tuple(sorted(canonical(d) for d in dependencies)),
        vcs_commit=commit,
        groups=tuple(groups),
    )


def _source(
    fields: Fields, index: int, source: dict[str, Any]
) -> tuple[SourceKind, str | None, str | None]:
    if not source:
        return SourceKind.REGISTRY, PYPI, None
    kind_name = fields.get(source, "type", str, index, "")
    kind = _SOURCE_KINDS.get(kind_name)
    if kind is None:
        raise fields.fail(f"unknown source type {kind_name!r}", index)
    url = fields.get(source, "url", str, index, "") or None
    commit = None
    if kind is SourceKind.VCS:
        resolved = fields.get(source, "resolved_reference", str, index, "")
        commit = resolved if is_full_commit(resolved) else None
    if kind is SourceKind.PATH and fields.get(source, "develop", bool, index, False):
        kind = SourceKind.EDITABLE
    return kind, url, commit
