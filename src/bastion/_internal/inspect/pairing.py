"""A wheel against the sdist of the same version: its files should come from there."""

from __future__ import annotations

from bastion._internal.inspect.compare import artifact_paths, differences, is_code
from bastion._internal.inspect.hits import Hit
from bastion._internal.inspect.scan import ArtifactReport
from bastion._internal.model import Severity


def wheel_against_sdist(wheel: ArtifactReport, sdist: ArtifactReport) -> list[Hit]:
    """Wheel files the sdist lacks or holds with other bytes."""
    tree = {path: member.sha256 for path, member in artifact_paths(sdist.members, "sdist").items()}
    paths = artifact_paths(wheel.members, "wheel")
    hits = []
    for found in differences(paths, tree, lambda m: m.sha256, pure=wheel.pure):
        severity = Severity.HIGH if is_code(found.path) else Severity.LOW
        text = (
            f"not in the sdist {sdist.path.name}"
            if not found.other
            else f"differs from {found.other} in the sdist {sdist.path.name}"
        )
        hits.append(Hit("inspect-wheel-sdist", severity, found.member, None, text))
    return hits
