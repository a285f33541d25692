"""``bastion inspect``: what wheels and sdists would do when installed, and where they came from."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from bastion._internal.cli.common import emit
from bastion._internal.model import Severity
from bastion._internal.report import FORMATS

MIB = 1024 * 1024


@click.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--lock",
    "locks",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Inspect the artifacts this lockfile pins (repeatable).",
)
@click.option(
    "--download", is_flag=True, help="With --lock: fetch locked artifacts missing from the cache."
)
@click.option(
    "--index-url",
    default="https://pypi.org/simple/",
    show_default=True,
    help="PEP 691 index for NAME==VERSION and --download.",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="Artifact cache (default: the bastion user cache).",
)
@click.option("--source", help="Compare with this git repository (path or URL, optionally @REF).")
@click.option("--ref", help="The git ref of the release (default: common tag patterns).")
@click.option("--capabilities", is_flag=True, help="Also list what the code can do (info).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--fail-on",
    type=click.Choice([s.label for s in Severity]),
    help="Lowest severity that fails (default: the configuration's).",
)
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="Config file (waivers)."
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=min(os.cpu_count() or 1, 4),
    show_default=True,
    help="Processes that read artifacts (a large wheel is split between them).",
)
@click.option("--max-members", type=click.IntRange(1), help="Most members an archive may hold.")
@click.option("--max-member-mb", type=click.IntRange(1), help="Largest member, uncompressed (MiB).")
@click.option(
    "--max-total-mb", type=click.IntRange(1), help="All members together, uncompressed (MiB)."
)
@click.option(
    "--max-ratio", type=click.IntRange(2), help="Largest compression ratio of a big member."
)
def inspect(
    targets: tuple[str, ...],
    locks: tuple[Path, ...],
    download: bool,
    index_url: str,
    cache_dir: Path | None,
    source: str | None,
    ref: str | None,
    capabilities: bool,
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    config_path: Path | None,
    jobs: int,
    **limit_options: Any,
) -> None:
    """Inspect wheels and sdists (FILE... or NAME==VERSION...) without running them.

    Every member is scanned whatever its path: install-time and import-time
    code, .pth lines, decode-and-exec chains, download-and-run, miners,
    credential theft, RECORD integrity, wheel against sdist. NAME==VERSION
    downloads every file of the release (hash checked, cached by sha256).
    --source compares with the git tree at the release tag. Exit codes: 0
    clean, 1 findings, 2 an artifact could not be inspected, 3 bad input.
    """
    from bastion._internal.config import load_config
    from bastion._internal.errors import UsageError
    from bastion._internal.inspect.fetch import default_cache_dir, parse_requirement
    from bastion._internal.inspect.limits import Limits
    from bastion._internal.inspect.session import inspect_paths, to_report, to_result

    if not targets and not locks:
        raise click.UsageError("name a wheel, an sdist, NAME==VERSION or --lock FILE")
    limits = _limits(Limits(), limit_options)
    cache = cache_dir or default_cache_dir()
    files: list[Path] = []
    for target in targets:
        requirement = parse_requirement(target)
        path = Path(target)
        if requirement is not None and not path.exists():
            files.extend(_release(index_url, *requirement, cache))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{target}: no such file (and not NAME==VERSION)")
    outcomes = inspect_paths(files, limits, strict=True, git_ids=source is not None, jobs=jobs)
    missing: list[str] = []
    if locks:
        from bastion._internal.inspect.locked import locked_artifacts

        found, missing = locked_artifacts(locks, cache, index_url if download else None)
        outcomes += inspect_paths(
            found, limits, strict=False, git_ids=source is not None, jobs=jobs
        )
    if source is not None:
        outcomes = _with_source(outcomes, source, ref, limits)
    root = Path.cwd()
    config = load_config(root, config_path)
    if fail_on is not None:
        config = replace(config, fail_on=Severity.parse(fail_on))
    for outcome in outcomes:
        why = f" ({outcome.error})" if outcome.error else ""
        click.echo(f"bastion: {outcome.path.name}: {outcome.verdict}{why}", err=True)
    if missing:
        click.echo(f"bastion: not inspected (not in the cache): {', '.join(missing)}", err=True)
    emit(
        to_report(to_result(outcomes, capabilities=capabilities, missing=missing), config, root),
        fmt,
        output,
    )


def _limits(base: Any, options: dict[str, Any]) -> Any:
    changes = {}
    if options.get("max_members"):
        changes["max_members"] = options["max_members"]
    if options.get("max_member_mb"):
        changes["max_member_bytes"] = options["max_member_mb"] * MIB
    if options.get("max_total_mb"):
        changes["max_total_bytes"] = options["max_total_mb"] * MIB
    if options.get("max_ratio"):
        changes["max_ratio"] = options["max_ratio"]
    return replace(base, **changes)


def _release(index: str, name: str, version: str, cache: Path) -> list[Path]:
    from bastion._internal.inspect.fetch import download, release_files

    files = release_files(index, name, version)
    click.echo(f"bastion: {name} {version}: {len(files)} file(s) from {index}", err=True)
    return [download(f, cache) for f in files]


def _with_source(outcomes: list[Any], source: str, ref: str | None, limits: Any) -> list[Any]:
    from bastion._internal.inspect.source import (
        compare_with_source,
        open_repository,
        resolve_tree,
        split_source,
    )

    location, given_ref = split_source(source)
    chosen = ref or given_ref
    updated = []
    with open_repository(location) as repository:
        for outcome in outcomes:
            if outcome.report is None or not outcome.name or not outcome.version:
                updated.append(outcome)
                continue
            tree = resolve_tree(repository, location, outcome.name, outcome.version, chosen)
            hits = tuple(compare_with_source(outcome.report, tree, repository, limits))
            updated.append(replace(outcome, extra=outcome.extra + hits))
    return updated
