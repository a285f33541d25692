"""The coverage verdict per threat."""

from __future__ import annotations

from bastion._internal.model import ControlResult, ControlStatus, Coverage
from bastion._internal.threats import THREATS, coverage, verdict


def control(status: ControlStatus, enforced: bool | None = None) -> ControlResult:
    return ControlResult("c", status, ("tampering",), (), "", enforced)


def test_verdicts() -> None:
    assert verdict([]) is Coverage.EXPOSED
    assert verdict([control(ControlStatus.NOT_CONFIGURED)]) is Coverage.EXPOSED
    assert verdict([control(ControlStatus.ERROR)]) is Coverage.INCOMPLETE
    assert verdict([control(ControlStatus.FAIL)]) is Coverage.LOCAL
    assert verdict([control(ControlStatus.PASS, enforced=False)]) is Coverage.LOCAL
    assert verdict([control(ControlStatus.PASS, enforced=True)]) is Coverage.COVERED
    assert verdict([control(ControlStatus.ERROR), control(ControlStatus.PASS)]) is Coverage.LOCAL


def test_every_threat_has_a_row() -> None:
    rows = coverage([control(ControlStatus.PASS)], [])
    assert [r.threat for r in rows] == [t.id for t in THREATS]
    assert rows[0].verdict is Coverage.LOCAL
    assert all(r.verdict is Coverage.EXPOSED for r in rows[1:])
