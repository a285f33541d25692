"""The watch in the matrix: CI steps wrapped in ``bastion watch --`` are the runtime-monitoring
control, judged fail-open or fail-closed by the workflow wiring, and never a row's guard
(it detects, it does not prevent)."""

from __future__ import annotations

from bastion._internal.controls.watch import WatchControl
from bastion._internal.controls.workflows import WorkflowControl
from bastion._internal.engine import run_check
from bastion._internal.model import ControlResult, ControlStatus, Coverage, Report
from bastion._internal.threats import coverage, verdict
from tests.conftest import OLD_DATA_OK, MakeProject

HEAD = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
REQUIREMENTS = "idna==3.7 --hash=sha256:" + "a" * 64 + "\n"


def _check(make_project: MakeProject, steps: str) -> tuple[Report, ControlResult]:
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            "app.py": "x = 1\n",
            ".github/workflows/ci.yml": HEAD + steps,
        }
    )
    report = run_check(root, controls=[WatchControl(), WorkflowControl()])
    return report, next(r for r in report.results if r.control == "watch")


def test_wrapped_install_and_test_steps_fail_closed(make_project: MakeProject) -> None:
    steps = (
        "      - run: bastion watch --no-network -- pip install --require-hashes -r r.txt\n"
        "      - run: bastion watch -- python -m pytest -x\n"
        "      - run: python -m build\n"
    )
    report, result = _check(make_project, steps)
    assert result.status is ControlStatus.PASS
    assert result.enforced is True  # the wiring found them fail-closed
    assert "2 command(s) under bastion watch (install, test)" in result.detail
    assert "not watched: build (1)" in result.detail
    assert "detects, does not prevent" in result.detail
    rows = {row.threat: row for row in report.coverage}
    for threat in ("compromised-release", "known-malicious"):
        assert result in rows[threat].controls  # listed in the row...
        assert rows[threat].verdict is Coverage.EXPOSED  # ...but it guards nothing


def test_a_fail_open_watch_is_a_finding_and_not_enforced(make_project: MakeProject) -> None:
    report, result = _check(make_project, "      - run: bastion watch -- pytest || true\n")
    assert result.status is ControlStatus.PASS and result.enforced is False
    fail_open = [f for f in report.findings if f.rule_id == "fail-open-check"]
    assert len(fail_open) == 1 and "bastion watch" in fail_open[0].message
    assert "'|| true'" in fail_open[0].message


def test_continue_on_error_makes_it_fail_open(make_project: MakeProject) -> None:
    steps = "      - run: bastion watch -- uv sync --locked\n        continue-on-error: true\n"
    report, result = _check(make_project, steps)
    assert result.enforced is False
    assert any(f.rule_id == "fail-open-check" for f in report.findings)


def test_no_wrapped_step_is_not_configured(make_project: MakeProject) -> None:
    steps = (
        "      - run: pip install -r requirements.txt\n"
        "      # bastion watch -- pytest   (a comment is not a step)\n"
        "      - run: echo bastion watch is not run here\n"
    )
    _, result = _check(make_project, steps)
    assert result.status is ControlStatus.NOT_CONFIGURED
    assert "bastion watch --" in result.detail


def test_no_workflows_is_not_configured(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": REQUIREMENTS, "bastion.toml": OLD_DATA_OK})
    report = run_check(root, controls=[WatchControl()])
    (result,) = report.results
    assert result.status is ControlStatus.NOT_CONFIGURED


def test_detect_only_controls_never_decide_a_verdict() -> None:
    watch = ControlResult(
        "watch", ControlStatus.PASS, ("compromised-release",), (), "", enforced=True
    )
    cooldown = ControlResult("cooldown", ControlStatus.PASS, ("compromised-release",), (), "")
    assert verdict([watch]) is Coverage.EXPOSED
    assert verdict([watch, cooldown]) is Coverage.LOCAL
    failing = ControlResult("watch", ControlStatus.ERROR, ("compromised-release",), (), "")
    assert verdict([failing]) is Coverage.EXPOSED
    (row,) = coverage([watch], [], frozenset({"compromised-release"}))
    assert row.controls == (watch,) and row.verdict is Coverage.EXPOSED


def test_bastion_check_in_ci_does_not_make_a_fail_open_watch_enforced(
    make_project: MakeProject,
) -> None:
    steps = "      - run: bastion check .\n      - run: bastion watch -- pytest || true\n"
    report, result = _check(make_project, steps)
    workflows = next(r for r in report.results if r.control == "workflows")
    assert workflows.enforced is True  # 'bastion check' fail-closed enforces the others...
    assert result.enforced is False  # ...but it does not run the watch
