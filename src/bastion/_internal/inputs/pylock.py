"""pylock.toml (PEP 751), as written by uv, pip and others."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bastion._internal.inputs.common import canonical, is_full_commit
from bastion._internal.inputs.fields import Fields, add_hash, frozen, newest, registry_settings
from bastion._internal.model import (
    DependencySource,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import TomlLines, parse_toml, read_lock_text

SUPPORTED_MAJOR = "1"


def parse_pylock(path: Path) -> DependencySource:
    """Read a PEP 751 lock file (``pylock.toml`` or ``pylock.NAME.toml``)."""
    text = read_lock_text(path)
    data = parse_toml(path, text)
    fields = Fields(path, TomlLines(text, "packages").line_of)
    lock_version = data.get("lock-version")
    if not isinstance(lock_version, str):
        raise fields.fail("not a PEP 751 lock: missing string 'lock-version'")
    if lock_version.split(".", 1)[0] != SUPPORTED_MAJOR:
        raise fields.fail(f"unsupported lock-version {lock_version!r} (PEP 751 allows 1.x)")
    packages = [
        _package(fields, index, entry)
        for index, entry in enumerate(fields.tables(data.get("packages", []), "'packages'"))
    ]
    return DependencySource(
        path=path.resolve(),
        format=SourceFormat.PYLOCK,
        packages=tuple(packages),
        indexes=registry_settings(packages),
        per_package_index=True,
    )


def _package(fields: Fields, index: int, entry: dict[str, Any]) -> LockedPackage:
    name = canonical(fields.require(entry, "name", str, index))
    version = fields.get(entry, "version", str, index, "") or None
    hashes: dict[str, list[str]] = {}
    times: list[datetime | None] = []
    artifacts: list[dict[str, Any]] = []
    for key in ("sdist", "archive"):
        if key in entry:
            artifacts.append(fields.get(entry, key, dict, index, {}))
    artifacts += fields.tables(entry.get("wheels", []), f"'wheels' of {name}", index)
    for artifact in artifacts:
        for algo, digest in fields.get(artifact, "hashes", dict, index, {}).items():
            if not isinstance(digest, str):
                raise fields.fail(f"hash {algo!r} of {name} should be a string", index)
            add_hash(hashes, algo.lower(), digest.lower())
        times.append(fields.timestamp(artifact.get("upload-time"), index))
    kind, source, commit = _source(fields, index, entry, artifacts)
    deps = fields.tables(entry.get("dependencies", []), f"'dependencies' of {name}", index)
    dependencies = tuple(
        sorted({canonical(d["name"]) for d in deps if isinstance(d.get("name"), str)})
    )
    marker = fields.get(entry, "marker", str, index, "") or None
    return LockedPackage(
        name=name,
        version=version,
        location=Location(fields.resolved, fields.line(index)),
        hashes=frozen(hashes),
        source_kind=kind,
        source=source,
        specifier=f"=={version}" if version else "",
        markers=marker,
        dependencies=dependencies,
        upload_time=newest(times),
        vcs_commit=commit,
    )


def _source(
    fields: Fields, index: int, entry: dict[str, Any], artifacts: list[dict[str, Any]]
) -> tuple[SourceKind, str | None, str | None]:
    if "vcs" in entry:
        vcs = fields.get(entry, "vcs", dict, index, {})
        commit = fields.get(vcs, "commit-id", str, index, "")
        url = fields.get(vcs, "url", str, index, "") or fields.get(vcs, "path", str, index, "")
        return SourceKind.VCS, url or None, commit if is_full_commit(commit) else None
    if "directory" in entry:
        directory = fields.get(entry, "directory", dict, index, {})
        editable = fields.get(directory, "editable", bool, index, False)
        path = fields.get(directory, "path", str, index, "")
        return (SourceKind.EDITABLE if editable else SourceKind.PATH), path or None, None
    index_url = fields.get(entry, "index", str, index, "")
    if index_url:
        return SourceKind.REGISTRY, index_url, None
    for artifact in artifacts:
        remote = artifact.get("url")
        if isinstance(remote, str) and remote:
            kind = SourceKind.PATH if remote.startswith("file:") else SourceKind.URL
            return kind, remote, None
        local = artifact.get("path")
        if isinstance(local, str) and local:
            return SourceKind.PATH, local, None
    return SourceKind.REGISTRY, None, None
