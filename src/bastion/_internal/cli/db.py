"""``bastion db``: the offline advisory database (update, status, serve)."""

from __future__ import annotations

from pathlib import Path

import click

from bastion._internal.errors import UsageError


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
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="Database file.")
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
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="Database file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def db_status(db_path: Path | None, fmt: str) -> None:
    """Record counts by source prefix and the data's age."""
    import json as json_module

    from bastion._internal.advisories.store import default_db_path, status

    info = status(db_path or default_db_path())
    data = {
        "path": str(info.path),
        "records": info.records,
        "by_prefix": info.by_prefix,
        "withdrawn": info.withdrawn,
        "newest_modified": info.newest_modified.isoformat() if info.newest_modified else None,
        "imported_at": info.imported_at.isoformat() if info.imported_at else None,
        "source": info.source,
    }
    if fmt == "json":
        click.echo(json_module.dumps(data, indent=2))
        return
    for key, value in data.items():
        shown = (
            ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
        )
        click.echo(f"{key.replace('_', ' ')}: {shown}")


@db.command("serve")
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="Database file.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
def db_serve(db_path: Path | None, host: str, port: int) -> None:
    """Serve the database over the OSV API (/v1/query, /v1/querybatch, /v1/vulns/ID).

    Point pip-audit at it with '-s osv --osv-url http://HOST:PORT/v1/query' and
    uv audit with '--service-url http://HOST:PORT/'. Needs 'bastion[server]'.
    """
    from bastion._internal.advisories.store import default_db_path, ensure_database

    try:
        import uvicorn

        from bastion._internal.advisories.server import create_app
    except ImportError:
        raise UsageError(
            "'bastion db serve' needs the server extra: pip install 'bastion[server]'"
        ) from None
    target = db_path or default_db_path()
    if db_path is None:
        ensure_database(target)
    app = create_app(target)
    click.echo(f"bastion: serving {target} on http://{host}:{port}/v1/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
