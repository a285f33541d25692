"""``bastion names``: look-alike names and the approved list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bastion._internal.cli.common import discovered_sources, with_discovery_options
from bastion._internal.errors import UsageError
from bastion._internal.safe_write import write_atomically, write_within


@click.group()
def names() -> None:
    """Judge package names: look-alikes of popular projects, the approved list."""


def _corpus_index(config_path: Path | None) -> Any:
    from bastion._internal.config import load_config
    from bastion._internal.names.index_cache import configured_index

    return configured_index(load_config(Path(), config_path))


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
    names = [name for name, _ in read_names(file)]
    entries = list(zip(names, index.judge_many(names), strict=True))
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
@with_discovery_options
def names_approve(
    path: Path,
    config_path: Path | None,
    output: Path | None,
    exclude: tuple[str, ...],
    include: tuple[str, ...],
) -> None:
    """Write every package the project locks now as the approved baseline."""
    from bastion._internal.config import load_config
    from bastion._internal.controls.names import locked_names
    from bastion._internal.names.approved import read_approved, render_approved

    root = path.resolve()
    config = load_config(root, config_path)
    target = output or config.approved_packages_file or root / "approved-packages.txt"
    inputs = discovered_sources(root, (*config.exclude, *exclude), include)
    current = {p.name for p in locked_names(inputs.sources)}
    before = read_approved(target) if target.exists() else frozenset()
    if output is not None:  # a file the user named on the command line
        write_atomically(output, render_approved(current))
    else:  # a path from the project's configuration: inside the project, no symlinks
        write_within(root, target, render_approved(current))
    click.echo(
        f"{target}: {len(current)} approved ({len(current - before)} added, "
        f"{len(before - current)} removed)"
    )
    if config.approved_packages_file is None and output is None:
        click.echo(f'set approved-packages-file = "{target.name}" in the configuration')
