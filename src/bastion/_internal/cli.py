"""The ``bastion`` command. Thin: parse options, call the engine, pick a reporter.

Exit codes: 0 clean, 1 findings at or above the threshold, 2 incomplete
(something could not be checked), 3 usage or input error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bastion._internal.errors import BastionError, IncompleteError, UsageError
from bastion._internal.markers import PLATFORMS, Target
from bastion._internal.model import Report, Severity
from bastion._internal.report import FORMATS
from bastion._internal.safe_write import write_atomically
from bastion._internal.version import VERSION

EXIT_INCOMPLETE = 2
EXIT_USAGE = 3
_Command = TypeVar("_Command", bound=Callable[..., Any])
_SEVERITIES = [s.label for s in Severity]


def _use_color(output: Path | None) -> bool:
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, "--version", prog_name="bastion")
def cli() -> None:
    """Defend a Python project's supply chain in depth.

    Exit codes: 0 clean, 1 findings at or above the threshold, 2 incomplete
    (a layer could not run), 3 usage or input error.
    """


def _env_option(help_text: str) -> Callable[[_Command], _Command]:
    """``--env [PATH]``: an installed environment, this interpreter's when no path is given."""
    return click.option(
        "--env",
        "env",
        is_flag=False,
        flag_value="<current>",
        default=None,
        metavar="[PATH]",
        help=help_text,
    )


def _report_options(command: Callable[..., None]) -> Callable[..., None]:
    """Options shared by the commands that read a project and print a report."""
    options: list[Callable[[Callable[..., None]], Callable[..., None]]] = [
        click.option(
            "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True
        ),
        click.option(
            "-o", "--output", type=click.Path(path_type=Path), help="Write the report here."
        ),
        click.option(
            "--fail-on", type=click.Choice(_SEVERITIES), help="Lowest severity that fails."
        ),
        click.option(
            "--config", "config_path", type=click.Path(path_type=Path), help="Config file."
        ),
        click.option(
            "-r",
            "--requirement",
            "extra",
            multiple=True,
            type=click.Path(path_type=Path),
            help="Also read this requirements file (repeatable).",
        ),
        click.option(
            "--lock",
            "locks",
            multiple=True,
            type=click.Path(path_type=Path),
            help="Also read this lockfile (repeatable).",
        ),
        _env_option("Also read an installed environment (default: this interpreter)."),
        click.option(
            "--db",
            "db_path",
            type=click.Path(path_type=Path),
            help="Advisory database (default: the user cache; created from the bundled "
            "snapshot on first use).",
        ),
        click.option(
            "--target-python", help="Evaluate markers for this Python version (e.g. 3.12)."
        ),
        click.option(
            "--target-platform",
            type=click.Choice(sorted(PLATFORMS)),
            help="Evaluate markers for this platform.",
        ),
        click.option(
            "--online",
            is_flag=True,
            help="Ask the package index for upload times and unclaimed internal names, and "
            "fetch remote actions from GitHub (cached). Off by default: nothing else touches "
            "the network.",
        ),
        click.option(
            "--actions-dir",
            "actions_dirs",
            multiple=True,
            type=click.Path(path_type=Path, file_okay=False, exists=True),
            help="Local copies of remote actions as OWNER/REPO/REF/... (repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _emit(report: Report, fmt: str, output: Path | None) -> None:
    from bastion._internal.report import renderer

    text = renderer(fmt)(report, _use_color(output))
    if output is not None:
        write_atomically(output, text)
        click.echo(f"bastion: report written to {output} (exit code {report.exit_code})", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_code)


def _run(
    path: Path | None,
    options: dict[str, Any],
    *,
    only_advisories: bool = False,
    only_workflows: bool = False,
) -> Report:
    from bastion._internal.controls import Control
    from bastion._internal.controls.advisories import AdvisoryControl
    from bastion._internal.controls.workflows import WorkflowControl
    from bastion._internal.engine import CURRENT_ENVIRONMENT, run_check

    env = options["env"]
    environment = (
        None if env is None else (CURRENT_ENVIRONMENT if env == "<current>" else Path(env))
    )
    try:
        target = Target.parse(options["target_python"], options["target_platform"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--target-python") from None
    extra_files = (*options["extra"], *options["locks"])
    explicit_inputs = bool(extra_files) or environment is not None
    fail_on = options["fail_on"]
    db_path = options["db_path"]
    actions_dirs = tuple(options["actions_dirs"])
    controls: list[Control] | None = None
    if only_advisories:
        controls = [AdvisoryControl(db_path)]
    elif only_workflows:
        controls = [WorkflowControl(actions_dirs, online=options["online"])]
    return run_check(
        path or Path(),
        config_path=options["config_path"],
        fail_on=Severity.parse(fail_on) if fail_on else None,
        extra_files=extra_files,
        environment=environment,
        discover_inputs=(path is not None or not (only_advisories and explicit_inputs))
        and not only_workflows,
        controls=controls,
        advisory_db=db_path,
        target=target,
        online=options["online"],
        actions_dirs=actions_dirs,
    )


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_report_options
def check(path: Path | None, fmt: str, output: Path | None, **options: Any) -> None:
    """Run every layer on PATH and print the findings and the threat coverage matrix."""
    _emit(_run(path, options, only_advisories=False), fmt, output)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_report_options
def audit(path: Path | None, fmt: str, output: Path | None, **options: Any) -> None:
    """Audit pinned packages against the offline advisory database.

    Reads PATH (default: the current directory) like 'check' does; with -r,
    --lock or --env and no PATH, reads only those. Every vulnerability is
    reported once per package version with its aliases, severity and the
    smallest upgrade that fixes all of the package's advisories.
    """
    _emit(_run(path, options, only_advisories=True), fmt, output)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_report_options
@click.option(
    "--fix",
    is_flag=True,
    help="First move attacker-controlled expressions out of run: scripts into env: "
    "(the repository's own files; each rewritten atomically), then audit.",
)
def workflows(path: Path | None, fmt: str, output: Path | None, fix: bool, **options: Any) -> None:
    """Audit the GitHub Actions workflows of PATH's repository (ci-compromise).

    Follows local actions, reusable workflows and, with --actions-dir or
    --online, remote actions into their steps, audited in the caller's trigger
    context. Reports the cache-poisoning chain, injection points, tokens and
    whether CI runs the security checks fail-closed.
    """
    if fix:
        from bastion._internal.workflows.audit import find_repository
        from bastion._internal.workflows.fix import fix_repository

        repository = find_repository(path or Path())
        for fixed in fix_repository(repository) if repository is not None else []:
            click.echo(
                f"bastion: moved {fixed.moved} expression(s) into env: in {fixed.path}", err=True
            )
    _emit(_run(path, options, only_workflows=True), fmt, output)


@cli.group()
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


@cli.group()
def names() -> None:
    """Judge package names: look-alikes of popular projects, the approved list."""


def _corpus_index(config_path: Path | None) -> Any:
    from bastion._internal.config import load_config
    from bastion._internal.controls.names import typosquat_index

    return typosquat_index(load_config(Path(), config_path))


def _print_judgements(entries: list[tuple[str, Any]], fmt: str, threshold: float) -> None:
    import json as json_module

    flagged = [(name, r) for name, r in entries if r is not None and r.confidence >= threshold]
    if fmt == "json":
        data = {
            "judged": len(entries),
            "names": [
                {
                    "name": name,
                    "imitates": r.imitates,
                    "imitated_rank": r.imitated_rank,
                    "transformation": r.transformation,
                    "confidence": r.confidence,
                }
                for name, r in flagged
            ],
        }
        click.echo(json_module.dumps(data, indent=2))
    else:
        for name, r in flagged:
            click.echo(
                f"{name}: looks like {r.imitates} (rank {r.imitated_rank}), "
                f"{r.transformation}, confidence {r.confidence:.2f}"
            )
        click.echo(f"{len(flagged)} of {len(entries)} names look like popular projects.")
    sys.exit(1 if flagged else 0)


_MIN_CONFIDENCE = click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.6,
    show_default=True,
    help="Report resemblances at least this sure.",
)


@names.command("check")
@click.argument("candidates", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_MIN_CONFIDENCE
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def names_check(
    candidates: tuple[str, ...], fmt: str, min_confidence: float, config_path: Path | None
) -> None:
    """Say which popular project each NAME imitates, how, and how surely (exit 1 if any)."""
    index = _corpus_index(config_path)
    entries = []
    for raw in candidates:
        try:
            entries.append((raw, index.judge(raw)))
        except ValueError as exc:
            raise UsageError(f"{exc}") from None
    _print_judgements(entries, fmt, min_confidence)


@names.command("scan")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_MIN_CONFIDENCE
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def names_scan(file: Path, fmt: str, min_confidence: float, config_path: Path | None) -> None:
    """Judge a list of names, one per line ('#' comments allowed)."""
    from bastion._internal.names.approved import read_names

    index = _corpus_index(config_path)
    entries = [(name, index.judge(name)) for name, _ in read_names(file)]
    _print_judgements(entries, fmt, min_confidence)


@names.command("approve")
@click.argument("path", type=click.Path(path_type=Path), default=Path())
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="The list to write (default: approved-packages-file, else approved-packages.txt).",
)
def names_approve(path: Path, config_path: Path | None, output: Path | None) -> None:
    """Write every package the project locks now as the approved baseline."""
    from bastion._internal.config import load_config
    from bastion._internal.controls.names import locked_names
    from bastion._internal.inputs.discovery import discover
    from bastion._internal.names.approved import read_approved, render_approved

    root = path.resolve()
    config = load_config(root, config_path)
    target = output or config.approved_packages_file or root / "approved-packages.txt"
    inputs = discover(root, config.exclude)
    current = {p.name for p in locked_names(inputs.sources)}
    before = read_approved(target) if target.exists() else frozenset()
    write_atomically(target, render_approved(current))
    click.echo(
        f"{target}: {len(current)} approved ({len(current - before)} added, "
        f"{len(before - current)} removed)"
    )
    if config.approved_packages_file is None and output is None:
        click.echo(f'set approved-packages-file = "{target.name}" in the configuration')


@cli.group()
def inventory() -> None:
    """Which service release ships which component (SQLite file or PostgreSQL)."""


_INVENTORY_DB = click.option(
    "--db",
    "db",
    help="Inventory database: a SQLite file (default: the user cache) or postgresql://...",
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
    from bastion._internal.inventory.store import Inventory, components_of
    from bastion._internal.sbom.read import read_sbom

    if manifest is not None:
        if sbom_file is not None or service or release or released_at:
            raise click.UsageError("--manifest replaces SBOM_FILE, --service and --release")
        _ingest_manifest(manifest, db)
        return
    if sbom_file is None or not service or not release:
        raise click.UsageError("give SBOM_FILE with --service and --release, or --manifest")
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
    for line in refused:
        click.echo(f"bastion: error: {line}", err=True)
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
@click.option("--advisory-db", type=click.Path(path_type=Path), help="Advisory database file.")
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
@click.option("--advisory-db", type=click.Path(path_type=Path), help="Advisory database file.")
def inventory_serve(
    db: str | None, host: str, port: int, token_file: Path | None, advisory_db: Path | None
) -> None:
    """Serve the inventory over HTTP: POST /v1/sboms, GET /v1/components, advisories.

    Every request needs 'Authorization: Bearer TOKEN'. Needs 'bastion[server,inventory]'.
    """
    import os

    try:
        import uvicorn

        from bastion._internal.inventory.server import create_app
    except ImportError:
        raise UsageError(
            "'bastion inventory serve' needs: pip install 'bastion[server,inventory]'"
        ) from None
    from bastion._internal.inventory.store import Inventory

    token = (
        token_file.read_text(encoding="utf-8").strip()
        if token_file is not None
        else os.environ.get("BASTION_INVENTORY_TOKEN", "")
    )
    if not token:
        raise click.UsageError("no bearer token: use --token-file or BASTION_INVENTORY_TOKEN")
    app = create_app(Inventory(db), token, advisory_db)
    click.echo(f"bastion: inventory on http://{host}:{port}/v1/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


class _SbomGroup(click.Group):
    """``bastion sbom [PATH]`` generates; ``bastion sbom check FILE`` checks."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["generate", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_SbomGroup)
def sbom() -> None:
    """SBOMs: generate one (bastion sbom [PATH]) or check any (bastion sbom check FILE)."""


@sbom.command("generate")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_env_option("Describe an installed environment (default: this interpreter) instead of the lock.")
@click.option("-r", "--requirement", "extra", multiple=True, type=click.Path(path_type=Path))
@click.option("--lock", "locks", multiple=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["json", "xml"]), default="json", show_default=True
)
@click.option(
    "--spec-version",
    type=click.Choice(["1.5", "1.6", "1.7"]),
    default="1.6",
    show_default=True,
    help="CycloneDX version.",
)
@click.option(
    "--author", "authors", multiple=True, help="SBOM author (default: pyproject authors)."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the SBOM here.")
@click.option(
    "--with-vulnerabilities",
    is_flag=True,
    help="Add the advisory layer's findings; waivers become VEX analyses.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    help="Advisory database for --with-vulnerabilities (default: the user cache).",
)
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="Config file (waivers)."
)
def sbom_generate(
    path: Path | None,
    env: str | None,
    extra: tuple[Path, ...],
    locks: tuple[Path, ...],
    fmt: str,
    spec_version: str,
    authors: tuple[str, ...],
    output: Path | None,
    with_vulnerabilities: bool,
    db_path: Path | None,
    config_path: Path | None,
) -> None:
    """Write a CycloneDX SBOM of PATH's locked packages (or of --env).

    Every component has supplier, licence (when the metadata says), purl,
    hashes, scope and its dependencies; set SOURCE_DATE_EPOCH for a
    byte-identical SBOM of the same input. --with-vulnerabilities adds what
    the offline advisory database knows of them, each live waiver as a VEX
    analysis (state, justification, the waiver's reason); advisory data past
    advisory-max-days is refused with exit code 2.
    """
    from bastion._internal.inputs.discovery import discover, read_dependency_file
    from bastion._internal.inputs.environment import parse_environment
    from bastion._internal.sbom.generate import build_bom, root_project, sbom_packages

    root = (path or Path()).resolve()
    folder = root if root.is_dir() else root.parent
    sources = [read_dependency_file(p) for p in (*extra, *locks)]
    if env is not None:
        sources.append(parse_environment(None if env == "<current>" else Path(env)))
    if not sources:
        sources = list(discover(root).sources)
    if not sources:
        raise click.UsageError(f"no lockfile or requirements file in {folder}; use --env or --lock")
    found: tuple[Any, ...] = ()
    if with_vulnerabilities:
        from datetime import UTC, datetime

        from bastion._internal.config import load_config
        from bastion._internal.sbom.vulnerabilities import scan_packages

        config = load_config(folder, config_path)
        scan = scan_packages(
            sbom_packages(sources),
            config.waivers,
            db_path=db_path,
            max_days=config.advisory_max_days,
            now=datetime.now(UTC),
        )
        found = scan.found
        analysed = sum(1 for f in found if f.analysis is not None)
        note = f"{len(found)} vulnerabilit{'y' if len(found) == 1 else 'ies'}"
        note += f" ({analysed} with a VEX analysis from a waiver)" if analysed else ""
        if scan.expired_waivers:
            note += f"; {scan.expired_waivers} expired waiver(s) not applied"
        click.echo(f"bastion: {note}, from {scan.database}", err=True)
    text = build_bom(
        sources,
        root_project(folder),
        spec_version=spec_version,
        fmt=fmt,
        authors=authors,
        vulnerabilities=found,
    )
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(output, text)
    count = sum(len(s.packages) for s in sources)
    click.echo(f"bastion: SBOM of {count} package(s) written to {output}", err=True)


@sbom.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def sbom_check(file: Path, fmt: str) -> None:
    """Check any CycloneDX (JSON, XML) or SPDX 2.3 JSON SBOM for the minimum elements.

    NTIA 2021: supplier, name, version, unique identifier, dependency
    relationships, author, timestamp. CISA 2025: hash, licence, tool,
    generation context. Exit 1 when an element is missing.
    """
    import json as json_module

    from bastion._internal.sbom.elements import check_elements
    from bastion._internal.sbom.read import read_sbom

    report = check_elements(read_sbom(file))
    document = report.document
    if fmt == "json":
        data = {
            "file": str(file),
            "format": document.format,
            "spec_version": document.spec_version,
            "components": len(document.components),
            "complete": report.complete,
            "elements": [
                {
                    "element": e.element,
                    "source": e.source,
                    "passing": e.passing,
                    "total": e.total,
                    "document_level": e.document_level,
                    "complete": e.complete,
                    "missing": list(e.missing),
                }
                for e in report.elements
            ],
        }
        click.echo(json_module.dumps(data, indent=2))
    else:
        kind = (
            f"{'CycloneDX' if document.format == 'cyclonedx' else 'SPDX'} {document.spec_version}"
        )
        click.echo(f"{file}: {kind} {document.encoding}, {len(document.components)} components")
        for e in report.elements:
            mark = "ok     " if e.complete else "MISSING"
            scope = "document" if e.document_level else f"{e.passing}/{e.total} components"
            example = f"  e.g. {', '.join(e.missing[:3])}" if e.missing and not e.complete else ""
            click.echo(f"  {mark} {e.element:<26} {e.source}  {scope}{example}")
        verdict = "complete" if report.complete else "incomplete"
        click.echo(f"{verdict}: exit code {0 if report.complete else 1}")
    sys.exit(0 if report.complete else 1)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command line and return the exit code (no tracebacks)."""
    try:
        cli.main(args=argv, prog_name="bastion", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.Abort:
        click.echo("bastion: aborted", err=True)
        return 130
    except IncompleteError as exc:
        click.echo(f"bastion: error: {exc.one_line()}", err=True)
        return EXIT_INCOMPLETE
    except BastionError as exc:
        click.echo(f"bastion: error: {exc.one_line()}", err=True)
        return EXIT_USAGE
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
