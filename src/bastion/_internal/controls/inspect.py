"""Artifact inspection in ``bastion check``: the locked artifacts bastion has on disk.

It looks up each locked sha256 in the artifact cache (``bastion inspect
--lock FILE --download`` fills it) and reads every wheel and sdist in the
folders of ``BASTION_INSPECT_DIR`` (``os.pathsep``-separated, e.g. a
wheelhouse). With nothing to inspect it is ``not-configured`` and reads
nothing; an artifact that cannot be read is an ``error`` (fail closed).
"""

from __future__ import annotations

import os
from pathlib import Path

from bastion._internal.controls.base import Project, not_configured
from bastion._internal.inspect.rules import CONTROL, THREATS
from bastion._internal.model import ControlResult

ENV_DIRS = "BASTION_INSPECT_DIR"
MAX_DIR_ARTIFACTS = 2000
ARTIFACT_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz")


class InspectControl:
    """Inspects the locked artifacts found locally, and every artifact in the inspect dirs."""

    id = CONTROL
    title = "Artifact inspection (install- and import-time payloads)"
    threats: tuple[str, ...] = THREATS

    def __init__(self, cache_dir: Path | None = None, dirs: tuple[Path, ...] | None = None) -> None:
        self.cache_dir = cache_dir
        self.dirs = dirs

    def run(self, project: Project) -> ControlResult:
        """Inspect what is on disk; ``not-configured`` when there is nothing."""
        from bastion._internal.inspect.fetch import cached_path, default_cache_dir

        cache = self.cache_dir or default_cache_dir()
        paths: set[Path] = set()
        if cache.is_dir():
            for source in project.inputs.sources:
                for package in source.packages:
                    for digest in package.hashes.get("sha256", ()):
                        found = cached_path(cache, digest.lower())
                        if found is not None:
                            paths.add(found)
        for folder in self._dirs():
            paths.update(_artifacts_in(folder))
        if not paths:
            return not_configured(
                self,
                "no locked artifact in the cache and no BASTION_INSPECT_DIR "
                "(bastion inspect --lock FILE --download fills the cache)",
            )
        from bastion._internal.inspect.limits import Limits
        from bastion._internal.inspect.session import inspect_paths, to_result

        return to_result(inspect_paths(sorted(paths), Limits(), strict=False))

    def _dirs(self) -> tuple[Path, ...]:
        if self.dirs is not None:
            return self.dirs
        value = os.environ.get(ENV_DIRS, "")
        return tuple(Path(p) for p in value.split(os.pathsep) if p)


def _artifacts_in(folder: Path) -> list[Path]:
    try:
        found = [
            p
            for p in folder.iterdir()
            if p.is_file() and p.name.lower().endswith(ARTIFACT_SUFFIXES)
        ]
    except OSError:
        return []
    return sorted(found)[:MAX_DIR_ARTIFACTS]
