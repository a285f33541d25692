"""Shared pieces of the report formats."""

from __future__ import annotations

from collections import Counter

from bastion._internal.model import ControlResult, Finding, Report, Severity


def where(finding: Finding, report: Report) -> str:
    """``path:line`` of a finding relative to the project root, or ``""``."""
    return finding.location.display(report.root) if finding.location else ""


def severity_counts(findings: tuple[Finding, ...]) -> dict[str, int]:
    """Counts by severity label, most severe first, zeroes left out."""
    counts = Counter(f.severity for f in findings)
    return {s.label: counts[s] for s in sorted(Severity, reverse=True) if counts[s]}


def verdict_line(report: Report) -> str:
    """One sentence: how many findings, against which threshold, and the exit code."""
    findings = report.findings
    failing = [f for f in findings if f.severity >= report.fail_on]
    parts = ", ".join(f"{n} {label}" for label, n in severity_counts(findings).items())
    text = plural(len(findings), "finding") + (f" ({parts})" if parts else "")
    text += f"; {len(failing)} at or above '{report.fail_on.label}'"
    if report.waived:
        text += f"; {len(report.waived)} waived"
    if report.incomplete:
        errored = [r.control for r in report.results if r.status.value == "error"]
        text += f"; incomplete: {', '.join(errored)} could not run"
    return f"{text}. Exit code {report.exit_code}."


def unavailable(report: Report) -> list[ControlResult]:
    """Controls that did not run (error or not configured) and say why."""
    return [r for r in report.results if not r.status.ran and r.detail]


def findings_for(result: ControlResult, threat: str) -> int:
    """How many of a control's findings concern one threat."""
    return sum(1 for f in result.findings if f.threat == threat)


def plural(count: int, noun: str) -> str:
    """``1 source``, ``2 sources``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
