"""The provenance layer's domain model: artifacts, publisher identities, verification results."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bastion._internal.model import Location


@dataclass(frozen=True, slots=True)
class Artifact:
    """One locked distribution file: its package, version, file name (when known) and sha256."""

    name: str  # PEP 503 canonical project name
    version: str | None
    sha256: str
    filename: str | None
    location: Location

    @property
    def label(self) -> str:
        """The file name, or the package and a short digest when the lock has no file name."""
        if self.filename:
            return self.filename
        return f"{self.name}=={self.version or '?'} sha256:{self.sha256[:12]}"


@dataclass(frozen=True, slots=True)
class Identity:
    """A trusted publisher: who may upload a package (PyPI's publisher kinds).

    ``repository`` is ``OWNER/REPO`` (GitHub), the project path (GitLab) or the
    service account (Google); ``workflow`` the workflow file name (GitHub) or
    the CI file path (GitLab). ``environment`` is empty when not set.
    """

    kind: str
    repository: str
    workflow: str = ""
    environment: str = ""

    def display(self) -> str:
        """One line, e.g. ``GitHub trailofbits/pypi-attestations, workflow release.yml``."""
        text = f"{self.kind} {self.repository}"
        if self.workflow:
            text += f", workflow {self.workflow}"
        if self.environment:
            text += f", environment {self.environment}"
        return text

    def differences(self, other: Identity) -> tuple[str, ...]:
        """What differs from ``other`` (an expected identity): kind, repository, workflow, env.

        Repository and kind compare case-insensitively (GitHub and GitLab do);
        the environment only when this identity (the expectation) names one.
        """
        found = []
        if self.kind.lower() != other.kind.lower():
            found.append("kind")
        if self.repository.lower() != other.repository.lower():
            found.append("repository")
        if self.workflow != other.workflow:
            found.append("workflow")
        if self.environment and self.environment.lower() != other.environment.lower():
            found.append("environment")
        return tuple(found)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """The Rekor transparency-log entry of a verified attestation."""

    index: int
    integrated_time: int  # seconds since the epoch

    def url(self) -> str:
        """Where anyone can look the entry up."""
        return f"https://search.sigstore.dev/?logIndex={self.index}"


@dataclass(frozen=True, slots=True)
class Build:
    """What the signing certificate says about the build (Fulcio claims), all signed."""

    issuer: str = ""
    source_repository: str = ""
    source_commit: str = ""
    source_ref: str = ""
    build_config: str = ""  # the workflow that ran, with its ref
    build_signer: str = ""  # the workflow that signed (a reusable workflow when it differs)
    runner: str = ""  # "github-hosted", "gitlab-hosted", "self-hosted"
    trigger: str = ""  # the event: release, push, workflow_dispatch, pull_request...
    run_url: str = ""


class Outcome(enum.StrEnum):
    """The verdict on one artifact's provenance."""

    VERIFIED = "verified"
    MISSING = "missing"  # the source answered: no provenance for this file
    FAILED = "failed"  # provenance exists and does not verify (or cannot be read)
    UNKNOWN = "unknown"  # no source could answer (offline, not cached, index error)


@dataclass(frozen=True, slots=True)
class Attested:
    """One verified attestation: its predicate type, the signed build claims, the log entry."""

    predicate_type: str
    build: Build
    log_entry: LogEntry | None
    subject: str = ""  # the file name the statement signs


@dataclass(frozen=True, slots=True)
class ArtifactResult:
    """The outcome for one artifact, and the evidence behind it."""

    artifact: Artifact
    outcome: Outcome
    identity: Identity | None = None  # the publisher the signature proves (verified only)
    attestations: tuple[Attested, ...] = ()
    reason: str = ""  # why it failed, is missing or unknown
    source: str = ""  # where the provenance came from (file path, URL, cache)

    @property
    def build(self) -> Build | None:
        """The build claims of the first attestation, if verified."""
        return self.attestations[0].build if self.attestations else None


@dataclass(frozen=True, slots=True)
class Expectation:
    """The publisher(s) a package is expected to have, and where that was written."""

    name: str
    identities: tuple[Identity, ...]
    location: Location
    origin: str  # "trust file" or "pylock.toml attestation-identities"
