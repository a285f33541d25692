"""The SLSA Build level the evidence supports, per dependency and for the project's own releases.

Levels (SLSA v1.0 Build track), as bastion can show them:

- L1: provenance exists, and here it also verifies (an attestation bound to
  the file's name and digest).
- L2: signed by a hosted build platform: the Fulcio certificate was issued to
  a CI identity (GitHub Actions, GitLab CI/CD, CircleCI, Google Cloud) on a
  hosted runner, not to a person or a self-hosted machine.
- L3: the build is isolated from the pull-request path and the signing
  identity is out of reach of the build steps. For a dependency the only
  signed evidence is a signing workflow distinct from the build workflow (a
  reusable workflow signs, as slsa-github-generator does) on a non-pull-request
  event. For the project's own releases the workflow layer shows it: the
  upload job holds the OIDC identity and does not build, no pull-request event
  starts it, and no long-lived token publishes beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bastion._internal.provenance.continuity import release_groups
from bastion._internal.provenance.model import ArtifactResult, Build, Outcome
from bastion._internal.provenance.publishing import OwnPublishing
from bastion._internal.workflows.model import PULL_REQUEST_TRIGGERS

CI_ISSUERS = {
    "https://token.actions.githubusercontent.com": "GitHub Actions",
    "https://gitlab.com": "GitLab CI/CD",
    "https://oidc.circleci.com": "CircleCI",
    "https://accounts.google.com": "Google Cloud",
}
HOSTED_RUNNERS = frozenset({"github-hosted", "gitlab-hosted"})
STEP_TO_CHECK = "obtain its provenance (--provenance-dir DIR or --online), then judge again"
STEP_TO_L1 = "publish with attestations (PyPI trusted publishing makes them)"
STEP_TO_L2 = "build and sign on a hosted CI platform (a Fulcio identity of the platform's runner)"
STEP_TO_L3 = (
    "sign in a job or reusable workflow the build steps cannot reach, started by no "
    "pull-request event"
)


@dataclass(frozen=True, slots=True)
class SlsaLevel:
    """The level one subject's evidence supports, why, and the missing step to the next."""

    subject: str
    level: int
    evidence: tuple[str, ...]
    next_step: str = ""  # empty at level 3


def artifact_level(result: ArtifactResult) -> tuple[int, list[str], str]:
    """Level, evidence and next step for one artifact."""
    if result.outcome is Outcome.UNKNOWN:
        return 0, [f"{result.artifact.label}: not checked ({result.reason})"], STEP_TO_CHECK
    if result.outcome is not Outcome.VERIFIED or result.build is None:
        reason = "no provenance" if result.outcome is Outcome.MISSING else result.reason
        return 0, [f"{result.artifact.label}: {reason}"], STEP_TO_L1
    build: Build = result.build
    identity = result.identity.display() if result.identity else "unknown publisher"
    evidence = [f"{result.artifact.label}: verified provenance from {identity}"]
    platform = CI_ISSUERS.get(build.issuer)
    if platform is None or build.runner not in HOSTED_RUNNERS:
        runner = build.runner or "no runner claim"
        evidence.append(f"signed by {build.issuer or 'an unknown issuer'} ({runner})")
        return 1, evidence, STEP_TO_L2
    evidence.append(f"signed by {platform} on a {build.runner} runner")
    isolated = (
        build.build_signer and build.build_config and build.build_signer != build.build_config
    )
    from_pr = build.trigger in PULL_REQUEST_TRIGGERS
    if isolated and not from_pr:
        evidence.append(
            f"signed by {build.build_signer}, apart from the build {build.build_config}"
        )
        return 3, evidence, ""
    if from_pr:
        evidence.append(f"started by {build.trigger}")
    else:
        evidence.append(
            "the signing workflow is the build workflow (build steps reach the identity)"
        )
    return 2, evidence, STEP_TO_L3


def dependency_levels(results: Iterable[ArtifactResult]) -> list[SlsaLevel]:
    """One level per locked release: the lowest of its files."""
    levels = []
    for (name, version), group in release_groups(results).items():
        graded = [artifact_level(item) for item in group]
        low = min(graded, key=lambda g: g[0])
        evidence = tuple(dict.fromkeys(e for g in graded if g[0] == low[0] for e in g[1]))
        levels.append(SlsaLevel(f"{name}=={version}", low[0], evidence[:6], low[2]))
    return levels


def own_level(own: OwnPublishing) -> SlsaLevel:
    """The level the project's own release workflow supports."""
    subject = "own releases"
    if not own.jobs:
        return SlsaLevel(subject, 0, ("no workflow publishes to PyPI",), STEP_TO_L1)
    best = max(own.jobs, key=lambda j: (j.attestations, j.hosted, not j.builds_in_job))
    where = f"{best.workflow.as_posix()} job {best.job!r}"
    if not best.attestations:
        return SlsaLevel(subject, 0, (f"{where}: uploads without attestations",), STEP_TO_L1)
    evidence = [f"{where}: trusted publishing with PEP 740 attestations"]
    if not best.hosted:
        evidence.append("runs on a self-hosted runner")
        return SlsaLevel(subject, 1, tuple(evidence), STEP_TO_L2)
    evidence.append("on a GitHub-hosted runner")
    missing = []
    if best.builds_in_job:
        missing.append("build in a separate job: this one builds and holds the signing identity")
    if best.pull_request_triggers:
        missing.append(f"no pull-request trigger ({', '.join(best.pull_request_triggers)})")
    if own.tokens:
        missing.append(f"remove the {len(own.tokens)} long-lived token use(s) beside it")
    if missing:
        return SlsaLevel(subject, 2, tuple(evidence), "; ".join(missing))
    evidence.append("the upload job does not build; no pull-request event; no token beside it")
    return SlsaLevel(subject, 3, tuple(evidence), "")
