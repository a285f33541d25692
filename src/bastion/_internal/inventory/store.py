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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError, UsageError

BATCH = 5_000
MAX_PREFIX_END = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class StoredComponent:
    """A component as ingested: canonical name, version, purl and hashes."""

    name: str
    version: str
    purl: str
    hashes: tuple[tuple[str, str], ...] = ()


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
    components = sa.Table(
        "inv_component",
        metadata,
        sa.Column("release_id", sa.Integer, sa.ForeignKey("inv_release.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("purl", sa.String(2000), nullable=False),
        sqlite_with_rowid=False,  # the (release, position) key is the table's order
    )
    hashes = sa.Table(
        "inv_hash",
        metadata,
        sa.Column("release_id", sa.Integer, sa.ForeignKey("inv_release.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("algorithm", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
    )
    sa.Index("inv_component_by_name", components.c.name, components.c.version)
    sa.Index("inv_component_by_purl", components.c.purl)
    sa.Index("inv_hash_by_value", hashes.c.value)
    sa.Index("inv_release_latest", releases.c.latest, releases.c.service_id)
    return metadata, services, releases, components, hashes


def database_url(db: str | Path | None) -> str:
    """A SQLAlchemy URL: ``postgresql://`` as given (psycopg driver), else a SQLite file."""
    if db is None:
        from bastion._internal.advisories.store import default_db_path

        db = default_db_path().parent / "inventory.sqlite"
    text = str(db)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith("postgresql+psycopg://"):
        return text
    if "://" in text:
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
                self.components,
                self.hashes,
            ) = _tables()
            if self.url.startswith("sqlite"):
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise UsageError(
                f"cannot open the inventory {_safe(self.url)}: {_reason(exc)}"
            ) from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def ingest(
        self,
        service: str,
        release: str,
        components: Sequence[StoredComponent],
        released_at: datetime | None = None,
    ) -> int:
        """Store one service release and its components in one transaction; the count stored."""
        import sqlalchemy as sa

        if not service.strip() or not release.strip():
            raise UsageError("--service and --release must not be empty")
        try:
            return self._ingest(service, release, components, released_at)
        except sa.exc.SQLAlchemyError as exc:  # rolled back: nothing of this release is kept
            raise UsageError(f"could not store {service} {release}: {_reason(exc)}") from None

    def _ingest(
        self,
        service: str,
        release: str,
        components: Sequence[StoredComponent],
        released_at: datetime | None,
    ) -> int:
        import sqlalchemy as sa

        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            service_id = self._service_id(connection, service)
            exists = connection.execute(
                sa.select(self.releases.c.id).where(
                    self.releases.c.service_id == service_id, self.releases.c.version == release
                )
            ).first()
            if exists is not None:
                raise UsageError(f"{service} {release} is already in the inventory")
            release_id = connection.execute(
                sa.insert(self.releases)
                .values(
                    service_id=service_id,
                    version=release,
                    released_at=released_at,
                    ingested_at=now,
                    latest=False,
                )
                .returning(self.releases.c.id)
            ).scalar_one()
            for start in range(0, len(components), BATCH):
                chunk = components[start : start + BATCH]
                connection.execute(
                    sa.insert(self.components),
                    [
                        {
                            "release_id": release_id,
                            "position": start + offset,
                            "name": c.name,
                            "version": c.version,
                            "purl": c.purl,
                        }
                        for offset, c in enumerate(chunk)
                    ],
                )
                rows = [
                    {
                        "release_id": release_id,
                        "position": start + offset,
                        "algorithm": alg,
                        "value": value,
                    }
                    for offset, component in enumerate(chunk)
                    for alg, value in component.hashes
                ]
                if rows:
                    connection.execute(sa.insert(self.hashes), rows)
            self._mark_latest(connection, service_id)
        return len(components)

    def _service_id(self, connection: Any, service: str) -> int:
        import sqlalchemy as sa

        found = connection.execute(
            sa.select(self.services.c.id).where(self.services.c.name == service)
        ).scalar()
        if found is not None:
            return int(found)
        return int(
            connection.execute(
                sa.insert(self.services).values(name=service).returning(self.services.c.id)
            ).scalar_one()
        )

    def _mark_latest(self, connection: Any, service_id: int) -> None:
        import sqlalchemy as sa

        releases = self.releases
        newest = connection.execute(
            sa.select(releases.c.id)
            .where(releases.c.service_id == service_id)
            .order_by(
                releases.c.released_at.is_(None),
                releases.c.released_at.desc(),
                releases.c.id.desc(),
            )
            .limit(1)
        ).scalar_one()
        connection.execute(
            sa.update(releases)
            .where(releases.c.service_id == service_id)
            .values(latest=releases.c.id == newest)
        )

    def _hits(self, where: Any, latest_only: bool) -> list[Hit]:
        import sqlalchemy as sa

        c, r, s = self.components, self.releases, self.services
        query = (
            sa.select(
                s.c.name, r.c.version, r.c.released_at, r.c.latest, c.c.name, c.c.version, c.c.purl
            )
            .select_from(c.join(r, c.c.release_id == r.c.id).join(s, r.c.service_id == s.c.id))
            .where(where)
        )
        if latest_only:
            query = query.where(r.c.latest.is_(True))
        query = query.order_by(s.c.name, r.c.version, c.c.name, c.c.version)
        with self.engine.connect() as connection:
            return [
                Hit(row[0], row[1], _aware(row[2]), bool(row[3]), row[4], row[5], row[6])
                for row in connection.execute(query)
            ]

    def by_name(self, name: str, versions: Iterable[str] | None, latest_only: bool) -> list[Hit]:
        """Components named ``name`` (canonical), at any of ``versions`` when given."""
        c = self.components
        where = c.c.name == name
        if versions is not None:
            chosen = sorted(set(versions))
            if not chosen:
                return []
            where = where & c.c.version.in_(chosen)
        return self._hits(where, latest_only)

    def versions_of(self, name: str) -> list[str]:
        """The distinct versions of ``name`` in the inventory."""
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return [
                row[0]
                for row in connection.execute(
                    sa.select(self.components.c.version)
                    .where(self.components.c.name == name)
                    .distinct()
                )
            ]

    def by_purl_prefix(self, prefix: str, latest_only: bool) -> list[Hit]:
        """Components whose purl starts with ``prefix`` (an index range scan)."""
        purl = self.components.c.purl
        return self._hits((purl >= prefix) & (purl < prefix + MAX_PREFIX_END), latest_only)

    def by_hash(self, value: str, latest_only: bool) -> list[Hit]:
        """Components carrying a hash (hex, any algorithm)."""
        import sqlalchemy as sa

        h, c = self.hashes, self.components
        match = (
            sa.select(h.c.release_id)
            .where(h.c.value == value.lower())
            .where(h.c.release_id == c.c.release_id, h.c.position == c.c.position)
            .exists()
        )
        return self._hits(match, latest_only)

    def counts(self) -> tuple[int, int, int]:
        """Services, releases and components stored."""
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in (self.services, self.releases, self.components)
            )


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _sqlite_pragmas(connection: Any, _: object) -> None:
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
        stored.append(
            StoredComponent(
                name=name,
                version=version,
                purl=str(component.purl),
                hashes=tuple((alg, value.lower()) for alg, value in component.hashes),
            )
        )
    return stored
