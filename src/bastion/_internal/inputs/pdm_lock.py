"""pdm.lock, as written by PDM (lock_version 4.x, and the older [metadata.files] layout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from bastion._internal.inputs.common import canonical, is_full_commit
from bastion._internal.inputs.fields import Fields, artifact_digests
from bastion._internal.model import (
    DependencySource,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import TomlLines, parse_toml, read_lock_text


def parse_pdm_lock(path: Path) -> DependencySource:
    """Read a pdm.lock file."""
    text = read_lock_text(path)
    data = parse_toml(path, text)
    fields = Fields(path, TomlLines(text, "package").line_of)
    metadata = fields.get(data, "metadata", dict, None, {})
    if not metadata:
        raise fields.fail("not a pdm.lock file: no [metadata] table")
    legacy_files = fields.get(metadata, "files", dict, None, {})
    packages = [
        _package(fields, index, entry, legacy_files)
        for index, entry in enumerate(fields.tables(data.get("package", []), "'package'"))
    ]
    return DependencySource(
        path=path.resolve(), format=SourceFormat.PDM_LOCK, packages=tuple(packages)
    )


def _package(
    fields: Fields, index: int, entry: dict[str, Any], legacy_files: dict[str, Any]
) -> LockedPackage:
    raw_name = fields.require(entry, "name", str, index)
    name = canonical(raw_name)
    version = fields.get(entry, "version", str, index, "") or None
    files = entry.get("files")
    if files is None:
        files = legacy_files.get(f"{raw_name} {version}", [])
    hashes, _ = artifact_digests(fields, index, fields.tables(files, f"'files' of {name}", index))
    kind, source, commit = SourceKind.REGISTRY, None, None
    if "git" in entry:
        kind, source = SourceKind.VCS, fields.get(entry, "git", str, index, "")
        revision = fields.get(entry, "revision", str, index, "")
        commit = revision if is_full_commit(revision) else None
    elif "path" in entry:
        editable = fields.get(entry, "editable", bool, index, False)
        kind = SourceKind.EDITABLE if editable else SourceKind.PATH
        source = fields.get(entry, "path", str, index, "")
    elif "url" in entry:
        kind, source = SourceKind.URL, fields.get(entry, "url", str, index, "")
    dependencies = set()
    for spec in fields.strings(entry.get("dependencies", []), f"'dependencies' of {name}", index):
        try:
            dependencies.add(canonical(Requirement(spec).name))
        except InvalidRequirement:
            raise fields.fail(f"invalid dependency {spec!r} of {name}", index) from None
    groups = fields.strings(entry.get("groups", []), f"'groups' of {name}", index)
    marker = fields.get(entry, "marker", str, index, "") or None
    return LockedPackage(
        name=name,
        version=version,
        location=Location(fields.resolved, fields.line(index)),
        hashes=hashes,
        source_kind=kind,
        source=source,
        specifier=f"=={version}" if version else "",
        markers=marker,
        dependencies=tuple(sorted(dependencies)),
        vcs_commit=commit,
        groups=tuple(groups),
    )
