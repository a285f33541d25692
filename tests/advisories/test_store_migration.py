"""Schema 2 (matching data at import): same audits as full-record matching; schema 1 migrated.

- ``audit_version`` on the prepared data gives the matches, fixed versions and fix plan that
  matching every full record gives, for every package of the real snapshot (withdrawn and MAL
  records, odd versions, ``last_affected`` and ``limit`` included);
- a schema-1 database is migrated when opened, atomically: a record that is not JSON stops
  the migration and leaves the file byte for byte as it was; a folder where the migrated
  copy cannot be written gets the migration in memory; ``db update`` migrates too; an
  unknown schema is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from bastion._internal.advisories.audit import (
    AdvisoryIndex,
    _fixed_above,
    _vulnerability,
    affects,
    audit_version,
    audit_versions,
)
from bastion._internal.advisories.matcher import parse_version
from bastion._internal.advisories.osv import Advisory, ParseWarnings
from bastion._internal.advisories.store import (
    SCHEMA_VERSION,
    advisories_for,
    import_records,
    open_database,
    source_counts,
    status,
)
from bastion._internal.errors import InputError
from tests.advisories.test_matcher import SNAPSHOT
from tests.advisories.test_store import record, write_zip
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def snapshot_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("snapshot") / "advisories.sqlite3"
    import_records(SNAPSHOT, db)
    return db


def downgrade(db_path: Path, schema: str = "1") -> None:
    """Turn a database into what bastion wrote before: schema 1 had no matching data, no
    digests and no stored counts; 2 to 4 matching data in another form (here: stale), 3 the
    digests in the advisory table, 4 in their own table."""
    with closing(sqlite3.connect(db_path)) as db:
        if schema != "4":
            db.execute("DROP TABLE digest")
            db.execute("DELETE FROM meta WHERE key = 'source_counts'")
        if schema == "1":
            db.execute("ALTER TABLE affected DROP COLUMN prepared")
        else:
            db.execute("UPDATE affected SET prepared = '[]'")
        if schema == "3":
            db.execute("ALTER TABLE advisory ADD COLUMN digest TEXT")
            db.execute("UPDATE advisory SET digest = record")
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (schema,))
        db.commit()


def schema_of(db_path: Path) -> str:
    with closing(sqlite3.connect(db_path)) as db:
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return str(value)


def reference_fix(records: list[Advisory], package: str, version: str) -> str | None:
    """The fix plan by full-record matching (bastion's rule before schema 2), without shortcuts."""
    current = parse_version(version)
    candidates = _fixed_above(records, package, current)
    allow_pre = current is not None and current.is_prerelease
    quiet = ParseWarnings()
    for candidate in sorted(candidates, key=lambda v: (v.is_prerelease and not allow_pre, v)):
        text = candidates[candidate]
        if not any(affects(a, package, text, quiet) for a in records):
            return text
    return None


def check_against_full_records(
    index: AdvisoryIndex, records: list[Advisory], package: str, version: str
) -> int:
    old, new = ParseWarnings(), ParseWarnings()
    matched = [a for a in records if affects(a, package, version, old)]
    result = audit_version(index, package, version, new)
    assert new.counts == old.counts
    ids = {a.id for a in matched}
    found = {v.id for v in result.vulnerabilities} | {
        alias for v in result.vulnerabilities for alias in v.aliases
    }
    assert ids <= found and all(i in ids or i not in {a.id for a in records} for i in found)
    data = {r.advisory_id: r for r in index.prepared(package)}
    for vulnerability in result.vulnerabilities:
        group = [a for a in matched if a.id == vulnerability.id or a.id in vulnerability.aliases]
        above = _fixed_above(group, package, parse_version(version))
        assert vulnerability.fixed_in == tuple(above[v] for v in sorted(above))
        # Summary, severity, references, dates: from the digests as from the full records.
        assert _vulnerability(package, version, group, data) == vulnerability
    expected_fix = reference_fix(records, package, version) if matched else None
    assert result.fix == expected_fix, (package, version)
    return len(matched)


def test_audits_equal_full_record_matching_on_the_snapshot(snapshot_db: Path) -> None:
    with zipfile.ZipFile(SNAPSHOT) as archive:
        raw = [json.loads(archive.read(n)) for n in sorted(archive.namelist())]
    probes: dict[str, set[str]] = {}
    withdrawn = set()
    for item in raw:
        malicious = item["id"].startswith("MAL-")
        for entry in item.get("affected", []):
            name = entry["package"]["name"].lower().replace("_", "-").replace(".", "-")
            if malicious and len(probes) > 1000 and name not in probes:
                continue  # every PYSEC package, a sample of the malicious ones
            versions = probes.setdefault(name, {"0", "1.0", "99999", "not a version"})
            versions.update(entry.get("versions", [])[-3:])
            for ranges in entry.get("ranges", []):
                for event in ranges.get("events", []):
                    versions.update(str(v) for v in event.values())
            if item.get("withdrawn"):
                withdrawn.add(name)
    assert withdrawn & set(probes)
    matched = checked = 0
    with closing(open_database(snapshot_db)) as db:
        index = AdvisoryIndex(db)
        index.load(probes)
        for package, versions in sorted(probes.items()):
            records = advisories_for(db, package)
            ordered = sorted(versions)
            for version in ordered[:: max(1, len(ordered) // 6)]:  # six, spread over the list
                matched += check_against_full_records(index, records, package, version)
                checked += 1
    assert checked > 5_000 and matched > 5_000


@pytest.mark.parametrize("schema", ["1", "3"])  # 2 is 3 without digests: on a small database
def test_older_database_is_migrated_on_open(tmp_path: Path, snapshot_db: Path, schema: str) -> None:
    db_path = tmp_path / "advisories.sqlite3"
    db_path.write_bytes(snapshot_db.read_bytes())
    downgrade(db_path, schema)
    assert schema_of(db_path) == schema
    with closing(open_database(db_path)) as migrated, closing(open_database(snapshot_db)) as fresh:
        for package, version in [("django", "3.2"), ("jinja2", "2.10"), ("requests", "2.0.0")]:
            expected = audit_version(AdvisoryIndex(fresh), package, version, ParseWarnings())
            got = audit_version(AdvisoryIndex(migrated), package, version, ParseWarnings())
            assert got == expected and got.vulnerabilities
        # Matching data on every row but those of withdrawn records; a digest per record.
        (wrong,) = migrated.execute(
            "SELECT count(*) FROM affected f JOIN advisory a ON a.id = f.advisory_id "
            "WHERE (f.prepared IS NULL) != (a.withdrawn = 1) OR f.prepared = '[]'"
        ).fetchone()
        assert wrong == 0
        (no_digest,) = migrated.execute(
            "SELECT count(*) FROM advisory WHERE id NOT IN (SELECT advisory_id FROM digest)"
        ).fetchone()
        assert no_digest == 0
        counted = dict(
            migrated.execute(
                "SELECT substr(id, 1, instr(id, '-') - 1), count(*) FROM advisory GROUP BY 1"
            ).fetchall()
        )
        assert source_counts(migrated) == counted == {"MAL": 9207, "PYSEC": 2661}
    assert schema_of(db_path) == str(SCHEMA_VERSION)
    assert [p.name for p in tmp_path.iterdir()] == ["advisories.sqlite3"]  # no leftovers


def _small_v1(tmp_path: Path, schema: str = "1") -> Path:
    db_path = tmp_path / "advisories.sqlite3"
    import_records(
        write_zip(tmp_path / "a.zip", {"A.json": record("A", "pkg"), "B.json": record("B", "x")}),
        db_path,
    )
    downgrade(db_path, schema)
    return db_path


def test_failed_migration_leaves_the_old_database_intact(tmp_path: Path) -> None:
    db_path = _small_v1(tmp_path)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("UPDATE advisory SET record = '{not json' WHERE id = 'B'")
        db.commit()
    before = db_path.read_bytes()
    with pytest.raises(InputError, match="stored record 'B' is not JSON"):
        open_database(db_path)
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "advisories.sqlite3"]


def test_unwritable_folder_migrates_in_memory(tmp_path: Path) -> None:
    db_path = _small_v1(tmp_path)
    before = db_path.read_bytes()
    # The migrated copy's place is taken by a folder: the copy cannot be written there.
    blocker = db_path.with_name(f".{db_path.name}.{os.getpid()}.migrate")
    blocker.mkdir()
    with closing(open_database(db_path)) as db:
        (version,) = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == str(SCHEMA_VERSION)
        result = audit_version(AdvisoryIndex(db), "pkg", "1.0", ParseWarnings())
        assert [v.id for v in result.vulnerabilities] == ["A"]
    assert db_path.read_bytes() == before and blocker.is_dir()


@pytest.mark.parametrize("schema", ["1", "2", "3", "4"])
def test_db_update_migrates_an_older_database(tmp_path: Path, schema: str) -> None:
    db_path = _small_v1(tmp_path, schema)
    newer = write_zip(tmp_path / "b.zip", {"C.json": record("C", "pkg")})
    result = import_records(newer, db_path)
    assert (result.added, result.unchanged) == (1, 0)
    assert schema_of(db_path) == str(SCHEMA_VERSION)
    assert status(db_path).records == 3
    with closing(open_database(db_path)) as db:
        found = audit_version(AdvisoryIndex(db), "pkg", "1.0", ParseWarnings())
    assert [v.id for v in found.vulnerabilities] == ["A", "C"]


@pytest.mark.parametrize("version", ["0", "6", "two"])
def test_unknown_schema_is_refused(tmp_path: Path, version: str) -> None:
    db_path = _small_v1(tmp_path)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
        db.commit()
    before = db_path.read_bytes()
    with pytest.raises(InputError, match="another schema version"):
        open_database(db_path)
    assert db_path.read_bytes() == before


def test_audit_command_on_a_database_whose_migration_fails(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    db_path = _small_v1(cache)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("UPDATE advisory SET record = '[' WHERE id = 'A'")
        db.commit()
    before = db_path.read_bytes()
    (tmp_path / "requirements.txt").write_text("pkg==1.0\n")
    code, out, err = run_cli("audit", "-r", "requirements.txt", "--db", str(db_path), cwd=tmp_path)
    assert code == 3, out + err
    assert "stored record 'A' is not JSON" in err and len(err.strip().splitlines()) == 1
    assert db_path.read_bytes() == before


def _small_current(tmp_path: Path) -> Path:
    db_path = tmp_path / "advisories.sqlite3"
    records = {"A.json": record("A", "pkg"), "B.json": record("B", "other")}
    import_records(write_zip(tmp_path / "a.zip", records), db_path)
    return db_path


@pytest.mark.parametrize(
    "junk",
    [
        "{",  # not JSON
        '{"a": 1}',  # not a list of entries
        '"text"',
        "[[1, 2, 3, 4]]",  # listed versions that are not a string
        '[[[], [], [[[1, "introduced"]], []], []]]',  # an order key that is a number
        "[[[], [], [7], []]]",  # a range that is not a pair
        '[["\\n1\\n", [], [], [[5, "1.0"]]]]',  # a fixed version keyed by a number
        "[[[], [], []]]",  # three fields instead of four
    ],
)
def test_tampered_matching_data_is_an_input_error(tmp_path: Path, junk: str) -> None:
    db_path = _small_current(tmp_path)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("UPDATE affected SET prepared = ? WHERE advisory_id = 'A'", (junk,))
        db.commit()
    with closing(open_database(db_path)) as db, pytest.raises(InputError) as caught:
        audit_versions(AdvisoryIndex(db), [("other", "1.0"), ("pkg", "1")], ParseWarnings())
    assert caught.value.path == db_path and "malformed" in caught.value.message
    assert "'pkg'" in caught.value.message or "'A'" in caught.value.message


def test_tampered_digest_fails_the_audit_command_with_one_line(tmp_path: Path) -> None:
    db_path = _small_current(tmp_path)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("UPDATE digest SET digest = '[' WHERE advisory_id = 'A'")
        db.commit()
    (tmp_path / "requirements.txt").write_text("pkg==1.0\n")
    code, out, err = run_cli("audit", "-r", "requirements.txt", "--db", str(db_path), cwd=tmp_path)
    assert code == 3, out + err
    assert "stored digest of 'A' is malformed" in err and str(db_path) in err
    assert len(err.strip().splitlines()) == 1
