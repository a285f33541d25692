"""The artifacts a lockfile pins, found in the cache by sha256 (or fetched from the index)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bastion._internal.errors import DownloadError
from bastion._internal.inspect.fetch import cached_path, download, release_files
from bastion._internal.model import LockedPackage


def locked_packages(locks: Sequence[Path]) -> list[LockedPackage]:
    """Every pinned package with a version and a sha256 in the lockfiles."""
    from bastion._internal.inputs.discovery import read_dependency_file

    packages: list[LockedPackage] = []
    for lock in locks:
        source = read_dependency_file(lock)
        packages.extend(p for p in source.packages if p.version and p.hashes.get("sha256"))
    return packages


def locked_artifacts(
    locks: Sequence[Path], cache: Path, index: str | None
) -> tuple[list[Path], list[str]]:
    """(cached artifacts, ``name==version`` of packages with none), downloading when ``index``."""
    found: list[Path] = []
    missing: list[str] = []
    for package in locked_packages(locks):
        hashes = package.hashes.get("sha256", ())
        paths = [p for p in (cached_path(cache, h.lower()) for h in hashes) if p is not None]
        if not paths and index is not None and package.version is not None:
            try:
                files = release_files(index, package.name, package.version)
                paths = [download(f, cache) for f in files if f.sha256 in hashes]
            except DownloadError as exc:
                missing.append(f"{package.name}=={package.version} ({exc.one_line()})")
                continue
        if not paths:
            missing.append(f"{package.name}=={package.version}")
        found.extend(paths)
    return sorted(set(found)), missing
