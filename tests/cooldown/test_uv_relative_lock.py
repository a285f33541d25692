"""Cooldown on a modern uv.lock (pydantic-ai): relative exclude-newer, overrides, the installer.

Issue 13 item 5. The lockfile is a trimmed copy of pydantic-ai's (see
tests/realworld/pydantic-ai/ATTRIBUTION.md).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion._internal.config import load_config
from bastion._internal.controls.base import Project
from bastion._internal.controls.cooldown import CooldownControl
from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import discover
from bastion._internal.inputs.uv_lock import lock_options, parse_uv_lock
from bastion._internal.model import ControlResult, ControlStatus, Severity
from bastion._internal.threats import verdict
from tests.conftest import TESTS, run_git

PYDANTIC_AI = TESTS / "realworld" / "pydantic-ai"
LOCKED_AT = "2026-08-21T04:51:05Z"  # the commit that last changed pydantic-ai's uv.lock


def copy_project(target: Path, *, with_pyproject: bool = True) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(PYDANTIC_AI / "uv.lock", target / "uv.lock")
    if with_pyproject:
        shutil.copy(PYDANTIC_AI / "pyproject.toml", target / "pyproject.toml")
    return target


def commit(root: Path, date: str = LOCKED_AT) -> None:
    run_git(root, "init", "-q")
    run_git(root, "add", ".")
    run_git(root, "commit", "-q", "-m", "lock", date=date)


def run(root: Path, now: datetime, db: Path) -> ControlResult:
    return CooldownControl(db, now).run(Project(root, discover(root), load_config(root)))


@pytest.fixture
def no_advisories(tmp_path: Path) -> Path:
    from bastion._internal.advisories.store import import_records

    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "x.json").write_text('{"id": "X-1", "modified": "2026-01-01T00:00:00Z"}')
    db = tmp_path / "advisories.sqlite3"
    import_records(folder, db)
    return db


def test_the_placeholder_is_not_a_lock_time() -> None:
    source = parse_uv_lock(PYDANTIC_AI / "uv.lock")
    assert source.exclude_newer is None  # 0001-01-01 means "relative", not year one
    assert source.exclude_newer_span == timedelta(days=7)
    options = lock_options(PYDANTIC_AI / "uv.lock")
    assert options.relative
    assert options.per_package["logfire"] is None  # false: no cutoff for it
    assert options.per_package["anthropic"] == datetime(2026, 8, 20, 19, 58, 59, tzinfo=UTC)
    assert options.per_package["pydantic-core"] is None


def test_committed_lock_flags_only_the_package_the_project_let_through(
    tmp_path: Path, no_advisories: Path
) -> None:
    root = copy_project(tmp_path)
    commit(root)
    result = run(root, datetime(2026, 8, 22, tzinfo=UTC), no_advisories)
    # Before: all four flagged "uploaded 739761 days after the lock time".
    assert [f.package for f in result.findings] == ["anthropic"]
    (finding,) = result.findings
    assert "8 h before the lock" in finding.message
    assert "days after" not in finding.message
    assert finding.severity is Severity.MEDIUM
    assert "committed 2026-08-21" in result.detail
    assert "uv.lock with a relative exclude-newer-span of 7 days" in result.detail
    assert "4 packages checked" in result.detail


def test_the_projects_uv_setting_is_the_installer_enforcing_the_cooldown(
    tmp_path: Path, no_advisories: Path
) -> None:
    root = copy_project(tmp_path)
    commit(root)
    result = run(root, datetime(2026, 8, 22, tzinfo=UTC), no_advisories)
    assert result.enforced is True
    assert 'enforced at install time by uv exclude-newer = "7 days" (pyproject.toml:9)' in (
        result.detail
    )
    assert verdict([result]).value == "covered"


def test_without_the_setting_nothing_is_enforced(tmp_path: Path, no_advisories: Path) -> None:
    root = copy_project(tmp_path, with_pyproject=False)
    commit(root)
    result = run(root, datetime(2026, 8, 22, tzinfo=UTC), no_advisories)
    assert result.enforced is None
    assert "enforced at install time" not in result.detail
    assert verdict([result]).value == "local-only"


def test_a_setting_shorter_than_the_cooldown_does_not_count(
    tmp_path: Path, no_advisories: Path
) -> None:
    root = copy_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"7 days"', '"3 days"'))
    result = run(root, datetime(2026, 8, 30, tzinfo=UTC), no_advisories)
    assert result.enforced is None
    assert "holds back only 3 days, less than the 7 days cooldown: not counted" in result.detail


def test_exempted_packages_say_so(tmp_path: Path, no_advisories: Path) -> None:
    root = copy_project(tmp_path)  # not in git: the lock time is now
    result = run(root, datetime(2026, 8, 10, tzinfo=UTC), no_advisories)
    by_name = {f.package: f for f in result.findings}
    # logfire 4.40.0 (uploaded 2026-08-05) is 4 days old "now"; uv.lock sets it to false.
    assert "exclude-newer-package = false" in by_name["logfire"].message
    assert "after the lock time" in by_name["anthropic"].message  # uploaded after "now"
    assert "idna" not in by_name and "sniffio" not in by_name


def test_uv_toml_wins_over_pyproject(tmp_path: Path, no_advisories: Path) -> None:
    root = copy_project(tmp_path)
    (root / "uv.toml").write_text('exclude-newer = "2026-08-01T00:00:00Z"\n')
    result = run(root, datetime(2026, 8, 30, tzinfo=UTC), no_advisories)
    assert result.enforced is True
    assert 'uv exclude-newer = "2026-08-01T00:00:00Z" (uv.toml:1)' in result.detail
    (root / "uv.toml").write_text("native-tls = true\n")  # uv.toml without the setting
    assert run(root, datetime(2026, 8, 30, tzinfo=UTC), no_advisories).enforced is None


PIP_WORKFLOW = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      # pip install --uploaded-prior-to P1D would not count: this is a comment
      - run: pip install --require-hashes --uploaded-prior-to P14D -r requirements.txt
"""


def test_pip_uploaded_prior_to_in_ci_counts(tmp_path: Path, no_advisories: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(PIP_WORKFLOW)
    (tmp_path / "requirements.txt").write_text("idna==3.18\n")
    result = run(tmp_path, datetime(2026, 8, 30, tzinfo=UTC), no_advisories)
    # requirements.txt records no upload times: the installer still holds releases back.
    assert result.status is ControlStatus.PASS
    assert result.enforced is True
    assert "pip --uploaded-prior-to P14D (.github/workflows/ci.yml:7)" in result.detail
    assert "lock not checked: no upload times" in result.detail
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        PIP_WORKFLOW.replace("--uploaded-prior-to P14D ", "")
    )
    assert run(tmp_path, datetime(2026, 8, 30, tzinfo=UTC), no_advisories).status is (
        ControlStatus.NOT_CONFIGURED
    )


@pytest.mark.parametrize(
    "options",
    [
        'exclude-newer-span = "soon"',
        "[options.exclude-newer-package]\nlogfire = 3",
        '[options.exclude-newer-package]\nlogfire = "yesterday"',
        "exclude-newer-package = []",
    ],
)
def test_bad_options_name_the_file(tmp_path: Path, options: str) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(f"version = 1\n\n[options]\n{options}\n")
    with pytest.raises(InputError, match=r"uv\.lock"):
        parse_uv_lock(lock)


FAIL_OPEN_CI = """\
on: pull_request
permissions: {}
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: bastion check . || true
"""


def test_installer_enforcement_survives_a_fail_open_bastion_in_ci(
    tmp_path: Path, no_advisories: Path
) -> None:
    from bastion._internal.controls import Control
    from bastion._internal.controls.workflows import WorkflowControl
    from bastion._internal.engine import run_check
    from bastion._internal.model import Coverage

    root = copy_project(tmp_path / "project")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(FAIL_OPEN_CI)
    now = datetime(2026, 8, 30, tzinfo=UTC)
    controls: list[Control] = [CooldownControl(no_advisories, now), WorkflowControl()]
    report = run_check(root, controls=controls, now=now)
    cooldown = next(r for r in report.results if r.control == "cooldown")
    assert cooldown.enforced is True  # uv's exclude-newer, not the fail-open bastion step
    row = next(r for r in report.coverage if r.threat == "compromised-release")
    assert row.verdict is Coverage.COVERED
