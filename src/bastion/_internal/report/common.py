"""Shared pieces of the report formats."""

from __future__ import annotations

from collections import Counter

from bastion._internal.model import Finding, Report, Severity, relative_to


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
    text = f"{len(findings)} findings" + (f" ({parts})" if parts else "")
    text += f"; {len(failing)} at or above '{report.fail_on.label}'"
    if report.waived:
        text += f"; {len(report.waived)} waived"
    if report.incomplete:
        errored = [r.control for r in report.results if r.status.value == "error"]
        text += f"; incomplete: {', '.join(errored)} could not run"
    return f"{text}. Exit code {report.exit_code}."


def source_path(report: Report, index: int) -> str:
    """A source's path relative to the root."""
    return relative_to(report.sources[index].path, report.root)
