"""A watched run as a bastion ``Report`` (every format renders it), its exit code and summary."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    Report,
    Severity,
    finding_sort_key,
)
from bastion._internal.threats import coverage
from bastion._internal.watch.model import WatchRun
from bastion._internal.watch.rules import CONTROL, THREATS

EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 2


def control_result(run: WatchRun) -> ControlResult:
    """The watch as a control result: fail with findings, error when it could not see all."""
    findings = tuple(sorted(run.findings, key=finding_sort_key))
    if any(f.rule_id == "watch-incomplete" for f in findings):
        status = ControlStatus.ERROR
    elif findings:
        status = ControlStatus.FAIL
    else:
        status = ControlStatus.PASS
    return ControlResult(CONTROL, status, THREATS, findings, detail(run))


def to_report(run: WatchRun, fail_on: Severity, root: Path | None = None) -> Report:
    """The run as a report: one control result, the matrix rows of the watch's threats."""
    result = control_result(run)
    return Report(
        root=root or Path.cwd(),
        sources=(),
        results=(result,),
        coverage=coverage((result,), result.findings, frozenset(THREATS)),
        waived=(),
        fail_on=fail_on,
        generated_at=datetime.now(UTC),
    )


def exit_code(run: WatchRun, fail_on: Severity) -> int:
    """1 when a finding reaches ``fail_on`` (or the tree was killed); else the command's own code.

    A watch that could not see the whole tree (past ``--max-processes``, or a
    process it could not stop) turns a clean exit into 2: fail closed.
    """
    if run.end.killed_by_watch or any(f.severity >= fail_on for f in run.findings):
        return EXIT_FINDINGS
    if run.end.exit_code != 0:
        return run.end.exit_code
    if any(f.rule_id == "watch-incomplete" for f in run.findings):
        return EXIT_INCOMPLETE
    return 0


def detail(run: WatchRun) -> str:
    """One line on what was watched (detects, does not prevent)."""
    how = _ended(run)
    shown = sorted({c.destination for c in run.connections})
    listed = ""
    if shown:
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        listed = f" ({', '.join(shown[:5])}{more})"
    text = (
        f"{_command(run)} {how} after {run.duration:.1f} s; {len(run.processes)} process(es), "
        f"{len(shown)} destination(s){listed}, {run.samples} sample(s) every "
        f"{run.interval * 1000:.0f} ms; detects, does not prevent"
    )
    if run.stopped:
        text += f"; stopped {run.stopped} process(es)"
    if run.incomplete:
        text += "; " + "; ".join(run.incomplete)
    return text


def summary(run: WatchRun, fail_on: Severity) -> str:
    """The stderr summary line."""
    counts: dict[str, int] = {}
    for finding in run.findings:
        counts[finding.severity.label] = counts.get(finding.severity.label, 0) + 1
    shown = ", ".join(
        f"{counts[s.label]} {s.label}" for s in reversed(Severity) if s.label in counts
    )
    found = f"{len(run.findings)} finding(s) ({shown})" if run.findings else "no findings"
    return (
        f"bastion watch: {detail(run)}; {found}; watch CPU {run.watch_cpu_seconds:.2f} s; "
        f"exit code {exit_code(run, fail_on)}"
    )


def _ended(run: WatchRun) -> str:
    if run.end.killed_by_watch:
        return "was stopped by --kill-on"
    if run.end.signal is not None:
        return f"ended by signal {run.end.signal} (exit code {run.end.exit_code})"
    return f"exited {run.end.exit_code}"


def _command(run: WatchRun) -> str:
    text = shlex.join(run.command)
    text = text if len(text) <= 60 else text[:57] + "..."
    return "".join(ch if ch.isprintable() else "?" for ch in text)
