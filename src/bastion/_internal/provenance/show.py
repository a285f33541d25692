"""The files of one release for ``bastion provenance show``: the lock's, the index's, a folder's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_version

from bastion._internal.model import DependencySource, Location
from bastion._internal.provenance.locate import locked_artifacts
from bastion._internal.provenance.model import Artifact
from bastion._internal.provenance.run import Options
from bastion._internal.provenance.sources import (
    IntegritySource,
    Unavailable,
    provenance_files,
    signed_digests,
)
from bastion._internal.provenance.verify import parse_filename


def release_artifacts(
    name: str, version: str, sources: Sequence[DependencySource], options: Options
) -> list[Artifact]:
    """The files of ``name==version``: locked ones, else the index's, else the folders'."""
    wanted = canonicalize_version(version)
    locked = [
        a
        for a in locked_artifacts(sources)
        if a.name == name and a.version and canonicalize_version(a.version) == wanted
    ]
    if locked:
        return locked
    if options.online:
        integrity = IntegritySource(options.index_url, None)
        files = integrity.files(name)
        if not isinstance(files, Unavailable):
            where = Location(Path(integrity.index_url))
            return [
                Artifact(name, version, f.sha256, f.filename, where)
                for f in files
                if f.version == wanted
            ]
    found: list[Artifact] = []
    for folder in options.provenance_dirs:
        for path in provenance_files(folder):
            filename = path.name.removesuffix(".provenance")
            if parse_filename(filename) != (name, wanted):
                continue
            # No lock to compare with: the digest is the one the statement signs.
            for digest in signed_digests(path)[:1]:
                found.append(Artifact(name, version, digest, filename, Location(path)))
    return found
