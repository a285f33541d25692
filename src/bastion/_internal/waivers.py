"""Applying waivers: scoped, reasoned, expiring acceptances of a finding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    Finding,
    Severity,
    WaivedFinding,
    Waiver,
)
from bastion._internal.rules import Rule, register

CONTROL = "waivers"
register(
    Rule(
        "waiver-expired",
        "WaiverExpired",
        "A waiver has passed its expiry date and no longer applies.",
        "Re-assess the risk: fix the finding, or renew the waiver with a new reason and date.",
        Severity.HIGH,
        "",
        CONTROL,
    ),
    Rule(
        "waiver-unused",
        "WaiverUnused",
        "A waiver matches no finding.",
        "The risk it accepted is gone (or the waiver is mistyped): remove it.",
        Severity.INFO,
        "",
        CONTROL,
    ),
)


@dataclass(frozen=True, slots=True)
class WaiverOutcome:
    """Control results with waived findings removed, plus what the waivers did."""

    results: tuple[ControlResult, ...]
    waived: tuple[WaivedFinding, ...]
    waiver_result: ControlResult | None


def matches(waiver: Waiver, finding: Finding) -> bool:
    """True when the waiver's id, package and version range cover the finding."""
    if waiver.id not in finding.ids():
        return False
    if waiver.package is not None and waiver.package != finding.package:
        return False
    if waiver.versions is not None:
        if finding.version is None:
            return False
        from packaging.specifiers import SpecifierSet  # only waivers with a version range
        from packaging.version import InvalidVersion, Version

        try:
            return SpecifierSet(waiver.versions).contains(
                Version(finding.version), prereleases=True
            )
        except InvalidVersion:
            return False
    return True


def apply_waivers(
    results: Sequence[ControlResult], waivers: Sequence[Waiver], now: datetime
) -> WaiverOutcome:
    """Remove findings covered by live waivers; report expired and unused ones."""
    live = [w for w in waivers if w.expires >= now]
    used: set[int] = set()
    waived: list[WaivedFinding] = []
    kept_results = []
    for control in results:
        kept = []
        for finding in control.findings:
            waiver = next((w for w in live if matches(w, finding)), None)
            if waiver is None:
                kept.append(finding)
            else:
                used.add(id(waiver))
                waived.append(WaivedFinding(finding, waiver))
        status = control.status
        if status is ControlStatus.FAIL and not kept:
            status = ControlStatus.PASS
        kept_results.append(
            ControlResult(
                control.control,
                status,
                control.threats,
                tuple(kept),
                control.detail,
                control.enforced,
                control.suppressed,
                control.enforces,
            )
        )
    notes = [_expired(w) for w in waivers if w.expires < now]
    notes += [_unused(w) for w in live if id(w) not in used]
    waiver_result = None
    if notes:
        waiver_result = ControlResult(
            CONTROL, ControlStatus.FAIL, (), tuple(notes), "waiver bookkeeping"
        )
    return WaiverOutcome(tuple(kept_results), tuple(waived), waiver_result)


def _scope(waiver: Waiver) -> str:
    scope = waiver.id
    if waiver.package:
        scope += f" for {waiver.package}{waiver.versions or ''}"
    return scope


def _expired(waiver: Waiver) -> Finding:
    return Finding(
        rule_id="waiver-expired",
        severity=Severity.HIGH,
        threat="",
        control=CONTROL,
        message=f"waiver {_scope(waiver)} expired on {waiver.expires.date().isoformat()}"
        f" ({waiver.reason})",
        location=waiver.location,
        remediation="fix the finding, or renew the waiver with a new reason and date",
    )


def _unused(waiver: Waiver) -> Finding:
    return Finding(
        rule_id="waiver-unused",
        severity=Severity.INFO,
        threat="",
        control=CONTROL,
        message=f"waiver {_scope(waiver)} matches no finding",
        location=waiver.location,
        remediation="remove the waiver",
    )
