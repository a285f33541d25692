"""``--format github``: workflow commands that GitHub shows as annotations on the diff.

One ``::error``/``::warning``/``::notice`` line per finding (critical and high
are errors, medium warnings, the rest notices), then a summary line. Values
are escaped as GitHub's workflow-command syntax requires, so a message that
holds attacker text cannot end the annotation or start another command, and
control characters (terminal escapes in a package name) are shown escaped
(``report.common.printable``), as in every format.
"""

from __future__ import annotations

from bastion._internal.model import ControlStatus, Finding, Report, Severity, relative_to
from bastion._internal.report.common import printable, verdict_line

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    """Escape a message (the part after ``::``); other control characters are shown escaped."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(text)


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, report: Report) -> str:
    """One workflow command for a finding."""
    properties = []
    if finding.location is not None:
        properties.append(
            f"file={escape_property(relative_to(finding.location.path, report.root))}"
        )
        if finding.location.line:
            properties.append(f"line={finding.location.line}")
        if finding.location.column:
            properties.append(f"col={finding.location.column}")
    title = f"bastion {finding.rule_id} ({finding.severity.label})"
    properties.append(f"title={escape_property(title)}")
    message = finding.message
    if finding.remediation:
        message += f" Fix: {finding.remediation}"
    return f"::{_LEVEL[finding.severity]} {','.join(properties)}::{escape_data(message)}"


def render(report: Report, color: bool = False) -> str:
    """Every finding as an annotation, and a one-line summary."""
    del color
    lines = [annotation(f, report) for f in report.findings]
    for result in report.results:  # a control that could not run fails closed: say why
        if result.status is ControlStatus.ERROR:
            title = escape_property(f"bastion: {result.control} could not run (incomplete)")
            lines.append(f"::error title={title}::{escape_data(result.detail)}")
    lines.append(f"bastion: {escape_data(verdict_line(report))}")
    return "\n".join(lines) + "\n"
