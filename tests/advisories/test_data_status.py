"""Advisory data a user can trust: sources shown separately, the way out of stale data named,
findings and incompleteness reported together, sqlite:/// URLs (issue 13 items 9 and 13).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion._internal.advisories.store import import_records, status
from bastion._internal.cli import cli
from bastion._internal.config import Config
from bastion._internal.controls.advisories import AdvisoryControl
from bastion._internal.controls.base import Project
from bastion._internal.db_url import sqlite_path
from bastion._internal.engine import run_check
from bastion._internal.errors import IncompleteError, UsageError
from bastion._internal.inputs.discovery import discover
from bastion._internal.model import ControlStatus
from bastion._internal.report import renderer

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def record(rid: str, modified: str, package: str = "demo-pkg") -> dict[str, object]:
    return {
        "id": rid,
        "modified": modified,
        "summary": f"{rid} in {package}",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                ],
            }
        ],
    }


def database(folder: Path, records: list[dict[str, object]]) -> Path:
    source = folder / "records"
    source.mkdir(parents=True)
    for item in records:
        (source / f"{item['id']}.json").write_text(json.dumps(item))
    db = folder / "advisories.sqlite3"
    import_records(source, db)
    return db


@pytest.fixture
def thin_db(tmp_path: Path) -> Path:
    """PYSEC and MAL records and one of another source; no GHSA, as in the bundled snapshot."""
    return database(
        tmp_path / "db",
        [
            record("PYSEC-2024-1", "2024-10-10T00:00:00Z"),
            record("PYSEC-2023-9", "2023-01-01T00:00:00Z", "other"),
            record("MAL-2025-7", "2025-06-04T00:00:00Z", "evil-pkg"),
            record("OSV-2025-3", "2025-01-01T00:00:00Z", "third"),
        ],
    )


def test_status_shows_each_source_and_what_is_missing(thin_db: Path) -> None:
    info = status(thin_db)
    assert [(s.prefix, s.records) for s in info.sources] == [
        ("PYSEC", 2),
        ("MAL", 1),
        ("OSV", 1),
    ]
    newest = {s.prefix: s.newest_modified for s in info.sources}
    assert newest["PYSEC"] == datetime(2024, 10, 10, tzinfo=UTC)
    assert newest["MAL"] == datetime(2025, 6, 4, tzinfo=UTC)
    assert info.missing == ("GHSA",)


def test_db_status_text_and_json_through_a_sqlite_url(thin_db: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["db", "status", "--db", f"sqlite:///{thin_db}"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    pysec = next(line for line in lines if line.startswith("PYSEC"))
    assert "2" in pysec and "2024-10-10" in pysec and "days" in pysec
    ghsa = next(line for line in lines if line.startswith("GHSA"))
    assert "missing" in ghsa and "no evidence of safety" in ghsa
    assert "bastion db update --from FILE" in text.output
    data = json.loads(
        runner.invoke(cli, ["db", "status", "--db", str(thin_db), "--format", "json"]).output
    )
    assert data["missing_sources"] == ["GHSA"]
    by_source = {s["source"]: s for s in data["sources"]}
    assert by_source["MAL"]["records"] == 1
    assert by_source["MAL"]["age_days"] >= 180
    assert by_source["OSV"]["title"] is None


def test_a_complete_database_misses_nothing(tmp_path: Path) -> None:
    db = database(
        tmp_path,
        [record(f"{p}-1", "2026-11-30T00:00:00Z") for p in ("PYSEC", "GHSA", "MAL")],
    )
    assert status(db).missing == ()
    result = CliRunner().invoke(cli, ["db", "status", "--db", str(db)])
    assert "missing" not in result.output


def project(root: Path, config: Config) -> Project:
    (root / "requirements.txt").write_text("demo-pkg==1.0\n")
    return Project(root, discover(root), config)


def test_stale_data_names_both_ways_out_and_keeps_the_findings(
    tmp_path: Path, thin_db: Path
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    result = AdvisoryControl(thin_db, NOW).run(project(root, Config()))
    assert result.status is ControlStatus.ERROR  # fail closed ...
    assert [f.rule_id for f in result.findings] == ["known-vulnerable"]  # ... and still says it
    assert "past advisory-max-days (30)" in result.detail
    assert "1 findings on this data" in result.detail
    assert "'bastion db update'" in result.detail
    assert "'bastion db update --from FILE'" in result.detail
    assert "--advisory-max-days" in result.detail
    assert "no GHSA records in this database" in result.detail
    fresh = AdvisoryControl(thin_db, NOW).run(project(root, Config(advisory_max_days=1000)))
    assert fresh.status is ControlStatus.FAIL
    assert "past advisory-max-days" not in fresh.detail


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown", "github"])
def test_found_but_incomplete_says_both_in_every_format(
    tmp_path: Path, thin_db: Path, fmt: str
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("demo-pkg==1.0\n")
    report = run_check(root, controls=[AdvisoryControl(thin_db, NOW)], now=NOW)
    assert report.incomplete and report.exit_code == 1
    out = renderer(fmt)(report, False)
    assert "PYSEC-2024-1" in out  # the finding
    if fmt in ("json", "sarif"):
        data = json.loads(out)
        if fmt == "json":
            assert data["summary"]["incomplete"] is True
            (control,) = data["controls"]
            assert control["status"] == "error" and control["findings"] == 1
            assert "past advisory-max-days" in control["detail"]
        else:
            invocation = data["runs"][0]["invocations"][0]
            assert invocation["executionSuccessful"] is False
            notes = json.dumps(invocation["toolExecutionNotifications"])
            assert "past advisory-max-days" in notes
    else:
        assert "incomplete" in out
        assert "advisories" in out
        assert "Exit code 1" in out or "exit code 1" in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sqlite:///data/adv.db", Path("data/adv.db")),
        ("sqlite:////var/lib/adv.db", Path("/var/lib/adv.db")),
        ("plain/file.sqlite3", Path("plain/file.sqlite3")),
    ],
)
def test_sqlite_urls_name_files(value: str, expected: Path) -> None:
    assert sqlite_path(value) == expected


@pytest.mark.parametrize(
    "value", ["sqlite://", "sqlite:///", "sqlite:///x.db?mode=ro", "sqlite:memory", "mysql://h/db"]
)
def test_urls_that_name_no_sqlite_file_are_usage_errors(value: str) -> None:
    with pytest.raises(UsageError, match="--db"):
        sqlite_path(value)


def test_db_update_writes_where_the_url_says(
    tmp_path: Path, thin_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    records = thin_db.parent / "records"
    runner = CliRunner()
    relative = runner.invoke(
        cli, ["db", "update", "--from", str(records), "--db", "sqlite:///rel/a.db"]
    )
    assert relative.exit_code == 0, relative.output
    assert status(tmp_path / "rel" / "a.db").records == 4
    absolute = tmp_path / "abs.db"
    result = runner.invoke(
        cli, ["db", "update", "--from", str(records), "--db", f"sqlite:///{absolute}"]
    )
    assert result.exit_code == 0 and status(absolute).records == 4
    wrong = runner.invoke(cli, ["db", "status", "--db", "postgresql://localhost/adv"])
    assert wrong.exit_code != 0
    assert "a SQLite file (a path or sqlite:///PATH)" in wrong.output


def test_the_inventory_takes_sqlite_urls_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion._internal.inventory.store import Inventory, database_url

    monkeypatch.chdir(tmp_path)
    assert database_url("sqlite:///inv/a.sqlite") == f"sqlite:///{tmp_path / 'inv' / 'a.sqlite'}"
    assert database_url(f"sqlite:///{tmp_path}/b.sqlite") == f"sqlite:///{tmp_path / 'b.sqlite'}"
    with pytest.raises(UsageError, match="--db"):
        database_url("sqlite://")
    store = Inventory("sqlite:///inv/a.sqlite")
    assert store.counts() == (0, 0, 0)
    store.close()
    assert (tmp_path / "inv" / "a.sqlite").is_file()


def test_advisory_max_days_on_the_command_line(tmp_path: Path, thin_db: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("demo-pkg==1.0\n")
    runner = CliRunner()
    base = ["audit", str(root), "--db", f"sqlite:///{thin_db}", "--format", "json"]
    stale = json.loads(runner.invoke(cli, base).output)
    assert stale["summary"]["incomplete"] is True
    accepted = runner.invoke(cli, [*base, "--advisory-max-days", "36500"])
    data = json.loads(accepted.output)
    assert data["summary"]["incomplete"] is False
    assert [c["status"] for c in data["controls"]] == ["fail"]
    assert accepted.exit_code == 1  # the finding still fails the run
    bad = runner.invoke(cli, [*base, "--advisory-max-days", "-1"])
    assert bad.exit_code != 0 and "--advisory-max-days" in bad.output


def test_sbom_with_vulnerabilities_takes_the_same_override(tmp_path: Path, thin_db: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("demo-pkg==1.0\n")
    runner = CliRunner()
    base = ["sbom", str(root), "--with-vulnerabilities", "--db", f"sqlite:///{thin_db}"]
    stale = runner.invoke(cli, base)
    assert isinstance(stale.exception, IncompleteError)  # main() turns it into exit code 2
    assert "bastion db update --from FILE" in str(stale.exception)
    accepted = runner.invoke(cli, [*base, "--advisory-max-days", "36500"])
    assert accepted.exit_code == 0, accepted.output
    vulnerabilities = json.loads(accepted.stdout)["vulnerabilities"]
    assert [v["id"] for v in vulnerabilities] == ["PYSEC-2024-1"]


def test_the_proxy_state_takes_sqlite_urls_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion._internal.proxy.state import state_url

    monkeypatch.chdir(tmp_path)
    assert state_url("sqlite:///rules.sqlite") == f"sqlite:///{tmp_path / 'rules.sqlite'}"
    assert state_url(f"sqlite:///{tmp_path}/s.db") == f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(UsageError, match="--state"):
        state_url("sqlite://")


def test_the_way_out_is_named_once(tmp_path: Path, thin_db: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    stale = AdvisoryControl(thin_db, NOW).run(project(root, Config()))
    assert stale.detail.count("bastion db update --from FILE") == 1
    fresh = AdvisoryControl(thin_db, NOW).run(project(root, Config(advisory_max_days=1000)))
    assert fresh.detail.count("bastion db update --from FILE") == 1  # for the missing GHSA
