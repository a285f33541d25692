"""The threat scenarios (rows of the coverage matrix) and the coverage computation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bastion._internal.model import ControlResult, Coverage, Finding, ThreatCoverage


@dataclass(frozen=True, slots=True)
class Threat:
    """One attack scenario and the kinds of control that stand in its path."""

    id: str
    title: str
    expected_controls: str  # the defences DESIGN.md names, for the "exposed" hint


THREATS: tuple[Threat, ...] = (
    Threat(
        "tampering", "Bytes replaced after publication", "hash pinning, installed-file integrity"
    ),
    Threat("known-vulnerable", "Dependency with a published advisory", "advisory scan"),
    Threat(
        "known-malicious",
        "Release already reported as malware",
        "advisory scan, quarantine, artifact inspection; runtime watch (detects)",
    ),
    Threat(
        "compromised-release",
        "Bad release of a real package",
        "release-age cooldown, quarantine index, provenance, artifact inspection; "
        "runtime watch (detects)",
    ),
    Threat("typosquat", "Look-alike or unapproved name", "typosquat check, approved list"),
    Threat("ci-compromise", "Injectable CI or long-lived tokens", "workflow audit"),
    Threat("insecure-code", "Security bugs in your own code", "static analysis (ruff S)"),
    Threat("blind-response", "Cannot tell if you are exposed", "SBOM and inventory"),
)
THREAT_IDS = frozenset(t.id for t in THREATS)


# The two questions of a matrix row, in words that cannot be read as each other:
# 1. does a control stand in this path, fail-closed in CI?  (the verdict)
GUARD_LABELS = {
    Coverage.COVERED: "enforced",
    Coverage.LOCAL: "local only",
    Coverage.INCOMPLETE: "errored",
    Coverage.EXPOSED: "none",
}
# 2. is the path open right now?  (the findings of the controls that ran)
LEGEND = (
    "Guard: enforced = CI runs a control here fail-closed; local only = it ran here, CI does "
    "not enforce it; none = no control. Now: open (N) = N findings on this path; clear = the "
    "controls that ran found nothing; unchecked = no control looked."
)


def path_state(row: ThreatCoverage) -> str:
    """``open``, ``clear`` or ``unchecked``: whether the path is open right now."""
    if row.open_findings:
        return "open"
    if any(r.status.ran for r in row.controls):
        return "clear"
    return "unchecked"


def path_label(row: ThreatCoverage) -> str:
    """``open (3)``, ``clear`` or ``unchecked``."""
    state = path_state(row)
    return f"open ({row.open_findings})" if state == "open" else state


# Controls that detect and do not prevent (the runtime watch): listed in a row, never its guard.
DETECTS_ONLY = frozenset({"watch"})


def verdict(results: Sequence[ControlResult]) -> Coverage:
    """Covered when a control ran and CI enforces it; local-only when it only ran here.

    A control that only detects (``DETECTS_ONLY``) does not stand in the path,
    enforced or not: it shortens the time to notice, it does not stop the install.
    """
    results = [r for r in results if r.control not in DETECTS_ONLY]
    if any(r.status.ran and r.enforced for r in results):
        return Coverage.COVERED
    if any(r.status.ran for r in results):
        return Coverage.LOCAL
    if any(r.status.value == "error" for r in results):
        return Coverage.INCOMPLETE
    return Coverage.EXPOSED


def coverage(
    results: Sequence[ControlResult],
    findings: Sequence[Finding],
    only: frozenset[str] | None = None,
) -> tuple[ThreatCoverage, ...]:
    """One row per threat (or per threat in ``only``): controls in its path and the verdict."""
    rows = []
    for threat in THREATS:
        if only is not None and threat.id not in only:
            continue
        in_path = tuple(r for r in results if threat.id in r.threats)
        rows.append(
            ThreatCoverage(
                threat=threat.id,
                title=threat.title,
                verdict=verdict(in_path),
                controls=in_path,
                open_findings=sum(1 for f in findings if f.threat == threat.id),
            )
        )
    return tuple(rows)
