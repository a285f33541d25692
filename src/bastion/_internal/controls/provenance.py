"""The ``provenance`` control: PEP 740 attestations and publisher continuity (compromised-release,
tampering).

Configured when there is something to check against or with: a provenance
source (``--provenance-dir``, ``--online``) or an expected publisher (the
trust file ``bastion-provenance.toml``, pylock.toml ``attestation-identities``).
Otherwise it is ``not-configured`` at once, without importing the
verification libraries. Artifacts that no source could answer for make the
control ``error`` (fail closed) unless findings already fail it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bastion._internal.controls.base import Project, not_configured
from bastion._internal.model import ControlResult, ControlStatus, DependencySource, SourceFormat

if TYPE_CHECKING:
    from bastion._internal.provenance.run import Verification

CONTROL = "provenance"
TRUST_FILE = "bastion-provenance.toml"


class ProvenanceControl:
    """Verifies the provenance of locked artifacts and the continuity of their publishers."""

    id = CONTROL
    title = "Provenance and publisher continuity (PEP 740)"
    threats: tuple[str, ...] = ("compromised-release", "tampering")

    def __init__(
        self,
        provenance_dirs: tuple[Path, ...] = (),
        *,
        online: bool = False,
        index_url: str | None = None,
        trust_root: Path | None = None,
        trust_file: Path | None = None,
        cache: Path | None = None,
    ) -> None:
        self.provenance_dirs = provenance_dirs
        self.online = online
        self.index_url = index_url
        self.trust_root = trust_root
        self.trust_file = trust_file
        self.cache = cache
        self.verification: Verification | None = None  # the last run's per-artifact results

    def run(self, project: Project) -> ControlResult:
        """Verify every locked artifact with a sha256; ``not-configured`` without a source."""
        sources = project.inputs.sources
        trust_file = self.trust_file or project.root / TRUST_FILE
        expected = trust_file.is_file() or _names_identities(sources)
        if not (self.provenance_dirs or self.online or expected):
            return not_configured(
                self,
                "no provenance source and no expected publishers "
                "(--provenance-dir DIR, --online, or bastion provenance pin)",
            )
        from bastion._internal.provenance.run import (
            DEFAULT_INDEX,
            Options,
            index_base,
            verify_sources,
        )

        options = Options(
            provenance_dirs=self.provenance_dirs,
            online=self.online,
            index_url=self.index_url or index_base(project.config.public_index) or DEFAULT_INDEX,
            trust_root=self.trust_root,
            cache=self.cache,
            trust_file=self.trust_file,
        )
        from bastion._internal.provenance.trust_root import MissingExtraError

        try:
            verification = verify_sources(project.root, sources, options)
        except MissingExtraError as exc:
            return ControlResult(self.id, ControlStatus.ERROR, self.threats, (), str(exc))
        self.verification = verification
        if not verification.results:
            return not_configured(self, "no locked artifact with a sha256 to verify")
        detail = verification.summary()
        asked = bool(self.provenance_dirs or self.online)
        unknown = verification.unknown_reasons(None if asked else set(verification.expectations))
        findings = verification.findings
        if findings:
            return ControlResult(self.id, ControlStatus.FAIL, self.threats, findings, detail)
        if unknown:
            detail += f"; not checked: {unknown[0]}"
            return ControlResult(self.id, ControlStatus.ERROR, self.threats, (), detail)
        return ControlResult(self.id, ControlStatus.PASS, self.threats, (), detail)


def _names_identities(sources: tuple[DependencySource, ...]) -> bool:
    """A pylock.toml among ``sources`` names attestation identities (a text test, no imports)."""
    for source in sources:
        if source.format is SourceFormat.PYLOCK:
            try:
                if "attestation-identities" in source.path.read_text(errors="replace"):
                    return True
            except OSError:
                continue
    return False
