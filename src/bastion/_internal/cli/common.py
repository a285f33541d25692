"""Options and helpers shared by the command modules: report options, emitting a report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bastion._internal.cli.db import DATABASE
from bastion._internal.markers import PLATFORMS, Target
from bastion._internal.model import Report, Severity
from bastion._internal.report import FORMATS

if TYPE_CHECKING:
    from bastion._internal.inputs.discovery import ProjectInputs

EXIT_INCOMPLETE = 2
EXIT_USAGE = 3
_Command = TypeVar("_Command", bound=Callable[..., Any])
_SEVERITIES = [s.label for s in Severity]


def use_color(output: Path | None) -> bool:
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def requirement_option(help_text: str) -> Callable[[_Command], _Command]:
    """``-r/--requirement FILE`` (repeatable), into the ``extra`` parameter."""
    return click.option(
        "-r",
        "--requirement",
        "extra",
        multiple=True,
        type=click.Path(path_type=Path),
        help=help_text,
    )


def lock_option(help_text: str) -> Callable[[_Command], _Command]:
    """``--lock FILE`` (repeatable), into the ``locks`` parameter."""
    return click.option(
        "--lock", "locks", multiple=True, type=click.Path(path_type=Path), help=help_text
    )


def env_option(help_text: str) -> Callable[[_Command], _Command]:
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


def discovery_options() -> list[Callable[[Callable[..., None]], Callable[..., None]]]:
    """``--exclude GLOB`` and ``--include GLOB``: for every command that discovers inputs."""
    return [
        click.option(
            "--exclude",
            "exclude",
            multiple=True,
            metavar="GLOB",
            help="Do not read paths matching GLOB ('dir/**' for a whole folder; repeatable; "
            "adds to the configured 'exclude').",
        ),
        click.option(
            "--include",
            "include",
            multiple=True,
            metavar="GLOB",
            help="Also read inputs matching GLOB below folders the project does not install "
            "from (tests, fixtures, examples, docs, build, dist); repeatable.",
        ),
    ]


def with_discovery_options(command: _Command) -> _Command:
    """Decorate a command with ``--exclude`` and ``--include``."""
    for option in reversed(discovery_options()):
        command = option(command)
    return command


def discovered_sources(root: Path, exclude: Sequence[str], include: Sequence[str]) -> ProjectInputs:
    """The project's inputs for commands that need every one of them (sbom, names approve).

    An unreadable discovered input stops such a command with exit code 2 before
    anything is written: an SBOM or an approved list missing its packages would
    be wrong without saying so.
    """
    from bastion._internal.errors import IncompleteError
    from bastion._internal.inputs.discovery import discover

    inputs = discover(root, exclude, include)
    if inputs.unreadable:
        first = inputs.unreadable[0]
        where = f"{first.path}:{first.line}" if first.line else str(first.path)
        more = f" (and {len(inputs.unreadable) - 1} more)" if len(inputs.unreadable) > 1 else ""
        raise IncompleteError(f"input not read: {where}: {first.reason}{more}; nothing written")
    for note in inputs.skipped_summary():
        click.echo(f"bastion: {note}", err=True)
    return inputs


def report_options(command: Callable[..., None]) -> Callable[..., None]:
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
        requirement_option("Also read this requirements file (repeatable)."),
        lock_option("Also read this lockfile (repeatable)."),
        env_option("Also read an installed environment (default: this interpreter)."),
        click.option(
            "--db",
            "db_path",
            type=DATABASE,
            help="Advisory database, a path or sqlite:///PATH (default: the user cache; "
            "created from the bundled snapshot on first use).",
        ),
        click.option(
            "--advisory-max-days",
            type=click.IntRange(0, 36500),
            help="Oldest advisory data accepted, in days (overrides advisory-max-days; "
            "older data fails closed).",
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
        click.option(
            "--no-zizmor-ignores",
            "no_zizmor_ignores",
            is_flag=True,
            help="Do not honour zizmor's ignore comments and zizmor.yml in the workflow audit.",
        ),
        *discovery_options(),
        click.option(
            "--all",
            "show_all",
            is_flag=True,
            help="Text format: print every finding (a rule with many findings is otherwise "
            "shown once with its count and the first locations).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def emit(report: Report, fmt: str, output: Path | None, *, show_all: bool = False) -> None:
    from bastion._internal.report import renderer

    if fmt == "text":
        from bastion._internal.report.text import render as render_text

        text = render_text(report, use_color(output), show_all=show_all)
    else:
        text = renderer(fmt)(report, use_color(output))
    if output is not None:
        from bastion._internal.safe_write import write_atomically

        write_atomically(output, text)
        click.echo(f"bastion: report written to {output} (exit code {report.exit_code})", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_code)


def progress_reporter(fmt: str) -> Callable[[int, int, str], None] | None:
    """Progress on stderr for long runs: only for text output to a terminal, never when piped.

    Nothing is shown for the first second (``BASTION_PROGRESS_AFTER`` seconds); after
    that each step overwrites one line, which is cleared when the last step is done.
    """
    if fmt != "text" or not sys.stderr.isatty():
        return None
    import time

    started = time.monotonic()
    shown = False
    try:
        after = float(os.environ.get("BASTION_PROGRESS_AFTER", PROGRESS_AFTER_SECONDS))
    except ValueError:
        after = PROGRESS_AFTER_SECONDS

    def step(done: int, total: int, what: str) -> None:
        nonlocal shown
        if done >= total:
            if shown:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()
            return
        if time.monotonic() - started < after:
            return
        shown = True
        sys.stderr.write(f"\r\033[Kbastion: [{done + 1}/{total}] {what}...")
        sys.stderr.flush()

    return step


PROGRESS_AFTER_SECONDS = 1.0
# A report run allocates millions of small objects (lock entries, YAML nodes) that live to
# the end; the default first threshold (2,000) makes the collector walk them over and over
# (11-17 % of a 5,000-package check). Cycles are still collected, only less often: a
# first threshold of 1,000,000 rather than 100,000 saved 2-9 % of the CPU of a 5,000-package
# check, a 100,000-name scan and a 1,006-file workflow audit with the same peak memory
# (58, 110 and 52 MB). Only when the console script owns the process (cli.OWNS_PROCESS) for
# a report run: never in a caller's process, never in a server.
GC_THRESHOLDS = (1_000_000, 50, 100)


def relax_garbage_collection() -> None:
    """Freeze what the imports made and collect less often, for one short-lived report run."""
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_report(
    path: Path | None,
    options: dict[str, Any],
    *,
    only_advisories: bool = False,
    only_workflows: bool = False,
    fmt: str = "text",
) -> Report:
    from bastion._internal import cli
    from bastion._internal.controls import Control
    from bastion._internal.engine import CURRENT_ENVIRONMENT, run_check

    if cli.OWNS_PROCESS:
        relax_garbage_collection()
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
        from bastion._internal.controls.advisories import AdvisoryControl

        controls = [AdvisoryControl(db_path)]
    elif only_workflows:
        from bastion._internal.controls.workflows import WorkflowControl

        controls = [
            WorkflowControl(
                actions_dirs,
                online=options["online"],
                zizmor_ignores=not options["no_zizmor_ignores"],
            )
        ]
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
        provenance_dirs=tuple(options.get("provenance_dirs", ())),
        exclude=tuple(options["exclude"]),
        include=tuple(options["include"]),
        progress=progress_reporter(fmt),
        zizmor_ignores=not options["no_zizmor_ignores"],
        advisory_max_days=options.get("advisory_max_days"),
    )
