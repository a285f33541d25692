"""The advisories control: findings with fix plans, data age, targets, waivers, first run."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion._internal.config import Config, load_config
from bastion._internal.controls.advisories import AdvisoryControl
from bastion._internal.controls.base import Project
from bastion._internal.engine import run_check
from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import discover
from bastion._internal.markers import Target
from bastion._internal.model import ControlResult, ControlStatus
from tests.advisories.test_audit import build_db, osv
from tests.conftest import MakeProject

DATA_DAY = datetime(2025, 1, 1, tzinfo=UTC)  # the records' "modified" time
FRESH = datetime(2025, 1, 3, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_db(
        tmp_path / "advisories",
        [
            osv("PYSEC-1", "requests", [{"introduced": "0"}, {"fixed": "2.20.0"}], summary="s"),
            osv("PYSEC-2", "requests", [{"introduced": "2.0"}, {"fixed": "2.31.0"}]),
            osv("MAL-1", "reqeusts", [{"introduced": "0"}], summary="Malicious code"),
            osv("PYSEC-3", "pywin32", [{"introduced": "0"}, {"fixed": "300"}]),
        ],
    )


def run(root: Path, db: Path, now: datetime = FRESH, config: Config | None = None) -> ControlResult:
    project = Project(root, discover(root), config or load_config(root))
    return AdvisoryControl(db, now=now).run(project)


def test_findings_locations_and_fix_plan(make_project: MakeProject, db: Path) -> None:
    root = make_project(
        {
            "requirements.txt": "requests==2.19.1\nreqeusts==1.0\nidna==3.7\nflask>=2\n",
            "sub/requirements.txt": "requests==2.19.1\n",
        }
    )
    result = run(root, db)
    assert result.status is ControlStatus.FAIL
    by_id = {f.aliases[0]: f for f in result.findings}
    assert sorted(by_id) == ["MAL-1", "PYSEC-1", "PYSEC-2"]
    malware = by_id["MAL-1"]
    assert (malware.rule_id, malware.threat, malware.severity.label) == (
        "known-malicious",
        "known-malicious",
        "critical",
    )
    assert malware.remediation.startswith("remove reqeusts 1.0 now")
    vuln = by_id["PYSEC-1"]
    assert (vuln.rule_id, vuln.package, vuln.version) == ("known-vulnerable", "requests", "2.19.1")
    assert vuln.location is not None and vuln.location.path == root / "requirements.txt"
    assert vuln.location.line == 1
    assert vuln.remediation == (
        "upgrade requests to 2.31.0 (fixes both advisories) (also locked in 1 other place)"
    )
    assert "1 requirements without a pinned version not audited" in result.detail
    # each advisory names its own fixed release; the fix plan covers them all
    assert "PYSEC-1: s; fixed in 2.20.0 [" in vuln.message
    assert "; fixed in 2.31.0 [" in by_id["PYSEC-2"].message
    assert "fixed in" not in malware.message


def test_clean_project_passes(make_project: MakeProject, db: Path) -> None:
    result = run(make_project({"requirements.txt": "requests==2.31.0\n"}), db)
    assert (result.status, result.findings) == (ControlStatus.PASS, ())


def test_nothing_pinned_is_not_configured(make_project: MakeProject, db: Path) -> None:
    result = run(make_project({"requirements.txt": "requests>=2\n"}), db)
    assert result.status is ControlStatus.NOT_CONFIGURED


def test_old_data_warns_then_fails_closed(make_project: MakeProject, db: Path) -> None:
    root = make_project({"requirements.txt": "requests==2.31.0\n"})
    warned = run(root, db, now=datetime(2025, 1, 10, tzinfo=UTC))
    assert warned.status is ControlStatus.PASS
    assert [f.rule_id for f in warned.findings] == ["advisory-data-stale"]
    stale = run(root, db, now=datetime(2025, 2, 15, tzinfo=UTC))
    assert stale.status is ControlStatus.ERROR
    assert stale.detail.startswith("advisory data is 45 days old, past advisory-max-days (30)")
    relaxed = replace(Config(), advisory_warn_days=60, advisory_max_days=90)
    assert run(root, db, datetime(2025, 2, 15, tzinfo=UTC), relaxed).status is ControlStatus.PASS


def test_stale_data_still_reports_what_it_finds(make_project: MakeProject, db: Path) -> None:
    root = make_project({"requirements.txt": "requests==2.19.1\n"})
    result = run(root, db, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert result.status is ControlStatus.ERROR and len(result.findings) == 2


def test_target_leaves_out_packages_not_installed_there(
    make_project: MakeProject, db: Path
) -> None:
    root = make_project({"requirements.txt": 'pywin32==228 ; sys_platform == "win32"\n'})
    assert len(run(root, db).findings) == 1  # no target: universal
    linux = replace(Config(), target=Target("3.12", "linux"))
    result = run(root, db, config=linux)
    assert result.status is ControlStatus.NOT_CONFIGURED
    windows = replace(Config(), target=Target("3.12", "windows"))
    assert len(run(root, db, config=windows).findings) == 1


def test_waivers_apply_by_any_alias(make_project: MakeProject, tmp_path: Path) -> None:
    db = build_db(
        tmp_path / "adv",
        [osv("PYSEC-9", "requests", [{"introduced": "0"}], aliases=["CVE-2099-1"])],
    )
    root = make_project(
        {
            "requirements.txt": "requests==2.19.1\n",
            "bastion.toml": """\
            [[waiver]]
            id = "CVE-2099-1"
            package = "requests"
            versions = "<3"
            reason = "not reachable from our code"
            expires = 2099-01-01
            """,
        }
    )
    report = run_check(root, controls=[AdvisoryControl(db, now=FRESH)], now=FRESH)
    assert report.findings == ()
    assert [w.finding.aliases for w in report.waived] == [("PYSEC-9", "CVE-2099-1")]
    assert [row.threat for row in report.coverage] == ["known-vulnerable", "known-malicious"]


def test_first_run_imports_the_bundled_snapshot(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "fresh-cache"
    monkeypatch.setitem(os.environ, "BASTION_CACHE_DIR", str(cache))
    root = make_project({"requirements.txt": "urllib3==1.26.4\n"})
    project = Project(root, discover(root), Config())
    result = AdvisoryControl(now=datetime(2025, 6, 10, tzinfo=UTC)).run(project)
    assert (cache / "advisories.sqlite3").is_file()
    assert "database created from the bundled OSV snapshot" in result.detail
    assert "PYSEC-2021-108" in {f.aliases[0] for f in result.findings}


def test_an_explicit_database_that_is_missing_is_an_input_error(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project({"requirements.txt": "requests==2.19.1\n"})
    with pytest.raises(InputError, match="no advisory database"):
        run(root, tmp_path / "missing.sqlite3")
