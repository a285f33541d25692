"""``bastion inventory``: which service release ships which component."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bastion._internal.cli.common import EXIT_USAGE
from bastion._internal.cli.db import DATABASE
from bastion._internal.errors import BastionError, UsageError

MAX_TOKEN_FILE_BYTES = 4096


@click.group()
def inventory() -> None:
    """Which service release ships which component (SQLite file or PostgreSQL)."""


_INVENTORY_DB = click.option(
    "--db",
    "db",
    help="Inventory database: a SQLite file or sqlite:///PATH (default: the user cache), or "
    "postgresql://...",
)


@inventory.command("ingest")
@click.argument("sbom_file", type=click.Path(path_type=Path), required=False)
@click.option("--service", help="The service (application) the SBOM describes.")
@click.option("--release", help="Its release (version) the SBOM describes.")
@click.option("--released-at", help="When that release shipped (ISO 8601; default: unknown).")
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    help="Bulk ingest: a CSV of sbom,service,release[,released_at] rows.",
)
@_INVENTORY_DB
def inventory_ingest(
    sbom_file: Path | None,
    service: str | None,
    release: str | None,
    released_at: str | None,
    manifest: Path | None,
    db: str | None,
) -> None:
    """Store the components of an SBOM for SERVICE RELEASE (one transaction).

    With --manifest, every SBOM the CSV lists, in transactions of about
    30,000 components; each release is still all or nothing, a refused one
    (unreadable SBOM, release already stored) is named and the others are
    kept, and the exit code is 3 when any was refused.
    """
    from bastion._internal.inputs.common import parse_timestamp
    from bastion._internal.inventory.store import Inventory, check_name, components_of
    from bastion._internal.sbom.read import read_sbom

    if manifest is not None:
        if sbom_file is not None or service or release or released_at:
            raise click.UsageError("--manifest replaces SBOM_FILE, --service and --release")
        _ingest_manifest(manifest, db)
        return
    if sbom_file is None or not service or not release:
        raise click.UsageError("give SBOM_FILE with --service and --release, or --manifest")
    check_name("service", service)
    check_name("release", release)
    when = None
    if released_at is not None:
        when = parse_timestamp(released_at)
        if when is None:
            raise click.BadParameter(
                f"{released_at!r} is not a date or time", param_hint="--released-at"
            )
    components = components_of(read_sbom(sbom_file))  # every check before anything is written
    store = Inventory(db)
    try:
        count = store.ingest(service, release, components, when)
    finally:
        store.close()
    click.echo(f"bastion: {service} {release}: {count} component(s) stored", err=True)


def _ingest_manifest(manifest: Path, db: str | None) -> None:
    from collections.abc import Iterator

    from bastion._internal.inventory.manifest import read_manifest
    from bastion._internal.inventory.store import Inventory, ReleaseToStore, components_of
    from bastion._internal.sbom.read import read_sbom

    entries = read_manifest(manifest)  # every row checked before anything is written
    refused: list[str] = []

    def readable() -> Iterator[ReleaseToStore]:
        for entry in entries:
            try:
                components = components_of(read_sbom(entry.sbom))
            except BastionError as exc:
                refused.append(f"{manifest}:{entry.line}: {exc.one_line()}")
                continue
            yield ReleaseToStore(entry.service, entry.release, tuple(components), entry.released_at)

    store = Inventory(db)
    releases = components = 0
    try:
        for outcome in store.ingest_many(readable()):
            if outcome.error is not None:
                refused.append(f"{manifest}: {outcome.error}")
            else:
                releases += 1
                components += outcome.count
    finally:
        store.close()
    from bastion._internal.report.common import printable

    for line in refused:  # they may quote a hostile SBOM: controls shown escaped
        click.echo(f"bastion: error: {printable(line)}", err=True)
    click.echo(
        f"bastion: {releases} release(s), {components} component(s) stored"
        + (f"; {len(refused)} refused" if refused else ""),
        err=True,
    )
    if refused:
        sys.exit(EXIT_USAGE)


@inventory.command("query")
@click.option("--package", "package", help="A requirement: 'urllib3<1.26.5', 'requests'.")
@click.option("--purl", help="A purl or purl prefix: 'pkg:pypi/urllib3'.")
@click.option("--hash", "digest", help="A hash value (hex) of a component.")
@click.option("--advisory", help="An advisory id or alias (resolved in the advisory database).")
@click.option("--latest-only", is_flag=True, help="Only each service's newest release.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--advisory-db", type=DATABASE, help="Advisory database file (a path or sqlite:///PATH)."
)
@_INVENTORY_DB
def inventory_query(
    package: str | None,
    purl: str | None,
    digest: str | None,
    advisory: str | None,
    latest_only: bool,
    fmt: str,
    advisory_db: Path | None,
    db: str | None,
) -> None:
    """Which service releases ship a package version, a purl, a hash, or what an advisory affects.

    Exit 0 with matches, 1 when nothing matches.
    """
    from bastion._internal.inventory.query import by_advisory, by_requirement, render
    from bastion._internal.inventory.store import Inventory

    given = [x for x in (package, purl, digest, advisory) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --package, --purl, --hash, --advisory")
    store = Inventory(db)
    try:
        if package:
            hits = by_requirement(store, package, latest_only)
        elif purl:
            hits = store.by_purl_prefix(purl, latest_only)
        elif digest:
            hits = store.by_hash(digest, latest_only)
        else:
            _, hits = by_advisory(store, str(advisory), advisory_db, latest_only)
    finally:
        store.close()
    click.echo(render(hits, fmt), nl=False)
    sys.exit(0 if hits else 1)


@inventory.command("serve")
@_INVENTORY_DB
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="File holding the bearer token (default: $BASTION_INVENTORY_TOKEN).",
)
@click.option(
    "--advisory-db", type=DATABASE, help="Advisory database file (a path or sqlite:///PATH)."
)
def inventory_serve(
    db: str | None, host: str, port: int, token_file: Path | None, advisory_db: Path | None
) -> None:
    """Serve the inventory over HTTP: POST /v1/sboms, GET /v1/components, advisories.

    Every request needs 'Authorization: Bearer TOKEN'. Needs 'bastion[server,inventory]'.
    """
    import os

    try:
        from bastion._internal.hardened_server import serve
        from bastion._internal.inventory.server import create_app
    except ImportError:
        raise UsageError(
            "'bastion inventory serve' needs: pip install 'bastion[server,inventory]'"
        ) from None
    from bastion._internal.inventory.store import Inventory
    from bastion._internal.safe_read import read_text

    # One line, exit 3 for a token file that is unreadable (mode 000), not UTF-8 or not text.
    token = (
        read_text(token_file, limit=MAX_TOKEN_FILE_BYTES).strip()
        if token_file is not None
        else os.environ.get("BASTION_INVENTORY_TOKEN", "")
    )
    if not token:
        raise click.UsageError("no bearer token: use --token-file or BASTION_INVENTORY_TOKEN")
    app = create_app(Inventory(db), token, advisory_db)
    click.echo(f"bastion: inventory on http://{host}:{port}/v1/", err=True)
    serve(app, host, port)  # header/body deadlines, per-client and total connection limits
