"""``bastion audit``: the advisory layer alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bastion._internal.cli.common import emit, report_options, run_report


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@report_options
def audit(path: Path | None, fmt: str, output: Path | None, **options: Any) -> None:
    """Audit pinned packages against the offline advisory database.

    Reads PATH (default: the current directory) like 'check' does; with -r,
    --lock or --env and no PATH, reads only those. Every vulnerability is
    reported once per package version with its aliases, severity and the
    smallest upgrade that fixes all of the package's advisories.
    """
    report = run_report(path, options, only_advisories=True, fmt=fmt)
    emit(report, fmt, output, show_all=options["show_all"])
