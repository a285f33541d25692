"""An installed environment, read from its ``*.dist-info`` metadata without importing anything."""

from __future__ import annotations

import sys
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical, is_full_commit
from bastion._internal.model import (
    DependencySource,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import parse_json, read_text

MAX_METADATA_BYTES = 4 * 1024 * 1024
MAX_DISTRIBUTIONS = 50_000


def site_packages_of(target: Path | None) -> list[Path]:
    """The site-packages folders of a virtualenv or site-packages path (None: this Python)."""
    if target is None:
        return [Path(p) for p in sys.path if p and Path(p).is_dir() and _has_dist_info(Path(p))]
    if not target.exists():
        raise InputError(target, "no such environment")
    if target.name in ("site-packages", "dist-packages") or _has_dist_info(target):
        return [target]
    found = sorted(target.glob("lib/python3*/site-packages")) + sorted(
        target.glob("Lib/site-packages")
    )
    if not found:
        raise InputError(target, "not a virtual environment or site-packages directory")
    return found


def _has_dist_info(folder: Path) -> bool:
    return any(folder.glob("*.dist-info"))


def parse_environment(target: Path | None) -> DependencySource:
    """Read every installed distribution of an environment."""
    folders = site_packages_of(target)
    packages: dict[str, LockedPackage] = {}
    for folder in folders:
        for dist_info in sorted(folder.glob("*.dist-info")):
            if len(packages) >= MAX_DISTRIBUTIONS:
                raise InputError(folder, f"more than {MAX_DISTRIBUTIONS} distributions")
            package = _distribution(dist_info)
            if package is not None:
                packages.setdefault(package.name, package)
    if target is not None:
        path = target.resolve()
    else:
        path = folders[0].resolve() if folders else Path(sys.prefix).resolve()
    return DependencySource(
        path=path,
        format=SourceFormat.ENVIRONMENT,
        packages=tuple(sorted(packages.values(), key=lambda p: p.name)),
    )


def _distribution(dist_info: Path) -> LockedPackage | None:
    metadata_path = dist_info / "METADATA"
    if not metadata_path.is_file():
        return None
    headers = HeaderParser().parsestr(read_text(metadata_path, limit=MAX_METADATA_BYTES))
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        raise InputError(metadata_path, "metadata lacks Name or Version")
    dependencies = set()
    for spec in headers.get_all("Requires-Dist") or []:
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            continue  # an installed package's bad metadata must not stop the audit
        if req.marker is None or "extra" not in str(req.marker):
            dependencies.add(canonical(req.name))
    kind, source, commit = _direct_url(dist_info)
    return LockedPackage(
        name=canonical(name),
        version=version,
        location=Location(dist_info.resolve()),
        source_kind=kind,
        source=source,
        specifier=f"=={version}",
        dependencies=tuple(sorted(dependencies)),
        vcs_commit=commit,
    )


def _direct_url(dist_info: Path) -> tuple[SourceKind, str | None, str | None]:
    """PEP 610 ``direct_url.json``: how a package was installed when not from an index."""
    direct = dist_info / "direct_url.json"
    if not direct.is_file():
        return SourceKind.INSTALLED, None, None
    text = read_text(direct, limit=1024 * 1024)
    try:
        data = parse_json(direct, text)
    except InputError:
        return SourceKind.INSTALLED, None, None
    if not isinstance(data, dict):
        return SourceKind.INSTALLED, None, None
    url = data.get("url") if isinstance(data.get("url"), str) else None
    vcs_info = data.get("vcs_info")
    if isinstance(vcs_info, dict):
        commit = vcs_info.get("commit_id")
        ok = isinstance(commit, str) and is_full_commit(commit)
        return SourceKind.VCS, url, commit if ok else None
    dir_info = data.get("dir_info")
    if isinstance(dir_info, dict):
        editable = dir_info.get("editable") is True
        return (SourceKind.EDITABLE if editable else SourceKind.PATH), url, None
    return SourceKind.URL, url, None
