"""``bastion check``: every layer and the threat coverage matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bastion._internal.cli.common import emit, report_options, run_report


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@report_options
@click.option(
    "--provenance-dir",
    "provenance_dirs",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="<filename>.provenance files for the provenance control (repeatable).",
)
def check(path: Path | None, fmt: str, output: Path | None, **options: Any) -> None:
    """Run every layer on PATH and print the findings and the threat coverage matrix."""
    report = run_report(path, options, only_advisories=False, fmt=fmt)
    emit(report, fmt, output, show_all=options["show_all"])
