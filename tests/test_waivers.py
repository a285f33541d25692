"""Waivers: scoped, expiring, and reported when expired or unused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    Finding,
    Location,
    Severity,
    Waiver,
)
from bastion._internal.waivers import apply_waivers, matches

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def finding(rule: str = "missing-hash", package: str = "idna", version: str = "3.7") -> Finding:
    return Finding(
        rule,
        Severity.MEDIUM,
        "tampering",
        "pinning",
        "m",
        package=package,
        version=version,
        aliases=("CVE-1",) if rule.startswith("PYSEC") else (),
    )


def waiver(
    wid: str = "missing-hash",
    package: str | None = None,
    versions: str | None = None,
    expires: datetime = datetime(2027, 1, 1, tzinfo=UTC),
) -> Waiver:
    return Waiver(wid, "accepted", expires, Location(Path("bastion.toml"), 3), package, versions)


def test_scope_by_id_package_and_versions() -> None:
    assert matches(waiver(), finding())
    assert not matches(waiver("weak-hash"), finding())
    assert matches(waiver(package="idna"), finding())
    assert not matches(waiver(package="click"), finding())
    assert matches(waiver(package="idna", versions="<4"), finding())
    assert not matches(waiver(package="idna", versions=">=4"), finding())
    assert matches(waiver("CVE-1"), finding("PYSEC-1"))  # an alias names the same advisory


def test_live_waiver_removes_the_finding_and_flips_the_status() -> None:
    result = ControlResult("pinning", ControlStatus.FAIL, ("tampering",), (finding(),))
    outcome = apply_waivers([result], [waiver()], NOW)
    assert outcome.results[0].findings == ()
    assert outcome.results[0].status is ControlStatus.PASS
    assert [w.finding.package for w in outcome.waived] == ["idna"]
    assert outcome.waiver_result is None


def test_expired_waiver_stops_applying_and_is_reported() -> None:
    result = ControlResult("pinning", ControlStatus.FAIL, ("tampering",), (finding(),))
    expired = waiver(expires=datetime(2026, 1, 1, tzinfo=UTC))
    outcome = apply_waivers([result], [expired], NOW)
    assert len(outcome.results[0].findings) == 1
    assert outcome.waiver_result is not None
    (note,) = outcome.waiver_result.findings
    assert note.rule_id == "waiver-expired"
    assert note.severity is Severity.HIGH
    assert note.location == expired.location


def test_unused_waiver_is_reported_as_info() -> None:
    outcome = apply_waivers([], [waiver("weak-hash")], NOW)
    assert outcome.waiver_result is not None
    (note,) = outcome.waiver_result.findings
    assert (note.rule_id, note.severity) == ("waiver-unused", Severity.INFO)
