"""The advisory database: atomic, incremental imports, bounded against hostile archives."""

from __future__ import annotations

import http.server
import json
import sqlite3
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bastion._internal.advisories.osv import ParseWarnings, parse_record
from bastion._internal.advisories.store import (
    advisories_for,
    import_records,
    newest_modified,
    open_database,
    status,
)
from bastion._internal.errors import InputError
from tests.advisories.test_matcher import SNAPSHOT
from tests.conftest import DATA, run_cli


def record(
    rid: str, package: str, modified: str = "2024-01-01T00:00:00Z", **extra: object
) -> bytes:
    data = {
        "id": rid,
        "modified": modified,
        "affected": [{"package": {"ecosystem": "PyPI", "name": package}, "versions": ["1.0"]}],
        **extra,
    }
    return json.dumps(data).encode()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_import_the_real_snapshot_and_query_it(tmp_path: Path) -> None:
    db_path = tmp_path / "a.sqlite3"
    result = import_records(SNAPSHOT, db_path)
    assert (result.read, result.added, sum(result.skipped.values())) == (11868, 11868, 0)
    info = status(db_path)
    assert info.by_prefix == {"MAL": 9207, "PYSEC": 2661}
    assert info.withdrawn == 10
    with closing(open_database(db_path)) as db:
        ids = {a.id for a in advisories_for(db, "django")}
    assert len(ids) > 50 and all(i.startswith("PYSEC-") for i in ids)


def test_incremental_update_by_modified(tmp_path: Path) -> None:
    db_path = tmp_path / "a.sqlite3"
    write_zip(tmp_path / "v1.zip", {"A.json": record("A", "pkg"), "B.json": record("B", "pkg")})
    import_records(tmp_path / "v1.zip", db_path)
    newer = record("A", "other", modified="2025-01-01T00:00:00Z", aliases=["CVE-1"])
    write_zip(tmp_path / "v2.zip", {"A.json": newer, "B.json": record("B", "pkg")})
    result = import_records(tmp_path / "v2.zip", db_path)
    assert (result.added, result.updated, result.unchanged) == (0, 1, 1)
    with closing(open_database(db_path)) as db:
        assert [a.id for a in advisories_for(db, "pkg")] == ["B"]
        assert [a.id for a in advisories_for(db, "other")] == ["A"]
        assert db.execute("SELECT alias FROM alias WHERE advisory_id = 'A'").fetchall() == [
            ("CVE-1",)
        ]


def test_withdrawn_records_are_stored_but_not_returned(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "w.zip", {"W.json": record("W", "pkg", withdrawn="2024-02-01T00:00:00Z")}
    )
    import_records(archive, tmp_path / "a.sqlite3")
    with closing(open_database(tmp_path / "a.sqlite3")) as db:
        assert advisories_for(db, "pkg") == []


@pytest.mark.parametrize("damage", ["truncated", "not-a-zip", "empty-dir"])
def test_a_failed_import_leaves_the_old_database_untouched(tmp_path: Path, damage: str) -> None:
    db_path = tmp_path / "a.sqlite3"
    import_records(write_zip(tmp_path / "good.zip", {"A.json": record("A", "pkg")}), db_path)
    before = db_path.read_bytes()
    bad = tmp_path / "bad.zip"
    if damage == "truncated":
        bad.write_bytes(SNAPSHOT.read_bytes()[:2_000_000])
    elif damage == "not-a-zip":
        bad.write_text("hello")
    else:
        bad.mkdir()
        (bad / "notes.txt").write_text("unrelated")
    with pytest.raises(InputError):
        import_records(bad, db_path)
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_bad_records_are_counted_skips(tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "good.json").write_bytes(record("G", "pkg"))
    (folder / "broken.json").write_text("{not json")
    (folder / "no-id.json").write_text('{"modified": "2024-01-01T00:00:00Z"}')
    (folder / "README.md").write_text("unrelated files are ignored")
    with (folder / "huge.json").open("wb") as handle:
        handle.truncate(1024 * 1024 * 1024)  # a sparse 1 GB record
    result = import_records(folder, tmp_path / "a.sqlite3")
    assert result.added == 1
    assert dict(result.skipped) == {
        "record is not JSON": 1,
        "record without an id": 1,
        "record larger than 16 MiB": 1,
    }


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "a.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE x (y)")
    with pytest.raises(InputError, match="not an advisory database"):
        import_records(write_zip(tmp_path / "z.zip", {"A.json": record("A", "p")}), foreign)


@pytest.fixture
def served_snapshot() -> Iterator[str]:
    payload = SNAPSHOT.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/PyPI/all.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_db_update_downloads_and_reports(served_snapshot: str, tmp_path: Path) -> None:
    db_path = tmp_path / "cache" / "a.sqlite3"
    code, out, err = run_cli(
        "db", "update", "--url", f"{served_snapshot}/PyPI/all.zip", "--db", str(db_path)
    )
    assert code == 0, err
    assert "11868 records read, 11868 added" in out
    assert [p.name for p in db_path.parent.iterdir()] == ["a.sqlite3"]  # download removed
    code, out, _ = run_cli("db", "status", "--db", str(db_path), "--format", "json")
    assert json.loads(out)["by_prefix"] == {"MAL": 9207, "PYSEC": 2661}
    code, _, err = run_cli(
        "db", "update", "--url", f"{served_snapshot}/missing.zip", "--db", str(db_path)
    )
    assert code == 2 and "cannot download" in err
    code, _, err = run_cli(
        "db", "update", "--url", "http://example.com/x.zip", "--db", str(db_path)
    )
    assert code == 2 and "refusing to download" in err


def test_db_status_without_a_database_exits_3(tmp_path: Path) -> None:
    code, _, err = run_cli("db", "status", "--db", str(tmp_path / "none.sqlite3"))
    assert code == 3 and "run 'bastion db update'" in err


def test_yaml_tree_like_pypa_advisory_database(tmp_path: Path) -> None:
    tree = tmp_path / "advisory-database" / "vulns" / "demo"
    tree.mkdir(parents=True)
    (tree / "PYSEC-2099-1.yaml").write_text(
        "id: PYSEC-2099-1\n"
        "modified: 2025-03-01T10:00:00Z\n"  # an unquoted YAML timestamp
        "aliases:\n- CVE-2099-1\n"
        "affected:\n- package:\n    name: demo\n    ecosystem: PyPI\n"
        "  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n"
        "    - fixed: '1.2'\n"
    )
    (tree / "PYSEC-2099-2.yml").write_text("id: [unclosed\n")
    bomb = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (tree / "PYSEC-2099-3.yaml").write_text("\n".join(bomb))
    (tree / "README.md").write_text("not a record")
    malicious = tmp_path / "advisory-database" / "osv" / "malicious" / "pypi" / "evil"
    malicious.mkdir(parents=True)
    (malicious / "MAL-2099-1.json").write_bytes(record("MAL-2099-1", "evil"))
    db_path = tmp_path / "a.sqlite3"
    result = import_records(tmp_path / "advisory-database", db_path)
    assert (result.read, result.added) == (4, 2)
    assert result.skipped == {"record is not valid YAML": 2}
    with closing(open_database(db_path)) as db:
        (advisory,) = advisories_for(db, "demo")
        assert advisory.aliases == ("CVE-2099-1",)
        assert advisory.modified.isoformat() == "2025-03-01T10:00:00+00:00"
        assert newest_modified(db) is not None


def test_real_pypa_yaml_tree_matches_the_json_snapshot(tmp_path: Path) -> None:
    with tarfile.open(DATA / "osv" / "pypa-advisory-database-vulns.tar.gz") as archive:
        archive.extractall(tmp_path / "tree", filter="data")
    db_path = tmp_path / "yaml.sqlite3"
    result = import_records(tmp_path / "tree", db_path)
    assert (result.read, result.added, sum(result.skipped.values())) == (2661, 2661, 0)
    warnings = ParseWarnings()
    with closing(open_database(db_path)) as db:
        from_yaml = {
            rid: parse_record(json.loads(raw), warnings)
            for rid, raw in db.execute("SELECT id, record FROM advisory")
        }
    with zipfile.ZipFile(SNAPSHOT) as archive:
        from_json = {
            name.removesuffix(".json"): parse_record(json.loads(archive.read(name)), warnings)
            for name in archive.namelist()
            if name.startswith("PYSEC-")
        }
    assert from_yaml == from_json
