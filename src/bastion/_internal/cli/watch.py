"""``bastion watch -- CMD``: run a command and watch its process tree for payloads."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bastion._internal.errors import UsageError
from bastion._internal.report import FORMATS

_SEVERITIES = ["info", "low", "medium", "high", "critical"]


@click.command(context_settings={"allow_interspersed_args": False})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write the report here (default: standard error; standard output is the command's).",
)
@click.option(
    "--fail-on",
    type=click.Choice(_SEVERITIES),
    default="medium",
    show_default=True,
    help="Lowest severity that fails (exit code 1).",
)
@click.option(
    "--kill-on",
    type=click.Choice(_SEVERITIES),
    help="Stop the whole tree at once when a finding of this severity appears.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.005, 5.0),
    default=0.1,
    show_default=True,
    help="Seconds between samples of the tree.",
)
@click.option(
    "--record",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write what this (clean) run did as a baseline (with --baseline: both merged).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Report every executable and destination this baseline does not have.",
)
@click.option(
    "--trace",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every process and connection seen as JSON (for the record).",
)
@click.option("--no-network", is_flag=True, help="The step declares no connections at all.")
@click.option(
    "--allow-connect",
    "allowed",
    multiple=True,
    metavar="ADDRESS[:PORT]",
    help="A destination the step declares (repeatable); any other is a finding.",
)
@click.option(
    "--cpu-window",
    type=click.FloatRange(0.5, 3600),
    default=30.0,
    show_default=True,
    help="Seconds of near-full CPU that count as sustained.",
)
@click.option(
    "--cpu-threshold",
    type=click.IntRange(10, 100),
    default=90,
    show_default=True,
    help="Percent of one core that counts as near-full.",
)
@click.option(
    "--build-tool",
    "build_tools",
    multiple=True,
    metavar="NAME",
    help="Another program allowed to keep a core busy (repeatable).",
)
@click.option(
    "--grace",
    type=click.FloatRange(0, 60),
    default=1.0,
    show_default=True,
    help="Seconds the tree may take to exit after the command did.",
)
@click.option(
    "--max-processes",
    type=click.IntRange(1, 1_000_000),
    default=10_000,
    show_default=True,
    help="Processes inspected at most (past it the watch is incomplete: exit 2).",
)
def watch(
    command: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    kill_on: str | None,
    interval: float,
    record: Path | None,
    baseline: Path | None,
    trace: Path | None,
    no_network: bool,
    allowed: tuple[str, ...],
    cpu_window: float,
    cpu_threshold: int,
    build_tools: tuple[str, ...],
    grace: float,
    max_processes: int,
) -> None:
    """Run CMD and watch its whole process tree until it ends (bastion watch -- CMD ARGS...).

    Reports miners (names, arguments, pools), binaries dropped in temporary
    places and executed, processes that outlive the command (stopped at the
    end), connections the step did not declare, and sustained CPU outside
    known build tools. It detects; it does not prevent.

    Exit code: 1 when a finding reaches --fail-on (or --kill-on fired), else
    the command's own (128+N for a signal, 127 not found, 126 not
    executable); 2 when the watch could not see the whole tree; 3 usage or
    input error. The report goes to --output or standard error.
    """
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        raise UsageError(
            "'bastion watch' needs the watch extra: pip install 'bastion[watch]'"
        ) from None
    from bastion._internal.model import Severity
    from bastion._internal.report import renderer
    from bastion._internal.safe_write import write_atomically
    from bastion._internal.watch.baseline import merge, read_baseline, write_baseline
    from bastion._internal.watch.baseline import record as baseline_of
    from bastion._internal.watch.model import WatchSettings
    from bastion._internal.watch.report import exit_code, summary, to_report
    from bastion._internal.watch.runner import CommandNotStartedError
    from bastion._internal.watch.runner import watch as run_watched

    for target in (record, output, trace):
        if target is not None and not target.absolute().parent.is_dir():
            raise UsageError(f"{target}: folder {target.absolute().parent} does not exist")
    settings = WatchSettings(
        interval=interval,
        cpu_window=cpu_window,
        cpu_threshold=cpu_threshold / 100,
        grace=grace,
        no_network=no_network,
        allowed=frozenset(_destination(a) for a in allowed),
        build_tools=frozenset(build_tools),
        kill_on=Severity.parse(kill_on) if kill_on else None,
        max_processes=max_processes,
        baseline=read_baseline(baseline) if baseline is not None else None,
    )
    threshold = Severity.parse(fail_on)
    try:
        run = run_watched(command, settings)
    except CommandNotStartedError as exc:
        click.echo(f"bastion: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    if record is not None:  # with --baseline: the union of both, to learn from several runs
        learned = baseline_of(run.processes, run.connections)
        if settings.baseline is not None:
            learned = merge(settings.baseline, learned)
        write_baseline(record, learned, run.command)
    if trace is not None:
        from bastion._internal.watch.trace import write_trace

        write_trace(trace, run)
    report = to_report(run, threshold)
    text = renderer(fmt)(report, False)
    if output is not None:
        write_atomically(output, text)
    else:
        click.echo(text, nl=False, err=True)
    click.echo(summary(run, threshold), err=True)
    sys.exit(exit_code(run, threshold))


def _destination(text: str) -> str:
    """``ADDRESS``, ``ADDRESS:PORT`` or ``[IPv6]:PORT`` as the watch writes destinations."""
    value = text.strip()
    if not value or any(ch.isspace() for ch in value):
        raise UsageError(f"--allow-connect {text!r}: expected ADDRESS or ADDRESS:PORT")
    if value.startswith("["):
        host, _, port = value[1:].partition("]")
        port = port.removeprefix(":")
        if not port:
            return host
    elif value.count(":") == 1:
        host, port = value.split(":")
    else:
        return value  # an address alone (IPv4, or IPv6 without brackets)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--allow-connect {text!r}: port must be 1-65535")
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{int(port)}"
