"""Exemptions and blocks, shared by every proxy instance: SQLite file or PostgreSQL.

SQLAlchemy Core, one small table. ``bastion proxy exempt/block/unblock``
write it; a running proxy re-reads it every few seconds, so a change takes
effect without a restart, on every instance that shares the database.
An exemption or block has a reason and may have an expiry; an expired one
stays listed (``status`` shows it as expired) and no longer applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion._internal.errors import UsageError

EXEMPT = "exempt"
BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Rule:
    """An exemption (``spec``: an exact version or empty) or a block (``spec``: a specifier)."""

    kind: str
    name: str  # canonical
    spec: str
    reason: str
    expires_at: datetime | None
    created_at: datetime

    def live(self, now: datetime) -> bool:
        """True while the rule applies."""
        return self.expires_at is None or now < self.expires_at

    def label(self) -> str:
        """``name``, ``name==1.0`` or ``name<2``."""
        if not self.spec:
            return self.name
        return f"{self.name}=={self.spec}" if self.kind == EXEMPT else f"{self.name}{self.spec}"


def state_url(state: str | Path) -> str:
    """A SQLAlchemy URL: ``postgresql://`` with the psycopg driver, else a SQLite file."""
    text = str(state)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith("postgresql+psycopg://"):
        return text
    if text.startswith("sqlite:"):  # sqlite:///relative or sqlite:////absolute, as SQLAlchemy
        from bastion._internal.db_url import sqlite_path

        text = str(sqlite_path(text, "--state"))
    elif "://" in text:
        raise UsageError(
            f"--state {text.split('://')[0]}:// is not supported (a file or postgresql://)"
        )
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _table() -> Any:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    rules = sa.Table(
        "proxy_rule",
        metadata,
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("spec", sa.String(200), primary_key=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    return metadata, rules


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ProxyState:
    """The rules table of one database (created on first use)."""

    def __init__(self, state: str | Path) -> None:
        import sqlalchemy as sa

        self.url = state_url(state)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = sa.create_engine(self.url, future=True, pool_pre_ping=True)
            self.metadata, self.rules_table = _table()
            with self._writing() as connection:
                self.metadata.create_all(connection)
        except sa.exc.SQLAlchemyError as exc:
            raise UsageError(
                f"cannot open the proxy state {state}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}"
            ) from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        with self.engine.begin() as connection:
            yield connection

    def put(self, rule: Rule) -> None:
        """Add a rule, replacing one of the same kind, name and spec."""
        table = self.rules_table
        with self._writing() as connection:
            connection.execute(
                table.delete().where(
                    (table.c.kind == rule.kind)
                    & (table.c.name == rule.name)
                    & (table.c.spec == rule.spec)
                )
            )
            connection.execute(
                table.insert().values(
                    kind=rule.kind,
                    name=rule.name,
                    spec=rule.spec,
                    reason=rule.reason,
                    expires_at=rule.expires_at,
                    created_at=rule.created_at,
                )
            )

    def remove(self, kind: str, name: str, spec: str | None) -> int:
        """Remove rules of a kind for a name (one spec, or every spec when None); the count."""
        table = self.rules_table
        where = (table.c.kind == kind) & (table.c.name == name)
        if spec is not None:
            where = where & (table.c.spec == spec)
        with self._writing() as connection:
            return int(connection.execute(table.delete().where(where)).rowcount)

    def rules(self) -> tuple[Rule, ...]:
        """Every rule, expired ones included, by kind and name."""
        table = self.rules_table
        with self.engine.connect() as connection:
            rows = connection.execute(
                table.select().order_by(table.c.kind, table.c.name, table.c.spec)
            ).all()
        return tuple(
            Rule(
                row.kind,
                row.name,
                row.spec,
                row.reason,
                _utc(row.expires_at),
                _utc(row.created_at) or datetime.now(UTC),
            )
            for row in rows
        )
