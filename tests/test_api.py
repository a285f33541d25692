"""The small public API, and bastion's own repository passing its own check."""

from __future__ import annotations

import bastion
from tests.conftest import EXAMPLE, OLD_DATA_OK, REPO, MakeProject


def test_check_returns_a_report() -> None:
    report = bastion.check(EXAMPLE)
    assert isinstance(report, bastion.Report)
    assert report.exit_code == 1
    assert any(f.rule_id == "index-confusion" for f in report.findings)
    assert report.coverage[0].threat == "tampering"
    assert report.coverage[0].verdict is bastion.Coverage.LOCAL


def test_bastion_passes_its_own_check() -> None:
    report = bastion.check(REPO)
    assert report.findings == (), [f"{f.rule_id} {f.location} {f.message}" for f in report.findings]
    assert report.exit_code == 0
    formats = {s.format.value for s in report.sources}
    assert "requirements" in formats  # the hash-locked requirement files were read
    statuses = {r.control: r.status.value for r in report.results}
    assert statuses == {
        "pinning": "pass",
        "advisories": "pass",
        "index-confusion": "pass",
        "typosquat": "pass",
        "approved-packages": "pass",
        # hash-locked requirements record no upload times; only --online can judge their age
        "cooldown": "not-configured",
        # bastion installs from PyPI: no quarantine index is configured
        "quarantine-index": "not-configured",
        "ruff-security": "pass",
        "workflows": "pass",
        # .github/workflows/ci.yml produces one with 'bastion sbom' and checks it
        "sbom": "pass",
        # no CI step runs under 'bastion watch --'; it would only detect, never guard a row
        "watch": "not-configured",
        # no provenance source (--provenance-dir, --online) and no pinned publishers
        "provenance": "not-configured",
        # no locked artifact in the artifact cache and no BASTION_INSPECT_DIR
        "inspect": "not-configured",
    }
    # .github/workflows/ci.yml runs 'bastion check' fail-closed: every control that ran is
    # enforced, so each threat with a passing control is covered, not just local
    verdicts = {row.threat: row.verdict.value for row in report.coverage}
    assert verdicts["ci-compromise"] == "covered"
    assert verdicts["tampering"] == "covered"
    assert verdicts["compromised-release"] == "exposed"
    assert verdicts["blind-response"] == "covered"
    cooldown = next(r for r in report.results if r.control == "cooldown")
    assert "--online" in cooldown.detail


def test_audit_api(make_project: MakeProject) -> None:
    root = make_project(
        {"requirements.txt": "pyyaml==5.3.1\nidna==3.7\n", "bastion.toml": OLD_DATA_OK}
    )
    report = bastion.audit(root)
    assert [(f.rule_id, f.package, f.aliases[0]) for f in report.findings] == [
        ("known-vulnerable", "pyyaml", "PYSEC-2021-142")
    ]
    assert report.exit_code == 1
