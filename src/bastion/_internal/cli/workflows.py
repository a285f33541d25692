"""``bastion workflows``: the GitHub Actions audit alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bastion._internal.cli.common import emit, report_options, run_report


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@report_options
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
    report = run_report(path, options, only_workflows=True, fmt=fmt)
    emit(report, fmt, output, show_all=options["show_all"])
