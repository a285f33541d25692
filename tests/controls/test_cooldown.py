"""The cooldown control: upload age at lock time, lock time evidence, exemptions, suggestions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion._internal.advisories.store import import_records
from bastion._internal.config import load_config
from bastion._internal.controls.base import Project
from bastion._internal.controls.cooldown import CooldownControl, suggestion
from bastion._internal.index_client import IndexClient, ProjectPage, Release
from bastion._internal.inputs.discovery import discover
from bastion._internal.model import ControlResult, ControlStatus, Severity
from tests.conftest import LOCKFILES, FakeIndex, MakeProject, run_git

UV_LOCK = (LOCKFILES / "uv" / "uv.lock").read_text()
# click 8.5.1, the newest upload in the fixture, was uploaded 2026-11-06 17:37 UTC.
CLICK_UPLOADED = datetime(2026, 11, 6, 17, 37, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run(
    root: Path,
    now: datetime,
    db: Path | None = None,
    client: IndexClient | None = None,
) -> ControlResult:
    control = CooldownControl(db, now, (lambda: client) if client else None)
    return control.run(Project(root, discover(root), load_config(root)))


def committed(root: Path, files: dict[str, str], date: str = "2026-11-08T12:00:00Z") -> None:
    if not (root / ".git").exists():
        run_git(root, "init", "-q")
    for name, text in files.items():
        (root / name).write_text(text)
    run_git(root, "add", ".")
    run_git(root, "commit", "-q", "-m", "lock", date=date)


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    """An advisory database with one unrelated record (no exemptions)."""
    return advisory_db(tmp_path / "empty", "other-package", "1.0")


def advisory_db(folder: Path, package: str, fixed: str) -> Path:
    folder.mkdir(parents=True)
    record = {
        "id": "GHSA-test-0001",
        "modified": "2026-11-01T00:00:00Z",
        "aliases": ["CVE-2026-0001"],
        "summary": "test advisory",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }
    (folder / "GHSA-test-0001.json").write_text(json.dumps(record))
    db = folder / "advisories.sqlite3"
    import_records(folder, db)
    return db


def test_committed_lock_with_a_young_release(tmp_path: Path, empty_db: Path) -> None:
    committed(tmp_path, {"uv.lock": UV_LOCK})  # locked 2026-11-08 12:00, click 1.8 days old
    result = run(tmp_path, at("2026-11-10T00:00:00"), empty_db)
    assert result.status is ControlStatus.FAIL
    (finding,) = result.findings
    assert (finding.rule_id, finding.package, finding.version) == (
        "young-release",
        "click",
        "8.5.1",
    )
    assert finding.severity is Severity.MEDIUM  # still inside the window now
    assert "1 day 18 h before the lock" in finding.message
    assert "committed 2026-11-08" in finding.message
    assert 'exclude-newer = "7 days"' in finding.remediation
    assert "--uploaded-prior-to P7D" in finding.remediation
    assert finding.location is not None and finding.location.line is not None
    assert "10 packages checked against a 7-day cooldown" in result.detail


def test_the_window_having_passed_since_lowers_the_severity(tmp_path: Path, empty_db: Path) -> None:
    committed(tmp_path, {"uv.lock": UV_LOCK})
    (finding,) = run(tmp_path, at("2026-11-21T00:00:00"), empty_db).findings
    assert finding.severity is Severity.LOW
    assert "now 14 days" in finding.message
    assert finding.remediation.startswith("it has aged past the cooldown since")


def test_a_lock_committed_later_passes(tmp_path: Path, empty_db: Path) -> None:
    committed(tmp_path, {"uv.lock": UV_LOCK}, date="2026-11-20T00:00:00Z")
    result = run(tmp_path, at("2026-11-21T00:00:00"), empty_db)
    assert result.status is ControlStatus.PASS
    assert "committed 2026-11-20" in result.detail


def test_uncommitted_changes_make_the_lock_time_now(tmp_path: Path, empty_db: Path) -> None:
    committed(tmp_path, {"uv.lock": UV_LOCK}, date="2026-11-20T00:00:00Z")
    (tmp_path / "uv.lock").write_text(UV_LOCK + "\n")
    (finding,) = run(tmp_path, at("2026-11-12T00:00:00"), empty_db).findings
    assert "now (changed since its last commit)" in finding.message


def test_outside_git_the_lock_time_is_now(make_project: MakeProject, empty_db: Path) -> None:
    root = make_project({"uv.lock": UV_LOCK})
    assert run(root, at("2026-11-21T00:00:00"), empty_db).status is ControlStatus.PASS
    (finding,) = run(root, at("2026-11-09T00:00:00"), empty_db).findings
    assert "not in a git repository" in finding.message


def test_uv_exclude_newer_span_gives_the_lock_time(
    make_project: MakeProject, empty_db: Path
) -> None:
    options = '[options]\nexclude-newer = "2026-11-07T00:00:00Z"\nexclude-newer-span = "P1D"\n\n'
    lock = UV_LOCK.replace('requires-python = ">=3.11"\n', f'requires-python = ">=3.11"\n{options}')
    root = make_project({"uv.lock": lock})
    (finding,) = run(root, at("2026-11-21T00:00:00"), empty_db).findings
    assert "uv exclude-newer cutoff 2026-11-07" in finding.message
    assert "1 day 6 h before the lock" in finding.message  # lock time 2026-11-08 00:00


def test_a_longer_cooldown_catches_more(make_project: MakeProject, empty_db: Path) -> None:
    root = make_project({"uv.lock": UV_LOCK, "bastion.toml": "cooldown-days = 60\n"})
    result = run(root, at("2026-11-08T12:00:00"), empty_db)
    young = {f.package for f in result.findings}
    assert young == {"certifi", "charset-normalizer", "click", "idna", "iniconfig"} | {
        "markupsafe",
        "urllib3",
    }
    assert "60-day cooldown" in result.detail


def test_security_fix_is_an_exemption(tmp_path: Path) -> None:
    db = advisory_db(tmp_path / "adv", "click", "8.5.1")
    root = tmp_path / "project"
    root.mkdir()
    committed(root, {"uv.lock": UV_LOCK})
    result = run(root, at("2026-11-10T00:00:00"), db)
    (finding,) = result.findings
    assert finding.rule_id == "cooldown-security-exemption"
    assert finding.severity is Severity.INFO
    assert "fixes GHSA-test-0001 affecting earlier versions" in finding.message
    assert result.status is ControlStatus.PASS  # an exemption alone does not fail


@pytest.mark.parametrize(
    ("fixed", "rule", "text"),
    [
        ("8.5.1", "cooldown-security-exemption", "affecting the previously locked 8.5.0"),
        ("8.0", "young-release", "was uploaded 1 day 18 h before the lock"),  # 8.5.0 unaffected
    ],
)
def test_exemption_follows_the_previously_locked_version(
    tmp_path: Path, fixed: str, rule: str, text: str
) -> None:
    db = advisory_db(tmp_path / "adv", "click", fixed)
    root = tmp_path / "project"
    root.mkdir()
    old = UV_LOCK.replace('name = "click"\nversion = "8.5.1"', 'name = "click"\nversion = "8.5.0"')
    committed(root, {"uv.lock": old}, date="2026-10-01T00:00:00Z")
    committed(root, {"uv.lock": UV_LOCK})
    (finding,) = run(root, at("2026-11-10T00:00:00"), db).findings
    assert finding.rule_id == rule
    assert text in finding.message


def test_requirements_without_times_are_not_configured(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "click==8.5.1\n"})
    result = run(root, at("2026-11-10T00:00:00"))
    assert result.status is ControlStatus.NOT_CONFIGURED
    assert "use --online" in result.detail


def _click_files(fake_index: FakeIndex, with_times: bool) -> None:
    files = []
    for version, uploaded in (
        ("8.4.0", "2026-08-01T00:00:00Z"),
        ("8.5.0", "2026-10-20T00:00:00Z"),
        ("8.5.1", "2026-11-06T17:37:01Z"),
        ("8.6.0rc1", "2026-08-02T00:00:00Z"),
    ):
        item: dict[str, object] = {"filename": f"click-{version}-py3-none-any.whl"}
        if with_times:
            item["upload-time"] = uploaded
        files.append(item)
    fake_index.simple_json("click", files)


def test_online_reads_upload_times_and_suggests(
    make_project: MakeProject, fake_index: FakeIndex, tmp_path: Path, empty_db: Path
) -> None:
    _click_files(fake_index, with_times=True)
    config = f'public-index = "{fake_index.url}/simple"\n'
    root = make_project({"requirements.txt": "click==8.5.1\n", "bastion.toml": config})
    now = at("2026-11-10T00:00:00")
    result = run(root, now, empty_db, IndexClient(tmp_path / "cache", now))
    (finding,) = result.findings
    assert finding.package == "click"
    assert "lock click==8.5.0" in finding.remediation  # 8.5.0 is 21 days old; 8.6.0rc1 a pre
    assert fake_index.requests[0][1].startswith("application/vnd.pypi.simple.v1+json")


def test_online_falls_back_to_the_json_api(
    make_project: MakeProject, fake_index: FakeIndex, tmp_path: Path, empty_db: Path
) -> None:
    _click_files(fake_index, with_times=False)
    releases = {
        "8.5.0": [{"upload_time_iso_8601": "2026-10-20T00:00:00Z", "yanked": True}],
        "8.5.1": [{"upload_time_iso_8601": "2026-11-06T17:37:01.000Z", "yanked": False}],
        "8.4.0": [{"upload_time_iso_8601": "2026-08-01T00:00:00Z", "yanked": False}],
    }
    body = json.dumps({"info": {"name": "click"}, "releases": releases}).encode()
    fake_index.pages["/pypi/click/json"] = (200, "application/json", body)
    config = f'public-index = "{fake_index.url}/simple"\n'
    root = make_project({"requirements.txt": "click==8.5.1\n", "bastion.toml": config})
    now = at("2026-11-10T00:00:00")
    (finding,) = run(root, now, empty_db, IndexClient(tmp_path / "cache", now)).findings
    assert "lock click==8.4.0" in finding.remediation  # 8.5.0 is yanked


def test_online_errors_fail_closed(
    make_project: MakeProject, fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.pages["/simple/click/"] = (502, "text/plain", b"bad gateway")
    config = f'public-index = "{fake_index.url}/simple"\n'
    root = make_project({"requirements.txt": "click==8.5.1\n", "bastion.toml": config})
    result = run(root, at("2026-11-10T00:00:00"), None, IndexClient(tmp_path / "cache"))
    assert result.status is ControlStatus.ERROR
    assert "HTTP 502" in result.detail


def test_suggestion_prefers_finals_unless_the_lock_is_a_pre() -> None:
    releases = {
        "1.0": Release("1.0", at("2026-01-01T00:00:00")),
        "1.1": Release("1.1", at("2026-01-05T00:00:00"), yanked=True),
        "2.0rc1": Release("2.0rc1", at("2026-01-03T00:00:00")),
        "2.0": Release("2.0", at("2026-02-01T00:00:00")),
        "odd": Release("not a version", at("2026-01-01T00:00:00")),
    }
    page = ProjectPage("https://x", "p", True, releases)
    cutoff = at("2026-01-10T00:00:00")
    assert suggestion(page, "2.0", cutoff) == "1.0"
    assert suggestion(page, "2.0rc2", cutoff) == "2.0rc1"
    assert suggestion(page, "2.0", at("2025-01-01T00:00:00")) is None
    assert suggestion(None, "2.0", cutoff) is None
