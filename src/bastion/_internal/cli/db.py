"""``bastion db``: the offline advisory database (update, status, serve)."""

from __future__ import annotations

from pathlib import Path

import click

from bastion._internal.errors import UsageError


class DatabasePath(click.ParamType[Path, object]):
    """A SQLite database named by a path or a ``sqlite:///PATH`` URL, as a ``Path``."""

    name = "PATH|sqlite:///PATH"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Path:
        if isinstance(value, Path):
            return value
        from bastion._internal.db_url import sqlite_path

        try:
            return sqlite_path(str(value), param.opts[0] if param is not None else "--db")
        except UsageError as exc:
            self.fail(exc.one_line(), param, ctx)


DATABASE = DatabasePath()


@click.group()
def db() -> None:
    """The offline advisory database (OSV records for PyPI)."""


@db.command("update")
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path),
    help="Import a local OSV zip or a directory of OSV JSON instead of downloading.",
)
@click.option("--url", default=None, help="Download from this URL (default: OSV's PyPI dump).")
@click.option("--db", "db_path", type=DATABASE, help="Database file (a path or sqlite:///PATH).")
def db_update(source: Path | None, url: str | None, db_path: Path | None) -> None:
    """Import advisories atomically and incrementally (by 'modified')."""
    from bastion._internal.advisories.download import OSV_PYPI_URL, download, remove
    from bastion._internal.advisories.store import default_db_path, import_records

    target = db_path or default_db_path()
    fetched = None
    if source is None:
        fetched = source = download(url or OSV_PYPI_URL, target.parent)
    try:
        result = import_records(source, target)
    finally:
        if fetched is not None:
            remove(fetched)
    skipped = sum(result.skipped.values())
    click.echo(
        f"{target}: {result.read} records read, {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {skipped} skipped"
    )
    for reason, count in sorted(result.skipped.items()):
        click.echo(f"  skipped {count}: {reason}")


@db.command("status")
@click.option("--db", "db_path", type=DATABASE, help="Database file (a path or sqlite:///PATH).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def db_status(db_path: Path | None, fmt: str) -> None:
    """Each source separately (PYSEC, GHSA, MAL, others): records, newest 'modified', age.

    Says when a source that OSV's PyPI dump has is missing: no finding from a
    source the database lacks is no evidence of safety.
    """
    import json as json_module
    from datetime import UTC, datetime

    from bastion._internal.advisories.store import (
        EXPECTED_SOURCES,
        UPDATE_HINT,
        default_db_path,
        status,
    )

    info = status(db_path or default_db_path())
    now = datetime.now(UTC)

    def age(moment: datetime | None) -> int | None:
        return (now - moment).days if moment is not None else None

    data = {
        "path": str(info.path),
        "records": info.records,
        "by_prefix": info.by_prefix,
        "withdrawn": info.withdrawn,
        "newest_modified": info.newest_modified.isoformat() if info.newest_modified else None,
        "age_days": age(info.newest_modified),
        "imported_at": info.imported_at.isoformat() if info.imported_at else None,
        "source": info.source,
        "sources": [
            {
                "source": s.prefix,
                "title": EXPECTED_SOURCES.get(s.prefix),
                "records": s.records,
                "withdrawn": s.withdrawn,
                "newest_modified": s.newest_modified.isoformat() if s.newest_modified else None,
                "age_days": age(s.newest_modified),
            }
            for s in info.sources
        ],
        "missing_sources": list(info.missing),
    }
    if fmt == "json":
        click.echo(json_module.dumps(data, indent=2))
        return
    click.echo(f"path: {info.path}")
    click.echo(f"records: {info.records} ({info.withdrawn} withdrawn)")
    imported = info.imported_at.isoformat() if info.imported_at else "unknown"
    click.echo(f"imported at: {imported} from {info.source or 'unknown'}")
    click.echo(f"{'source':<8} {'records':>8}  {'newest modified':<16} age")
    for s in info.sources:
        newest = s.newest_modified.date().isoformat() if s.newest_modified else "-"
        days = age(s.newest_modified)
        shown = f"{days} days" if days is not None else "-"
        click.echo(f"{s.prefix:<8} {s.records:>8}  {newest:<16} {shown}")
    for prefix in info.missing:
        click.echo(
            f"{prefix:<8} {'missing':>8}  OSV's PyPI dump has {EXPECTED_SOURCES[prefix]} records; "
            "no finding from them here is no evidence of safety"
        )
    if info.missing:
        click.echo(f"to complete the data: {UPDATE_HINT}")


@db.command("serve")
@click.option("--db", "db_path", type=DATABASE, help="Database file (a path or sqlite:///PATH).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
def db_serve(db_path: Path | None, host: str, port: int) -> None:
    """Serve the database over the OSV API (/v1/query, /v1/querybatch, /v1/vulns/ID).

    Point pip-audit at it with '-s osv --osv-url http://HOST:PORT/v1/query' and
    uv audit with '--service-url http://HOST:PORT/'. Needs 'bastion[server]'.
    """
    from bastion._internal.advisories.store import default_db_path, ensure_database

    try:
        from bastion._internal.advisories.server import create_app
        from bastion._internal.hardened_server import serve
    except ImportError:
        raise UsageError(
            "'bastion db serve' needs the server extra: pip install 'bastion[server]'"
        ) from None
    target = db_path or default_db_path()
    if db_path is None:
        ensure_database(target)
    app = create_app(target)
    click.echo(f"bastion: serving {target} on http://{host}:{port}/v1/", err=True)
    serve(app, host, port)  # header/body deadlines, per-client and total connection limits
