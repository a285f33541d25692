"""Verify a PEP 740 provenance object for one artifact, offline, against a trusted root.

The pypi-attestations models read the provenance; sigstore's ``Verifier``,
built once from bastion's trusted root (never a TUF refresh), checks each
attestation's certificate chain, signed certificate timestamp, transparency
log inclusion and signature, under the policy of the publisher the
provenance names (repository and workflow bound to the certificate). Then the
in-toto statement must name exactly this file and this sha256, and carry a
PyPI attestation type: the checks ``Attestation.verify`` makes, which cannot
be given another trusted root.

Every defect is a ``failed`` result with its reason, never an exception: the
provenance comes from whoever served it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

from bastion._internal.provenance.model import (
    Artifact,
    ArtifactResult,
    Attested,
    Build,
    Identity,
    LogEntry,
    Outcome,
)

if TYPE_CHECKING:
    from pypi_attestations import Attestation, AttestationBundle
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy

MAX_PROVENANCE_BYTES = 1024 * 1024  # real ones are about 10 KiB
MAX_BUNDLES = 8
MAX_ATTESTATIONS = 16
PREDICATE_TYPES = frozenset(
    {"https://docs.pypi.org/attestations/publish/v1", "https://slsa.dev/provenance/v1"}
)
_CLAIMS = {
    "1.3.6.1.4.1.57264.1.8": "issuer",
    "1.3.6.1.4.1.57264.1.9": "build_signer",
    "1.3.6.1.4.1.57264.1.11": "runner",
    "1.3.6.1.4.1.57264.1.12": "source_repository",
    "1.3.6.1.4.1.57264.1.13": "source_commit",
    "1.3.6.1.4.1.57264.1.14": "source_ref",
    "1.3.6.1.4.1.57264.1.18": "build_config",
    "1.3.6.1.4.1.57264.1.20": "trigger",
    "1.3.6.1.4.1.57264.1.21": "run_url",
}


class Rejected(Exception):  # noqa: N818 - a verdict, not a program error
    """Why one provenance object does not verify (becomes a ``failed`` result)."""


class ProvenanceVerifier:
    """Verifies provenance objects against one trusted root (load once, verify many)."""

    def __init__(self, root: TrustedRoot) -> None:
        from sigstore.verify import Verifier

        self._verifier: Verifier = Verifier(trusted_root=root)

    @classmethod
    def from_file(cls, path: Path) -> ProvenanceVerifier:
        """A verifier for the trusted root in ``path`` (``InputError`` when it is unusable)."""
        from bastion._internal.provenance.trust_root import load_root

        return cls(load_root(path))

    def verify(self, artifact: Artifact, data: bytes, source: str) -> ArtifactResult:
        """The verdict on ``data`` (a provenance object) as the provenance of ``artifact``."""
        try:
            identity, attested = self._verify(artifact, data)
        except Rejected as exc:
            return ArtifactResult(artifact, Outcome.FAILED, reason=str(exc), source=source)
        if artifact.filename is None:  # a hash-only lock: name the file the statement signs
            artifact = replace(artifact, filename=attested[0].subject)
        return ArtifactResult(artifact, Outcome.VERIFIED, identity, attested, source=source)

    def _verify(self, artifact: Artifact, data: bytes) -> tuple[Identity, tuple[Attested, ...]]:
        from pydantic import ValidationError
        from pypi_attestations import Provenance

        if len(data) > MAX_PROVENANCE_BYTES:
            raise Rejected(f"provenance larger than {MAX_PROVENANCE_BYTES // 1024} KiB")
        raw = _json_object(data)
        version = raw.get("version", 1)
        if version != 1:
            raise Rejected(f"unknown provenance version {str(version)[:20]!r} (PEP 740 has 1)")
        bundles = raw.get("attestation_bundles")
        if not isinstance(bundles, list) or not bundles:
            raise Rejected("provenance has no attestation bundles")
        if len(bundles) > MAX_BUNDLES:
            raise Rejected(f"more than {MAX_BUNDLES} attestation bundles")
        for bundle in bundles:
            attestations = bundle.get("attestations") if isinstance(bundle, dict) else None
            if isinstance(attestations, list) and len(attestations) > MAX_ATTESTATIONS:
                raise Rejected(f"more than {MAX_ATTESTATIONS} attestations in a bundle")
        try:
            provenance = Provenance.model_validate(raw)
        except ValidationError as exc:
            raise Rejected(f"malformed provenance: {_first_error(exc)}") from None
        identities = []
        attested: list[Attested] = []
        for bundle in provenance.attestation_bundles:
            if not bundle.attestations:
                raise Rejected("an attestation bundle holds no attestation")
            identity = publisher_identity(bundle)
            policy = bundle.publisher._as_policy()
            for attestation in bundle.attestations:
                attested.append(self.verify_attestation(attestation, artifact, policy))
            identities.append(identity)
        if len(set(identities)) > 1:
            shown = "; ".join(sorted({i.display() for i in identities}))
            raise Rejected(f"bundles name different publishers: {shown}")
        return identities[0], tuple(attested)

    def verify_attestation(
        self, attestation: Attestation, artifact: Artifact, policy: VerificationPolicy
    ) -> Attested:
        """Check one attestation's signature, certificate identity and statement subject."""
        from sigstore.errors import Error as SigstoreError

        try:
            bundle = attestation.to_bundle()
            kind, payload = self._verifier.verify_dsse(bundle, policy)
        except SigstoreError as exc:
            raise Rejected(f"bad signature or certificate identity: {_short(exc)}") from None
        except (ValueError, TypeError) as exc:  # malformed certificate or entry
            raise Rejected(f"unreadable attestation: {_short(exc)}") from None
        if kind != "application/vnd.in-toto+json":
            raise Rejected(f"unexpected envelope payload type {kind[:60]!r}")
        predicate_type, subject = _check_statement(payload, artifact)
        return Attested(predicate_type, _build(attestation), _log_entry(attestation), subject)


def publisher_identity(bundle: AttestationBundle) -> Identity:
    """The publisher an attestation bundle names, as an ``Identity``."""
    from pypi_attestations import (
        CircleCIPublisher,
        GitHubPublisher,
        GitLabPublisher,
        GooglePublisher,
    )

    publisher = bundle.publisher
    if isinstance(publisher, GitHubPublisher):
        env = publisher.environment or ""
        return Identity("GitHub", publisher.repository, publisher.workflow, env)
    if isinstance(publisher, GitLabPublisher):
        return Identity(
            "GitLab", publisher.repository, publisher.workflow_filepath, publisher.environment or ""
        )
    if isinstance(publisher, GooglePublisher):
        return Identity("Google", publisher.email)
    if isinstance(publisher, CircleCIPublisher):
        return Identity("CircleCI", publisher.project_id, publisher.pipeline_definition_id)
    raise Rejected(f"unknown publisher kind {publisher.kind!r}")  # pragma: no cover - union


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise Rejected("provenance is not valid JSON") from None
    if not isinstance(value, dict):
        raise Rejected("provenance is not a JSON object")
    return value


def _check_statement(payload: bytes, artifact: Artifact) -> tuple[str, str]:
    try:
        statement = json.loads(payload)
    except (ValueError, RecursionError):
        raise Rejected("signed statement is not JSON") from None
    if not isinstance(statement, dict):
        raise Rejected("signed statement is not a JSON object")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise Rejected("signed statement must name exactly one subject")
    subject = subjects[0]
    name = subject.get("name")
    digest = subject.get("digest")
    if not isinstance(name, str) or not name:
        raise Rejected("signed statement's subject has no name")
    if not _same_file(name, artifact):
        raise Rejected(f"wrong subject name: the attestation is about {name[:120]!r}")
    sha256 = digest.get("sha256") if isinstance(digest, dict) else None
    if sha256 != artifact.sha256:
        raise Rejected(
            f"digest mismatch: the attestation signs sha256:{str(sha256)[:64]}, "
            f"the lock has sha256:{artifact.sha256}"
        )
    predicate_type = statement.get("predicateType")
    if predicate_type not in PREDICATE_TYPES:
        raise Rejected(f"unknown attestation type {str(predicate_type)[:80]!r}")
    return str(predicate_type), name


def parse_filename(filename: str) -> tuple[str, str] | None:
    """``(canonical name, canonical version)`` of a wheel or sdist file name, else ``None``."""
    try:
        if filename.endswith(".whl"):
            name, version, _, tags = parse_wheel_filename(filename)
            del tags
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return canonicalize_name(name), canonicalize_version(version)


def _same_file(subject: str, artifact: Artifact) -> bool:
    parsed = parse_filename(subject)
    if parsed is None:
        return False
    if artifact.filename is not None:
        if subject == artifact.filename:
            return True
        # The same distribution written differently (name normalisation, as PyPI allows).
        wanted = parse_filename(artifact.filename)
        same_kind = subject.endswith(".whl") == artifact.filename.endswith(".whl")
        if wanted is None or not same_kind or parsed != wanted:
            return False
        if subject.endswith(".whl"):
            return _wheel_tags(subject) == _wheel_tags(artifact.filename)
        return True
    version = canonicalize_version(artifact.version) if artifact.version else None
    return parsed[0] == artifact.name and (version is None or parsed[1] == version)


def _wheel_tags(filename: str) -> frozenset[object]:
    return frozenset(parse_wheel_filename(filename)[3])


def _build(attestation: Attestation) -> Build:
    try:
        claims = attestation.certificate_claims
    except (ValueError, TypeError):
        return Build()
    values = {field: claims.get(oid, "") for oid, field in _CLAIMS.items()}
    return Build(**values)


def _log_entry(attestation: Attestation) -> LogEntry | None:
    for entry in attestation.verification_material.transparency_entries:
        try:
            return LogEntry(int(entry["logIndex"]), int(entry.get("integratedTime", 0)))
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _first_error(exc: Any) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"[:200]


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:240] or type(exc).__name__
