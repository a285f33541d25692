"""Human-readable text: findings, the threat coverage matrix, one verdict line.

Every string that came from an inspected file is rendered as plain ``Text``,
so that hostile input cannot inject rich markup or terminal escapes.
"""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from bastion._internal.model import ControlResult, Coverage, Finding, Report, Severity
from bastion._internal.report.common import findings_for, plural, unavailable, verdict_line, where
from bastion._internal.threats import GUARD_LABELS, LEGEND, THREATS, path_label, path_state
from bastion._internal.version import VERSION

WIDTH = 80
GROUP_AT = 8  # a rule with more findings than this is shown once, with its count
SHOWN_PER_GROUP = 3
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_VERDICT_STYLE = {
    Coverage.COVERED: "bold green",
    Coverage.LOCAL: "green",
    Coverage.INCOMPLETE: "bold yellow",
    Coverage.EXPOSED: "bold red",
}
_PATH_STYLE = {"open": "bold red", "clear": "green", "unchecked": "yellow"}
_STATUS_STYLE = {"pass": "green", "fail": "red", "error": "bold yellow", "not-configured": "dim"}


def _clean(text: str) -> str:
    """Strip control characters (terminal escapes) from untrusted text."""
    return "".join(ch if ch.isprintable() or ch == " " else "?" for ch in text)


def render(report: Report, color: bool = False, *, show_all: bool = False) -> str:
    """The report as text, at most 80 columns wide.

    A rule with more than ``GROUP_AT`` findings prints its first few and a count of the
    rest, unless ``show_all``; the machine formats always carry every finding.
    """
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=WIDTH,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    console.print(Text(f"bastion {VERSION}: {_clean(report.root.as_posix())}", style="bold"))
    _sources(console, report)
    for note in report.notes:
        console.print(Text(_clean(note), style="dim"))
    _findings(console, report, show_all)
    _matrix(console, report)
    _unavailable(console, report)
    console.print()
    style = "bold red" if report.exit_code else "bold green"
    console.print(Text(verdict_line(report), style=style))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _sources(console: Console, report: Report) -> None:
    if not report.sources:
        # not for 'bastion workflows' or 'bastion watch', which read no dependency files
        if any(r.control not in ("workflows", "watch") for r in report.results):
            console.print(Text("No lockfile or requirements file found.", style="yellow"))
        return
    console.print(Text(f"Read {plural(len(report.sources), 'dependency source')}:"))
    for source in report.sources:
        hashed = sum(1 for p in source.packages if p.has_hash)
        try:
            shown = source.path.relative_to(report.root).as_posix()
        except ValueError:
            shown = source.path.as_posix()
        console.print(
            Text(
                f"  {_clean(shown)} ({source.format.value}, {len(source.packages)} packages, "
                f"{hashed} hashed)"
            )
        )


def _findings(console: Console, report: Report, show_all: bool) -> None:
    findings = report.findings
    console.print()
    if not findings:
        console.print(Text("No findings.", style="bold green"))
        return
    console.print(Text(f"Findings ({len(findings)})", style="bold underline"))
    per_rule = Counter(f.rule_id for f in findings)
    shown: Counter[str] = Counter()
    for finding in findings:
        total = per_rule[finding.rule_id]
        grouped = not show_all and total > GROUP_AT
        if grouped and shown[finding.rule_id] >= SHOWN_PER_GROUP:
            continue
        shown[finding.rule_id] += 1
        _finding(console, report, finding)
        if grouped and shown[finding.rule_id] == SHOWN_PER_GROUP:
            rest = total - SHOWN_PER_GROUP
            line = f"  ... and {rest} more {finding.rule_id} findings (--all prints every one)"
            console.print(Text(_clean(line), style="bold"))


def _finding(console: Console, report: Report, finding: Finding) -> None:
    head = Text()
    head.append(f"{finding.severity.label.upper():<8}", _SEVERITY_STYLE[finding.severity])
    head.append(f" {finding.rule_id}", "bold")
    location = where(finding, report)
    if location:
        head.append(f"  {_clean(location)}")
    console.print(head)
    console.print(Padding(Text(_clean(finding.message)), (0, 0, 0, 2)))
    if finding.remediation:
        fix = Text("fix: " + _clean(finding.remediation), style="dim")
        console.print(Padding(fix, (0, 0, 0, 2)))


def _unavailable(console: Console, report: Report) -> None:
    """Why a control errored or was not configured: the matrix alone does not say."""
    shown = unavailable(report)
    if not shown:
        return
    console.print()
    for result in shown:
        line = Text(f"{result.control}: ")
        line.append(result.status.value, _STATUS_STYLE.get(result.status.value, ""))
        line.append(f": {_clean(result.detail)}")
        console.print(line)


def _control_cell(threat: str, results: tuple[ControlResult, ...]) -> Text:
    cell = Text()
    for i, result in enumerate(results):
        if i:
            cell.append("\n")
        cell.append(f"{result.control}: ")
        cell.append(result.status.value, _STATUS_STYLE.get(result.status.value, ""))
        count = findings_for(result, threat)
        if count:
            cell.append(f" ({count})")
    return cell


def _matrix(console: Console, report: Report) -> None:
    console.print()
    table = Table(
        title="Threat coverage",
        title_justify="left",
        title_style="bold underline",
        show_lines=False,
        width=WIDTH,
        box=None,
        padding=(0, 1),
    )
    table.add_column("Threat", no_wrap=True, min_width=19)
    table.add_column("Guard", no_wrap=True, min_width=10)
    table.add_column("Now", no_wrap=True, min_width=9)
    table.add_column("Controls (status, findings)", overflow="fold")
    hints = {t.id: t.expected_controls for t in THREATS}
    for row in report.coverage:
        cell = _control_cell(row.threat, row.controls)
        if not row.controls:
            cell = Text(f"none yet ({hints[row.threat]})", style="dim")
        guard = Text(GUARD_LABELS[row.verdict], _VERDICT_STYLE[row.verdict])
        now = Text(path_label(row), _PATH_STYLE[path_state(row)])
        table.add_row(row.threat, guard, now, cell)
    console.print(table)
    console.print(Text(LEGEND, style="dim"))
