"""One verifier per test session (the trusted root is read once, as in a real run)."""

from __future__ import annotations

import pytest

from bastion._internal.provenance.trust_root import bundled_root
from bastion._internal.provenance.verify import ProvenanceVerifier


@pytest.fixture(scope="session")
def verifier() -> ProvenanceVerifier:
    """A verifier for the trusted root bastion ships."""
    return ProvenanceVerifier.from_file(bundled_root())
