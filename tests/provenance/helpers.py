"""Real attestations (tests/data/provenance) and small records built from them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from bastion._internal.model import Location
from bastion._internal.provenance.model import Artifact

DATA = Path(__file__).parent.parent / "data" / "provenance"
PA_FILE = "pypi_attestations-0.0.19.tar.gz"
PA_SHA = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
RFC_FILE = "rfc8785-0.1.2-py3-none-any.whl"
RFC_SHA = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
GL_FILE = "gitlab_oidc_project-0.0.3.tar.gz"
GL_SHA = "c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8"
PA_PUBLISHER = {
    "kind": "GitHub",
    "repository": "trailofbits/pypi-attestations",
    "workflow": "release.yml",
    "environment": None,
}
GL_PUBLISHER = {
    "kind": "GitLab",
    "repository": "facutuesca/gitlab-oidc-project",
    "workflow_filepath": ".gitlab-ci.yml",
    "environment": None,
}


def pa_provenance() -> bytes:
    """The Integrity API's provenance object for pypi_attestations-0.0.19.tar.gz."""
    return (DATA / f"{PA_FILE}.provenance").read_bytes()


def wrapped(attestation_file: str, publisher: Mapping[str, object]) -> bytes:
    """A provenance object holding one real attestation under ``publisher``."""
    attestation = json.loads((DATA / attestation_file).read_text())
    body = {
        "version": 1,
        "attestation_bundles": [{"publisher": publisher, "attestations": [attestation]}],
    }
    return json.dumps(body).encode()


def artifact(
    name: str = "pypi-attestations",
    version: str | None = "0.0.19",
    sha256: str = PA_SHA,
    filename: str | None = PA_FILE,
) -> Artifact:
    """An artifact as a lock would give it."""
    return Artifact(name, version, sha256, filename, Location(Path("requirements.txt"), 1))


def requirements(*lines: tuple[str, str, str]) -> str:
    """requirements.txt text pinning (name, version, sha256) entries."""
    return "".join(f"{n}=={v} --hash=sha256:{h}\n" for n, v, h in lines)
