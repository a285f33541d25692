"""The offline advisory database: one SQLite file, indexed by canonical package name.

Imports are atomic: the new database is written next to the old one and
renamed over it only when the import succeeded, so a failed or corrupt import
leaves the old database untouched. They are incremental: a record is rewritten
only when its ``modified`` time is newer than the stored one.

Each ``affected`` row (a package a record names) carries the record's
matching data for that package (``prepared``), computed at import, so an
audit neither parses every record of a package nor any version list. A
database of schema 1 (written before that column existed) is migrated when
opened: the copy is migrated next to it and renamed over it only when the
migration succeeded (in memory when the folder is not writable), so a failed
migration leaves the old file as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from bastion._internal.advisories.osv import Advisory, ParseWarnings, parse_record
from bastion._internal.advisories.prepared import PreparedRecord, decode, encode
from bastion._internal.errors import InputError
from bastion._internal.safe_read import excerpt, read_bytes
from bastion._internal.user_cache import cache_dir

if TYPE_CHECKING:
    import zipfile

SCHEMA_VERSION = 5
# Schema 1 had no matching data, 2 to 4 other forms of it (longer keys, digests inside the
# advisory table, withdrawn records' data kept, versions lists as lists): all are migrated.
MIGRATABLE_VERSIONS = frozenset({"1", "2", "3", "4"})
DIGEST_LEFT_OUT = ("affected", "details")  # what a finding does not show
MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_RECORDS = 2_000_000
DB_NAME = "advisories.sqlite3"
RECORD_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
YAML_MAX_NODES = 200_000

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisory (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE digest (advisory_id TEXT PRIMARY KEY, digest TEXT NOT NULL);
CREATE TABLE affected (package TEXT NOT NULL, advisory_id TEXT NOT NULL, prepared TEXT);
CREATE INDEX affected_by_package ON affected (package);
CREATE INDEX affected_by_advisory ON affected (advisory_id);
CREATE TABLE alias (alias TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX alias_by_alias ON alias (alias);
CREATE INDEX alias_by_advisory ON alias (advisory_id);
"""


def default_db_path() -> Path:
    """The database in bastion's user cache folder (``user_cache.cache_dir``)."""
    return cache_dir() / DB_NAME


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

    read: int
    added: int
    updated: int
    unchanged: int
    skipped: Counter[str]


# The sources OSV's PyPI dump (PyPI/all.zip) holds; data without one of them is thin.
EXPECTED_SOURCES: dict[str, str] = {
    "PYSEC": "PyPI advisory database (pypa/advisory-database)",
    "GHSA": "GitHub security advisories",
    "MAL": "OpenSSF malicious packages",
}
UPDATE_HINT = (
    "run 'bastion db update' (or, without network, 'bastion db update --from FILE' with OSV's "
    "PyPI/all.zip copied from a machine that has network)"
)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source of records in the database (an id prefix): count and freshness."""

    prefix: str
    records: int
    withdrawn: int
    newest_modified: datetime | None


@dataclass(frozen=True, slots=True)
class DbStatus:
    """What a database holds and how old it is."""

    path: Path
    records: int
    by_prefix: dict[str, int]
    withdrawn: int
    newest_modified: datetime | None
    imported_at: datetime | None
    source: str
    sources: tuple[SourceStatus, ...] = ()

    @property
    def missing(self) -> tuple[str, ...]:
        """The sources OSV's PyPI dump has that this database lacks (GHSA in the snapshot)."""
        return missing_sources({s.prefix for s in self.sources})


def _raw_records(source: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every record in an OSV zip or a directory tree, bounded.

    A directory may hold OSV JSON (``*.json``, as in ossf/malicious-packages) or
    OSV YAML (``*.yaml``/``*.yml``, as in pypa/advisory-database).
    """
    if source.is_dir():
        yield from _folder_records(source)
        return
    import zipfile

    with _open_regular(source) as handle:
        try:
            archive = zipfile.ZipFile(handle)  # imported here: an audit never reads archives
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise InputError(source, f"not a readable zip archive: {exc}") from None
        with archive:
            yield from _archive_records(source, archive)


def _folder_records(source: Path) -> Iterator[tuple[str, bytes]]:
    total = 0
    paths = sorted(p for p in source.rglob("*") if p.suffix in RECORD_SUFFIXES)
    for count, path in enumerate(paths, start=1):
        if count > MAX_RECORDS:
            raise InputError(source, f"more than {MAX_RECORDS} records")
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        if total > MAX_TOTAL_BYTES:
            raise InputError(source, "more than 4 GiB of records")
        if size > MAX_RECORD_BYTES:
            yield path.name, b""  # counted as too large by the caller
            continue
        yield path.name, read_bytes(path, limit=MAX_RECORD_BYTES)


def _open_regular(source: Path) -> BinaryIO:
    """Open an archive to import: a regular file only (a FIFO would block, a device never end)."""
    try:
        descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(source, "file not found") from None
    except OSError as exc:
        raise InputError(source, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise InputError(source, "not a regular file or folder (a FIFO or device is never read)")
    return os.fdopen(descriptor, "rb")


# Compression methods the standard library reads (zipfile's ZIP_STORED, ZIP_DEFLATED,
# ZIP_BZIP2, ZIP_LZMA); anything else (and encryption) is refused by name before a member is
# opened, instead of a NotImplementedError or RuntimeError.
_READABLE_METHODS = {0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma"}


def _archive_records(source: Path, archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
    import zipfile
    import zlib

    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_RECORDS:
        raise InputError(source, f"more than {MAX_RECORDS} records")
    if sum(m.file_size for m in members) > MAX_TOTAL_BYTES:
        raise InputError(source, "archive expands to more than 4 GiB")
    for member in members:
        if not member.filename.endswith(".json"):
            continue
        shown = excerpt(member.filename)
        if member.flag_bits & 0x1:
            raise InputError(source, f"archive member {shown} is encrypted")
        if member.compress_type not in _READABLE_METHODS:
            method = member.compress_type
            raise InputError(source, f"archive member {shown} uses compression method {method}")
        if member.file_size > MAX_RECORD_BYTES:
            yield member.filename, b""
            continue
        try:
            with archive.open(member) as handle:
                data = handle.read(MAX_RECORD_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError) as exc:
            reason = excerpt(str(exc) or type(exc).__name__)
            raise InputError(source, f"corrupt archive member {shown}: {reason}") from None
        except NotImplementedError:
            raise InputError(source, f"archive member {shown}: unsupported format") from None
        yield member.filename, data


def digest(raw: dict[str, Any]) -> str:
    """The record without what a finding never shows (affected entries, details): compact JSON
    that parses quickly into an ``Advisory`` with ``affected`` and ``details`` empty."""
    kept = {key: value for key, value in raw.items() if key not in DIGEST_LEFT_OUT}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False)


def _decode(name: str, data: bytes, warnings: ParseWarnings) -> tuple[Advisory, str, str] | None:
    if not data or len(data) > MAX_RECORD_BYTES:
        warnings.add("record larger than 16 MiB")
        return None
    raw: Any
    if name.endswith(".json"):
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, 4,300+ digit integers
            warnings.add("record is not JSON")
            return None
    else:
        from bastion._internal import safe_yaml  # PyYAML only for YAML trees

        try:
            raw = safe_yaml.load(Path(name), data.decode("utf-8"), max_nodes=YAML_MAX_NODES)
        except (InputError, UnicodeDecodeError):
            warnings.add("record is not valid YAML")
            return None
    advisory = parse_record(raw, warnings)
    if advisory is None:
        return None
    return advisory, json.dumps(raw, separators=(",", ":"), ensure_ascii=False), digest(raw)


def import_records(source: Path, db_path: Path) -> ImportResult:
    """Import an OSV zip or directory into ``db_path`` atomically and incrementally."""
    if not source.is_dir():
        _open_regular(source).close()  # refuse a FIFO or device before any file is written
    db_path.parent.mkdir(parents=True, exist_ok=True)
    temp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    try:
        if db_path.exists():
            _copy_database(db_path, temp)
        else:
            with closing(sqlite3.connect(temp)) as fresh:
                fresh.executescript(_SCHEMA)
                fresh.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                fresh.commit()
        result = _import_into(source, temp)
        temp.replace(db_path)
        return result
    finally:
        temp.unlink(missing_ok=True)


def _copy_database(source: Path, target: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as old:
            version = _check_schema(old, source)
            with closing(sqlite3.connect(target)) as new:
                old.backup(new)
                if version != str(SCHEMA_VERSION):
                    _migrate(new, source)
    except sqlite3.DatabaseError as exc:
        raise InputError(source, f"not an advisory database: {exc}") from None


def _check_schema(connection: sqlite3.Connection, path: Path) -> str:
    """The schema version: this one or one ``_migrate`` upgrades; else an ``InputError``."""
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or (row[0] != str(SCHEMA_VERSION) and row[0] not in MIGRATABLE_VERSIONS):
        raise InputError(path, "advisory database of another schema version; delete it")
    return str(row[0])


def _migrate(db: sqlite3.Connection, path: Path, *, compact: bool = True) -> None:
    """Upgrade a writable database of an older schema in place: recompute every row's matching
    data and every record's digest from the stored records, then the source counts."""
    if "prepared" not in {row[1] for row in db.execute("PRAGMA table_info(affected)")}:
        db.execute("ALTER TABLE affected ADD COLUMN prepared TEXT")
    if "digest" in {row[1] for row in db.execute("PRAGMA table_info(advisory)")}:
        db.execute("UPDATE advisory SET digest = NULL")  # schema 3 kept digests there
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest (advisory_id TEXT PRIMARY KEY, digest TEXT NOT NULL)"
    )
    db.execute("DELETE FROM digest")
    warnings = ParseWarnings()
    parsed: dict[str, Advisory | None] = {}
    digests = []
    for advisory_id, record in db.execute("SELECT id, record FROM advisory").fetchall():
        try:
            raw = json.loads(record)
        except (ValueError, RecursionError, TypeError):
            shown = excerpt(str(advisory_id))
            raise InputError(path, f"stored record {shown} is not JSON") from None
        advisory = parse_record(raw, warnings)
        parsed[advisory_id] = advisory
        if advisory is not None and isinstance(raw, dict):
            digests.append((advisory_id, digest(raw)))
    db.executemany("INSERT INTO digest VALUES (?, ?)", digests)
    updates = []
    for rowid, package, advisory_id in db.execute(
        "SELECT rowid, package, advisory_id FROM affected"
    ).fetchall():
        updates.append((_prepared(parsed.get(advisory_id), package), rowid))
    db.executemany("UPDATE affected SET prepared = ? WHERE rowid = ?", updates)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    _write_counts(db)
    db.commit()
    if compact:
        db.execute("VACUUM")  # the rewritten rows back in order: an audit reads fewer pages


def _prepared(advisory: Advisory | None, package: str) -> str | None:
    """The matching data stored for one row; none for a withdrawn or unusable record (an audit
    reads only rows that have it, so it never needs the advisory table to skip them)."""
    if advisory is None or advisory.withdrawn is not None:
        return None
    return encode(advisory, package)


def _write_counts(db: sqlite3.Connection) -> None:
    """Record counts by source, stored so that an audit need not scan every id for them."""
    rows = db.execute(
        "SELECT CASE WHEN instr(id, '-') > 0 THEN substr(id, 1, instr(id, '-') - 1) ELSE id END, "
        "count(*) FROM advisory GROUP BY 1"
    )
    counts = {str(prefix): int(count) for prefix, count in rows}
    db.execute("INSERT OR REPLACE INTO meta VALUES ('source_counts', ?)", (json.dumps(counts),))


def _import_into(source: Path, db_path: Path) -> ImportResult:
    warnings = ParseWarnings()
    added = updated = unchanged = read = 0
    with closing(sqlite3.connect(db_path)) as db:
        stored = dict(db.execute("SELECT id, modified FROM advisory"))
        for name, data in _raw_records(source):
            read += 1
            decoded = _decode(name, data, warnings)
            if decoded is None:
                continue
            advisory, compact, short = decoded
            modified = advisory.modified.isoformat()
            previous = stored.get(advisory.id)
            if previous is not None and previous >= modified:
                unchanged += 1
                continue
            if previous is None:
                added += 1
            else:
                updated += 1
                db.execute("DELETE FROM affected WHERE advisory_id = ?", (advisory.id,))
                db.execute("DELETE FROM alias WHERE advisory_id = ?", (advisory.id,))
                db.execute("DELETE FROM digest WHERE advisory_id = ?", (advisory.id,))
            stored[advisory.id] = modified
            db.execute(
                "INSERT OR REPLACE INTO advisory (id, modified, withdrawn, record) "
                "VALUES (?, ?, ?, ?)",
                (advisory.id, modified, advisory.withdrawn is not None, compact),
            )
            db.execute("INSERT OR REPLACE INTO digest VALUES (?, ?)", (advisory.id, short))
            db.executemany(
                "INSERT INTO affected (package, advisory_id, prepared) VALUES (?, ?, ?)",
                [
                    (package, advisory.id, _prepared(advisory, package))
                    for package in sorted({a.package for a in advisory.affected})
                ],
            )
            db.executemany(
                "INSERT INTO alias VALUES (?, ?)", [(a, advisory.id) for a in advisory.aliases]
            )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        (newest,) = db.execute("SELECT max(modified) FROM advisory").fetchone()
        db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("imported_at", now), ("source", str(source)), ("newest_modified", newest or "")],
        )
        _write_counts(db)
        db.commit()
        db.execute("VACUUM")  # tables back in order: an audit reads fewer pages
    if read == 0:
        raise InputError(source, "contains no OSV records (*.json, *.yaml)")
    return ImportResult(read, added, updated, unchanged, warnings.counts)


def open_database(db_path: Path, *, any_thread: bool = False) -> sqlite3.Connection:
    """Open an existing database read-only; a missing or foreign file is an ``InputError``.

    ``any_thread`` lets a server create the connection in one thread and use it
    (serially) from its event loop's thread.
    """
    if not db_path.is_file():
        raise InputError(db_path, "no advisory database; run 'bastion db update'")
    try:
        connection = sqlite3.connect(
            f"file:{db_path}?mode=ro", uri=True, check_same_thread=not any_thread
        )
        try:
            version = _check_schema(connection, db_path)
        except BaseException:
            connection.close()
            raise
        if version == str(SCHEMA_VERSION):
            return connection
        with closing(connection):
            migrated = _migrated(connection, db_path, any_thread)
    except sqlite3.DatabaseError as exc:
        raise InputError(db_path, f"not an advisory database: {exc}") from None
    return migrated


def _migrated(old: sqlite3.Connection, db_path: Path, any_thread: bool) -> sqlite3.Connection:
    """The migrated database: renamed over ``db_path`` when its folder is writable, else in
    memory for this run. A failure leaves ``db_path`` untouched."""
    temp = db_path.with_name(f".{db_path.name}.{os.getpid()}.migrate")
    try:
        try:
            temp.unlink(missing_ok=True)  # a stale copy or a link placed there is not followed
            with closing(sqlite3.connect(temp)) as new:
                old.backup(new)
                _migrate(new, db_path)
        except (OSError, sqlite3.OperationalError):  # a read-only folder or file system
            memory = sqlite3.connect(":memory:", check_same_thread=not any_thread)
            old.backup(memory)
            _migrate(memory, db_path, compact=False)
            return memory
        temp.replace(db_path)
    finally:
        with suppress(OSError):  # what took the copy's place is not ours to remove
            if temp.is_file() and not temp.is_symlink():
                temp.unlink()
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=not any_thread)


def status(db_path: Path) -> DbStatus:
    """Counts by id prefix (each source separately), withdrawn records, and the data's age."""
    with closing(open_database(db_path)) as db:
        counts: Counter[str] = Counter()
        withdrawn: Counter[str] = Counter()
        newest: dict[str, str] = {}
        for advisory_id, modified, is_withdrawn in db.execute(
            "SELECT id, modified, withdrawn FROM advisory"
        ):
            prefix = source_of(advisory_id)
            counts[prefix] += 1
            withdrawn[prefix] += bool(is_withdrawn)
            if modified > newest.get(prefix, ""):
                newest[prefix] = modified
        meta = dict(db.execute("SELECT key, value FROM meta"))
    imported = meta.get("imported_at")
    sources = tuple(
        SourceStatus(prefix, counts[prefix], withdrawn[prefix], _moment(newest.get(prefix)))
        for prefix in sorted(counts, key=_source_order)
    )
    overall = max(newest.values()) if newest else None
    return DbStatus(
        path=db_path,
        records=sum(counts.values()),
        by_prefix=dict(sorted(counts.items())),
        withdrawn=sum(withdrawn.values()),
        newest_modified=_moment(overall),
        imported_at=_moment(imported),
        source=meta.get("source", ""),
        sources=sources,
    )


def _source_order(prefix: str) -> tuple[int, str]:
    """PYSEC, GHSA, MAL first (OSV's PyPI dump), then the others by name."""
    known = list(EXPECTED_SOURCES)
    return (known.index(prefix) if prefix in known else len(known), prefix)


def source_of(advisory_id: str) -> str:
    """The source an OSV id names: its prefix (``PYSEC``, ``GHSA``, ``MAL``...)."""
    return advisory_id.split("-", 1)[0]


def source_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Record counts by source prefix (stored at import; counted when they are not)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'source_counts'").fetchone()
    if row is not None:
        try:
            stored = json.loads(row[0])
        except ValueError:
            stored = None
        if isinstance(stored, dict) and all(isinstance(v, int) for v in stored.values()):
            return {str(prefix): count for prefix, count in stored.items()}
    rows = db.execute(
        "SELECT CASE WHEN instr(id, '-') > 0 THEN substr(id, 1, instr(id, '-') - 1) ELSE id END, "
        "count(*) FROM advisory GROUP BY 1"
    )
    return {str(prefix): int(count) for prefix, count in rows}


def missing_sources(counts: dict[str, int] | set[str]) -> tuple[str, ...]:
    """The sources OSV's PyPI dump has that this data lacks."""
    return tuple(p for p in EXPECTED_SOURCES if p not in counts)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def newest_modified(db: sqlite3.Connection) -> datetime | None:
    """The newest ``modified`` time in the data: how current the database is."""
    row = db.execute("SELECT value FROM meta WHERE key = 'newest_modified'").fetchone()
    if row is None or not row[0]:
        (value,) = db.execute("SELECT max(modified) FROM advisory").fetchone()
    else:
        value = row[0]
    return datetime.fromisoformat(value) if value else None


def too_old(age: int | None, max_days: int) -> str | None:
    """Why data ``age`` days old (``None``: unknown) cannot be vouched for; ``None`` if it can."""
    if age is not None and age <= max_days:
        return None
    shown = "of unknown age" if age is None else f"{age} days old"
    return f"advisory data is {shown}, past advisory-max-days ({max_days})"


def bundled_snapshot() -> Path:
    """The OSV snapshot shipped inside the package (see bastion/data/README.md)."""
    from importlib import resources

    return Path(str(resources.files("bastion") / "data" / "osv-pypi.zip"))


def ensure_database(db_path: Path) -> bool:
    """Create the database from the bundled snapshot when there is none; True if it did."""
    if db_path.exists():
        return False
    import_records(bundled_snapshot(), db_path)
    return True


def records_for(db: sqlite3.Connection, package: str) -> list[tuple[Advisory, str]]:
    """Every non-withdrawn record naming the canonical package, parsed and as stored (JSON)."""
    warnings = ParseWarnings()
    rows = db.execute(
        "SELECT a.record FROM affected f JOIN advisory a ON a.id = f.advisory_id "
        "WHERE f.package = ? AND a.withdrawn = 0",
        (package,),
    )
    found = []
    for (record,) in rows:
        advisory = parse_record(json.loads(record), warnings)
        if advisory is not None:
            found.append((advisory, record))
    return found


# Withdrawn records have no matching data: the rows that have it are the ones to match.
_PREPARED_QUERY = (
    "SELECT package, advisory_id, prepared FROM affected "
    "WHERE package IN (?) AND prepared IS NOT NULL ORDER BY rowid"
)


def prepared_for(
    db: sqlite3.Connection, packages: list[str], batch: int = 500
) -> dict[str, list[PreparedRecord]]:
    """The matching data of every non-withdrawn record naming each canonical package (one
    query per ``batch`` packages), in the order ``records_for`` returns the records."""
    found: dict[str, list[PreparedRecord]] = {package: [] for package in packages}
    for start in range(0, len(packages), batch):
        chunk = packages[start : start + batch]
        marks = ",".join("?" * len(chunk))
        query = _PREPARED_QUERY.replace("?", marks)  # placeholders only: names are bound
        rows = db.execute(query, chunk)
        for package, advisory_id, prepared in rows:
            try:
                found[package].append(decode(advisory_id, prepared))
            except (ValueError, TypeError, RecursionError):  # a file changed behind bastion
                raise malformed_data(db, "matching data", advisory_id) from None
    return found


def malformed_data(db: sqlite3.Connection, what: str, advisory_id: object) -> InputError:
    """The error for stored data bastion did not write: names the database file and the record."""
    row = db.execute("PRAGMA database_list").fetchone()
    where = Path(row[2]) if row is not None and row[2] else Path("advisories.sqlite3")
    shown = excerpt(str(advisory_id))
    return InputError(where, f"stored {what} of {shown} is malformed; delete the database")


def summaries_by_id(
    db: sqlite3.Connection, ids: list[str], batch: int = 500
) -> dict[str, Advisory]:
    """These records parsed from their digests (one query per ``batch`` ids): every field but
    ``affected`` and ``details``, which are left empty; unusable records left out."""
    warnings = ParseWarnings()
    found: dict[str, Advisory] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT advisory_id, digest FROM digest WHERE advisory_id IN ({marks})"  # noqa: S608
        for advisory_id, text in db.execute(query, chunk):
            try:
                advisory = parse_record(json.loads(text), warnings)
            except (ValueError, TypeError, RecursionError):
                raise malformed_data(db, "digest", advisory_id) from None
            if advisory is not None:
                found[advisory_id] = advisory
    return found


def advisories_for(db: sqlite3.Connection, package: str) -> list[Advisory]:
    """Every non-withdrawn advisory that names the canonical package."""
    return [advisory for advisory, _ in records_for(db, package)]


def record_by_id(db: sqlite3.Connection, advisory_id: str) -> str | None:
    """The stored JSON of one record (withdrawn ones included), or ``None``."""
    row = db.execute("SELECT record FROM advisory WHERE id = ?", (advisory_id,)).fetchone()
    return None if row is None else str(row[0])
