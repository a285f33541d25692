"""``--format markdown``: a summary for a pull-request comment."""

from __future__ import annotations

from bastion._internal.model import Report
from bastion._internal.report.common import (
    findings_for,
    markdown_code,
    markdown_text,
    unavailable,
    verdict_line,
    where,
)
from bastion._internal.threats import GUARD_LABELS, LEGEND, THREATS, path_label
from bastion._internal.version import VERSION

MAX_ROWS = 200  # keep a PR comment readable (GitHub caps comments at 65,536 characters)


def cell(text: str) -> str:
    """Escape text for a Markdown table cell or list item (``report.common.markdown_text``)."""
    return markdown_text(text)


def render(report: Report, color: bool = False) -> str:
    """The report as GitHub-flavoured Markdown."""
    del color
    icon = "❌" if report.exit_code == 1 else ("⚠️" if report.exit_code else "✅")
    lines = [f"## {icon} bastion check", "", cell(verdict_line(report)), ""]
    lines += [cell(note) for note in report.notes] + ([""] if report.notes else [])
    lines += [
        "### Threat coverage",
        "",
        "| Threat | Guard | Now | Controls |",
        "|---|---|---|---|",
    ]
    hints = {t.id: t.expected_controls for t in THREATS}
    for row in report.coverage:
        controls = (
            "<br>".join(
                f"{c.control}: {c.status.value}"
                + (f" ({n})" if (n := findings_for(c, row.threat)) else "")
                for c in row.controls
            )
            or f"_none yet ({cell(hints[row.threat])})_"
        )
        lines.append(
            f"| {row.threat} | **{GUARD_LABELS[row.verdict]}** | {path_label(row)} | {controls} |"
        )
    lines += ["", f"<sub>{cell(LEGEND)}</sub>"]
    not_run = unavailable(report)
    if not_run:
        lines.append("")
        lines += [
            f"- {markdown_code(r.control)} {r.status.value}: {cell(r.detail)}" for r in not_run
        ]
    findings = report.findings
    lines += ["", f"### Findings ({len(findings)})", ""]
    if findings:
        lines += ["| Severity | Rule | Location | Message | Fix |", "|---|---|---|---|---|"]
        for finding in findings[:MAX_ROWS]:
            location = where(finding, report)
            lines.append(
                f"| {finding.severity.label} | {markdown_code(finding.rule_id)} | "
                f"{markdown_code(location) if location else ''} | {cell(finding.message)} | "
                f"{cell(finding.remediation)} |"
            )
        if len(findings) > MAX_ROWS:
            lines.append(f"\n_{len(findings) - MAX_ROWS} more findings in the full report._")
    else:
        lines.append("No findings.")
    if report.waived:
        lines += ["", f"<details><summary>{len(report.waived)} waived</summary>", ""]
        for waived in report.waived:
            lines.append(
                f"- {markdown_code(waived.finding.rule_id)} {cell(waived.finding.message)}: "
                f"{cell(waived.waiver.reason)} (until {waived.waiver.expires.date()})"
            )
        lines += ["", "</details>"]
    lines += ["", f"<sub>bastion {VERSION}</sub>", ""]
    return "\n".join(lines)
