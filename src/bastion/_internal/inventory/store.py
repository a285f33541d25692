"""The inventory: which service release ships which component, on SQLite or PostgreSQL.

SQLAlchemy Core, one schema for both engines. Each ingest is one transaction:
a release and all its components and hashes are written together or not at
all. ``releases.latest`` marks each service's newest release (by release time,
then ingest order) so that "latest only" questions are one indexed join.
Queries go by name (then versions are filtered with PEP 440 in Python on the
distinct versions only), by purl prefix (a range scan on an ordinary index,
which works the same on both engines), by hash, or by advisory id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError, UsageError

BATCH = 5_000
PER_TRANSACTION = 30_000  # components per transaction in ingest_many
RELEASES_PER_TRANSACTION = 1_000  # and at most this many releases (bounded IN lists)
KNOWN_ARTIFACTS = 500_000  # artifact ids remembered across transactions
LOOKUP_BATCH = 500  # purls per IN (...) lookup
MAX_PREFIX_END = "\U0010ffff"
MAX_NAME = 200  # characters of a service or release name (one was 100,000 and a table 23 GB)
MAX_TEXT = 2_000  # characters of a stored purl, name or version, or of a query value
_NO_TIME = datetime.min.replace(tzinfo=UTC)  # sorts releases without a time by id alone


@dataclass(frozen=True, slots=True)
class StoredComponent:
    """A component as ingested: canonical name, version, purl and hashes."""

    name: str
    version: str
    purl: str
    hashes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ReleaseToStore:
    """One service release and its components, to ingest."""

    service: str
    release: str
    components: tuple[StoredComponent, ...]
    released_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What became of one release of a bulk ingest: stored (count) or refused (error)."""

    service: str
    release: str
    count: int
    error: str | None


@dataclass(frozen=True, slots=True)
class Hit:
    """A component found in a service release."""

    service: str
    release: str
    released_at: datetime | None
    latest: bool
    name: str
    version: str
    purl: str


def _tables() -> Any:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    services = sa.Table(
        "inv_service",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
    )
    releases = sa.Table(
        "inv_release",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("inv_service.id"), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest", sa.Boolean, nullable=False, default=False),
        sa.UniqueConstraint("service_id", "version", name="inv_release_once"),
    )
    artifacts = sa.Table(  # one row per distinct (purl, name, version, hashes): shared
        "inv_artifact",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("purl", sa.String(2000), nullable=False),
        sa.Column("identity", sa.String(64), nullable=False),  # digest of name, version, hashes
        sa.UniqueConstraint("purl", "identity", name="inv_artifact_once"),
    )
    # What each release ships: small integer rows, appended. No foreign keys:
    # on PostgreSQL each would lock the referenced row (FOR KEY SHARE) per row
    # copied, which cost more than the copy; the ids come from the same
    # transaction that writes these rows, and nothing deletes a release or an
    # artifact.
    contents = sa.Table(
        "inv_content",
        metadata,
        sa.Column("release_id", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("artifact_id", sa.Integer, nullable=False),
        sqlite_with_rowid=False,  # the (release, position) key is the table's order
    )
    hashes = sa.Table(
        "inv_hash",
        metadata,
        sa.Column("artifact_id", sa.Integer, primary_key=True),  # no foreign key: see contents
        sa.Column("algorithm", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
    )
    sa.Index("inv_artifact_by_name", artifacts.c.name, artifacts.c.version)
    sa.Index("inv_content_by_artifact", contents.c.artifact_id, contents.c.release_id)
    sa.Index("inv_hash_by_value", hashes.c.value)
    # No index on inv_release.latest: it would tempt SQLite's planner (without
    # statistics) to start from the newest releases and read all their contents.
    return metadata, services, releases, artifacts, contents, hashes


def database_url(db: str | Path | None) -> str:
    """A SQLAlchemy URL: ``postgresql://`` as given (psycopg driver), else a SQLite file.

    The file is a path or a ``sqlite:///PATH`` URL (``sqlite:////abs/path``).
    """
    if db is None:
        from bastion._internal.advisories.store import default_db_path

        db = default_db_path().parent / "inventory.sqlite"
    text = str(db)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith("postgresql+psycopg://"):
        return text
    if text.startswith("sqlite:"):
        from bastion._internal.db_url import sqlite_path

        text = str(sqlite_path(text))
    elif "://" in text:
        raise UsageError(
            f"--db {text.split('://')[0]}:// is not supported (a file or postgresql://)"
        )
    return f"sqlite:///{Path(text).expanduser().resolve()}"


class Inventory:
    """A connection to one inventory database (created on first use)."""

    def __init__(self, db: str | Path | None = None) -> None:
        try:
            import sqlalchemy as sa
        except ImportError:
            raise UsageError(
                "the inventory needs SQLAlchemy: pip install 'bastion[inventory]'"
            ) from None
        self.url = database_url(db)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = sa.create_engine(self.url, future=True)
            (
                self.metadata,
                self.services,
                self.releases,
                self.artifacts,
                self.contents,
                self.hashes,
            ) = _tables()
            if self.url.startswith("sqlite"):
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
                sa.event.listen(self.engine, "begin", _sqlite_begin)
            self._known: dict[StoredComponent, int] = {}
            self._services: dict[str, int] = {}
            with self._writing() as connection:
                first_layout = sa.inspect(connection).has_table("inv_component")
                if first_layout:
                    _retire_first_layout(connection)
                self.metadata.create_all(connection)
                if first_layout:
                    self._migrate_first_layout(connection)
        except sa.exc.SQLAlchemyError as exc:
            if hasattr(self, "engine"):
                self.engine.dispose()
            raise UsageError(
                f"cannot open the inventory {_safe(self.url)}: {_reason(exc)}"
            ) from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A write transaction: on SQLite it takes the write lock at once (BEGIN
        IMMEDIATE), so that concurrent ingests wait their turn instead of
        failing when their snapshot turns out stale."""
        with self.engine.connect() as connection:
            connection.execution_options(bastion_write=True)
            with connection.begin():
                yield connection

    def _migrate_first_layout(self, connection: Any) -> None:
        """Move the rows of the first layout (one row per listing) into artifacts and contents.

        Runs inside the transaction that opened the database: on any failure
        the old tables are back as they were.
        """
        import sqlalchemy as sa

        hashes: dict[tuple[int, int], list[tuple[str, str]]] = {}
        for release_id, position, algorithm, value in connection.execute(
            sa.text("SELECT release_id, position, algorithm, value FROM inv_hash_v1")
        ):
            hashes.setdefault((release_id, position), []).append((algorithm, value))
        listed: dict[int, list[StoredComponent]] = {}
        for release_id, position, name, version, purl in connection.execute(
            sa.text(
                "SELECT release_id, position, name, version, purl FROM inv_component "
                "ORDER BY release_id, position"
            )
        ):
            found = tuple(hashes.get((release_id, position), ()))
            listed.setdefault(release_id, []).append(StoredComponent(name, version, purl, found))
        learnt: dict[StoredComponent, int] = {}
        _append_listings(
            connection,
            [
                (release_id, self._artifact_ids(connection, components, learnt))
                for release_id, components in listed.items()
            ],
        )
        connection.execute(sa.text("DROP TABLE inv_hash_v1"))
        connection.execute(sa.text("DROP TABLE inv_component"))

    def ingest(
        self,
        service: str,
        release: str,
        components: Sequence[StoredComponent],
        released_at: datetime | None = None,
    ) -> int:
        """Store one service release and its components in one transaction; the count stored."""
        import sqlalchemy as sa

        item = ReleaseToStore(service, release, tuple(components), released_at)
        try:
            return self._store_together([item])[0]
        except sa.exc.SQLAlchemyError as exc:  # rolled back: nothing of this release is kept
            raise UsageError(f"could not store {service} {release}: {_reason(exc)}") from None

    def ingest_many(
        self, items: Iterable[ReleaseToStore], per_transaction: int = PER_TRANSACTION
    ) -> Iterator[IngestOutcome]:
        """Store releases in transactions of about ``per_transaction`` components.

        Each release is still all or nothing: when a transaction fails (a
        duplicate release, a database error), its releases are stored again
        one transaction each, so that only the faulty one is left out.
        Yields an outcome per release, in order, as its transaction ends.
        """
        batch: list[ReleaseToStore] = []
        size = 0
        for item in items:
            batch.append(item)
            size += len(item.components) + 1
            if size >= per_transaction or len(batch) >= RELEASES_PER_TRANSACTION:
                yield from self._flush(batch)
                batch, size = [], 0
        if batch:
            yield from self._flush(batch)

    def _flush(self, batch: list[ReleaseToStore]) -> Iterator[IngestOutcome]:
        import sqlalchemy as sa

        try:
            counts = self._store_together(batch)
        except (sa.exc.SQLAlchemyError, UsageError):
            pass  # rolled back; find the faulty release below
        else:
            for item, count in zip(batch, counts, strict=True):
                yield IngestOutcome(item.service, item.release, count, None)
            return
        for item in batch:
            try:
                count = self.ingest(item.service, item.release, item.components, item.released_at)
            except UsageError as exc:
                yield IngestOutcome(item.service, item.release, 0, exc.one_line())
            else:
                yield IngestOutcome(item.service, item.release, count, None)

    def _store_together(self, batch: Sequence[ReleaseToStore]) -> list[int]:
        """One transaction for every release of ``batch``, in a fixed number of statements.

        Services are found or added, the releases checked for duplicates and
        inserted, the artifacts of all their components found or added, and
        the contents copied, each for the whole batch at once; then the
        latest flags of the services it touched are set. The ids learnt on
        the way (artifacts, services) are remembered only once it commits.
        """
        for item in batch:
            check_name("service", item.service)
            check_name("release", item.release)
        pending = _Pending()
        with self._writing() as connection:
            if connection.dialect.name == "postgresql":
                # The lookups below are by indexed keys; on a young table without
                # statistics the planner would scan it for every IN list instead.
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            service_ids = self._service_ids(connection, {i.service for i in batch}, pending)
            release_ids = self._insert_releases(connection, batch, service_ids)
            every = [c for item in batch for c in item.components]
            artifact_ids = iter(self._artifact_ids(connection, every, pending.artifacts))
            _append_listings(
                connection,
                [
                    (release_id, [next(artifact_ids) for _ in item.components])
                    for item, release_id in zip(batch, release_ids, strict=True)
                ],
            )
            self._mark_latest(connection, set(service_ids.values()))
        if len(self._known) + len(pending.artifacts) > KNOWN_ARTIFACTS:
            self._known.clear()
        self._known.update(pending.artifacts)
        self._services.update(pending.services)
        return [len(item.components) for item in batch]

    def _insert_releases(
        self, connection: Any, batch: Sequence[ReleaseToStore], service_ids: dict[str, int]
    ) -> list[int]:
        """The new releases' ids, in order; ``UsageError`` when one is already stored."""
        import sqlalchemy as sa

        releases = self.releases
        wanted = {(service_ids[i.service], i.release): i for i in batch}
        candidates = sa.select(releases.c.service_id, releases.c.version).where(
            releases.c.service_id.in_(sorted({s for s, _ in wanted})),
            releases.c.version.in_(sorted({v for _, v in wanted})),
        )  # may over-select (two lists, not pairs): only a pair that is wanted counts
        for service_id, version in connection.execute(candidates):
            item = wanted.get((service_id, version))
            if item is not None:
                raise UsageError(f"{item.service} {item.release} is already in the inventory")
        now = datetime.now(UTC)
        result = connection.execute(
            sa.insert(releases).returning(releases.c.id, releases.c.service_id, releases.c.version),
            [
                {
                    "service_id": service_ids[i.service],
                    "version": i.release,
                    "released_at": i.released_at,
                    "ingested_at": now,
                    "latest": False,
                }
                for i in batch
            ],
        )
        ids = {(service_id, version): int(i) for i, service_id, version in result}
        return [ids[(service_ids[i.service], i.release)] for i in batch]

    def _artifact_ids(
        self,
        connection: Any,
        components: Sequence[StoredComponent],
        learnt: dict[StoredComponent, int],
    ) -> list[int]:
        """The artifact id of each component, adding the artifacts not stored yet.

        Ids of committed artifacts never change (nothing deletes them), so the
        ones seen in earlier transactions are remembered by component (the
        digest of ``identity`` is only computed for the others); ``learnt``
        collects this transaction's until it commits.
        """
        known, ids = self._known, [0] * len(components)
        unknown: dict[StoredComponent, list[int]] = {}
        for position, component in enumerate(components):
            artifact_id = known.get(component) or learnt.get(component)
            if artifact_id is None:
                unknown.setdefault(component, []).append(position)
            else:
                ids[position] = artifact_id
        if not unknown:
            return ids
        wanted = {(c.purl, identity(c)): c for c in unknown}
        found = self._find_artifacts(connection, wanted)
        missing = [key for key in wanted if key not in found]
        if missing:
            a = self.artifacts
            insert = _insert_ignoring_duplicates(connection, a).returning(
                a.c.id, a.c.purl, a.c.identity
            )
            added: dict[tuple[str, str], int] = {}
            for start in range(0, len(missing), BATCH):
                result = connection.execute(
                    insert,
                    [
                        {
                            "name": wanted[key].name,
                            "version": wanted[key].version,
                            "purl": key[0],
                            "identity": key[1],
                        }
                        for key in missing[start : start + BATCH]
                    ],
                )
                added.update(((purl, key), int(i)) for i, purl, key in result)
            raced = {key: wanted[key] for key in missing if key not in added}
            if raced:  # another ingest stored them since the lookup: theirs are the ones
                found.update(self._find_artifacts(connection, raced))
            _append_rows(
                connection,
                "inv_hash",
                ("artifact_id", "algorithm", "value"),
                [
                    (artifact_id, algorithm, value)
                    for key, artifact_id in added.items()
                    for algorithm, value in sorted(set(wanted[key].hashes))
                ],
            )  # only for the artifacts this transaction added: no row can exist yet
            found.update(added)
        for key, component in wanted.items():
            learnt[component] = found[key]
            for position in unknown[component]:
                ids[position] = found[key]
        return ids

    def _find_artifacts(
        self, connection: Any, wanted: dict[tuple[str, str], StoredComponent]
    ) -> dict[tuple[str, str], int]:
        import sqlalchemy as sa

        artifacts = self.artifacts
        purls = sorted({purl for purl, _ in wanted})
        found: dict[tuple[str, str], int] = {}
        for start in range(0, len(purls), LOOKUP_BATCH):
            matches = artifacts.c.purl.in_(purls[start : start + LOOKUP_BATCH])
            rows = connection.execute(
                sa.select(artifacts.c.id, artifacts.c.purl, artifacts.c.identity).where(matches)
            )
            for artifact_id, purl, key in rows:
                if (purl, key) in wanted:
                    found[(purl, key)] = int(artifact_id)
        return found

    def _service_ids(self, connection: Any, names: set[str], pending: _Pending) -> dict[str, int]:
        """The id of each service, adding the ones not stored yet."""
        import sqlalchemy as sa

        ids = {n: self._services[n] for n in names if n in self._services}
        unknown = sorted(names - ids.keys())
        if unknown:
            services = self.services
            for service_id, name in connection.execute(
                sa.select(services.c.id, services.c.name).where(services.c.name.in_(unknown))
            ):
                ids[name] = int(service_id)
            missing = [n for n in unknown if n not in ids]
            if missing:
                result = connection.execute(
                    sa.insert(services).returning(services.c.id, services.c.name),
                    [{"name": n} for n in missing],
                )
                ids.update((name, int(service_id)) for service_id, name in result)
        pending.services.update(ids)
        return ids

    def _mark_latest(self, connection: Any, service_ids: set[int]) -> None:
        """Flag each service's newest release: by release time (unknown last), then id."""
        import sqlalchemy as sa

        if not service_ids:
            return
        releases = self.releases
        chosen: dict[int, tuple[bool, datetime, int]] = {}
        for release_id, service_id, released_at in connection.execute(
            sa.select(releases.c.id, releases.c.service_id, releases.c.released_at).where(
                releases.c.service_id.in_(sorted(service_ids))
            )
        ):
            # A known release time beats none, later beats earlier, then the id.
            key = (released_at is not None, _aware(released_at) or _NO_TIME, release_id)
            chosen[service_id] = max(key, chosen.get(service_id, key))
        newest = sorted(key[2] for key in chosen.values())
        connection.execute(
            sa.update(releases)
            .where(releases.c.service_id.in_(sorted(service_ids)), releases.c.latest.is_(True))
            .where(releases.c.id.not_in(newest))
            .values(latest=False)
        )
        connection.execute(
            sa.update(releases)
            .where(releases.c.id.in_(newest), releases.c.latest.is_(False))
            .values(latest=True)
        )

    def _hits(self, where: Any, latest_only: bool) -> list[Hit]:
        import sqlalchemy as sa

        a, c, r, s = self.artifacts, self.contents, self.releases, self.services
        query = (
            sa.select(
                s.c.name, r.c.version, r.c.released_at, r.c.latest, a.c.name, a.c.version, a.c.purl
            )
            .select_from(
                a.join(c, c.c.artifact_id == a.c.id)
                .join(r, c.c.release_id == r.c.id)
                .join(s, r.c.service_id == s.c.id)
            )
            .where(where)
        )
        if latest_only:
            query = query.where(r.c.latest.is_(True))
        query = query.order_by(s.c.name, r.c.version, a.c.name, a.c.version, c.c.position)
        with self.engine.connect() as connection:
            return [
                Hit(row[0], row[1], _aware(row[2]), bool(row[3]), row[4], row[5], row[6])
                for row in connection.execute(query)
            ]

    def by_name(self, name: str, versions: Iterable[str] | None, latest_only: bool) -> list[Hit]:
        """Components named ``name`` (canonical), at any of ``versions`` when given."""
        a = self.artifacts
        where = a.c.name == name
        if versions is not None:
            chosen = sorted(set(versions))
            if not chosen:
                return []
            where = where & a.c.version.in_(chosen)
        return self._hits(where, latest_only)

    def versions_of(self, name: str) -> list[str]:
        """The distinct versions of ``name`` in the inventory."""
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return [
                row[0]
                for row in connection.execute(
                    sa.select(self.artifacts.c.version)
                    .where(self.artifacts.c.name == name)
                    .distinct()
                )
            ]

    def by_purl_prefix(self, prefix: str, latest_only: bool) -> list[Hit]:
        """Components whose purl starts with ``prefix`` (an index range scan)."""
        check_query("purl prefix", prefix)
        purl = self.artifacts.c.purl
        return self._hits((purl >= prefix) & (purl < prefix + MAX_PREFIX_END), latest_only)

    def by_hash(self, value: str, latest_only: bool) -> list[Hit]:
        """Components carrying a hash (hex, any algorithm)."""
        import sqlalchemy as sa

        check_query("hash", value)
        h = self.hashes
        matching = sa.select(h.c.artifact_id).where(h.c.value == value.lower())
        return self._hits(self.artifacts.c.id.in_(matching), latest_only)

    def counts(self) -> tuple[int, int, int]:
        """Services, releases and components stored."""
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in (self.services, self.releases, self.contents)
            )


def identity(component: StoredComponent) -> str:
    """What makes two listings of a purl the same artifact: name, version and hash set."""
    import hashlib

    parts = [component.name, component.version, *sorted({f"{a}:{v}" for a, v in component.hashes})]
    text = "\n".join(str(part) for part in parts)  # a wrong type fails in the database
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _append_listings(connection: Any, releases: Sequence[tuple[int, Sequence[int]]]) -> None:
    """The listing rows of releases: each release id with its artifact ids, in SBOM order."""
    _append_rows(
        connection,
        "inv_content",
        ("release_id", "position", "artifact_id"),
        [
            (release_id, position, artifact_id)
            for release_id, artifact_ids in releases
            for position, artifact_id in enumerate(artifact_ids)
        ],
    )


def _append_rows(
    connection: Any, table: str, columns: tuple[str, ...], rows: Sequence[tuple[object, ...]]
) -> None:
    """New rows through the driver: COPY on PostgreSQL, executemany on SQLite.

    Plain tuples: at a few hundred rows a release, building SQLAlchemy
    parameter dictionaries cost more than the database's work. ``table`` and
    ``columns`` are this module's constants, never input.
    """
    if not rows:
        return
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _insert_ignoring_duplicates(connection: Any, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``: a concurrent ingest may add the same row."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


class _Pending:
    """What a transaction learnt, kept once it commits: artifact and service ids."""

    def __init__(self) -> None:
        self.artifacts: dict[StoredComponent, int] = {}
        self.services: dict[str, int] = {}


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _retire_first_layout(connection: Any) -> None:
    """Set the first layout's tables aside: its hash table's name and indexes are reused."""
    import sqlalchemy as sa

    for index in (
        "inv_component_by_name",
        "inv_component_by_purl",
        "inv_hash_by_value",
        "inv_release_latest",
    ):
        connection.execute(sa.text(f"DROP INDEX IF EXISTS {index}"))
    connection.execute(sa.text("ALTER TABLE inv_hash RENAME TO inv_hash_v1"))


def _sqlite_begin(connection: Any) -> None:
    """Begin explicitly, so that schema changes are inside the transaction too."""
    writing = connection.get_execution_options().get("bastion_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _sqlite_pragmas(connection: Any, _: object) -> None:
    connection.isolation_level = None  # no implicit transactions: _sqlite_begin starts them
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache: random index keys
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be stored or looked up on both engines, or ``None``."""
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if "\x00" in value:
        return "holds a NUL character"  # PostgreSQL text cannot
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def check_name(kind: str, value: str) -> None:
    """A service or release name: 1 to ``MAX_NAME`` printable characters (``UsageError``)."""
    if not value.strip():
        raise UsageError(f"the {kind} name must not be empty")
    problem = _text_problem(value, MAX_NAME)
    if problem is None and not value.isprintable():
        problem = "holds control characters"
    if problem is not None:
        raise UsageError(f"the {kind} name {problem}")


def check_query(kind: str, value: str) -> None:
    """A value to look up: bounded, no NUL, no lone surrogate (``UsageError``)."""
    problem = _text_problem(value, MAX_TEXT)
    if problem is not None:
        raise UsageError(f"the {kind} {problem}")


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]


def components_of(document: Any) -> list[StoredComponent]:
    """The components of an SBOM document to store: each needs a purl that parses."""
    from packageurl import PackageURL

    from bastion._internal.inputs.common import canonical

    stored = []
    for component in document.components:
        if not component.purl:
            raise InputError(document.path, f"component {component.name!r} has no purl")
        try:
            purl = PackageURL.from_string(component.purl)
        except ValueError as exc:
            raise InputError(
                document.path,
                f"component {component.name!r}: purl {component.purl!r} does not parse ({exc})",
            ) from None
        name = canonical(purl.name) if purl.type == "pypi" else purl.name.lower()
        version = component.version or purl.version or ""
        texts = [("purl", component.purl), ("name", name), ("version", version)]
        texts += [("hash", text) for digest in component.hashes for text in digest]
        for field, value in texts:
            problem = _text_problem(value, MAX_TEXT)
            if problem is not None:
                raise InputError(document.path, f"component {component.name!r}: {field} {problem}")
        stored.append(
            StoredComponent(
                name=name,
                version=version,
                purl=str(component.purl),
                hashes=tuple((alg, value.lower()) for alg, value in component.hashes),
            )
        )
    return stored
