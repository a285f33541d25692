"""--format github: workflow commands GitHub turns into annotations, safe against forged ones."""

from __future__ import annotations

from bastion._internal.model import Report
from bastion._internal.report.github import escape_data, escape_property, render


def test_one_annotation_per_finding_and_a_summary(report: Report) -> None:
    lines = render(report).splitlines()
    assert len(lines) == len(report.findings) + 1
    assert lines[-1].startswith(f"bastion: {len(report.findings)} findings (")
    assert lines[-1].endswith(f"Exit code {report.exit_code}.")
    injection = next(line for line in lines if "template-injection" in line)
    assert injection.startswith("::error file=.github/workflows/ci.yml,line=8,col=20,title=")
    levels = {line.split(" ", 1)[0] for line in lines[:-1]}
    assert levels <= {"::error", "::warning", "::notice"}


def test_messages_cannot_forge_commands(report: Report) -> None:
    for line in render(report).splitlines()[:-1]:
        _, _, message = line.partition("::")[2].partition("::")
        assert "\n" not in message and "\r" not in message
    assert escape_data("a%0A::error::x\nb") == "a%250A::error::x%0Ab"
    assert escape_property("a,b:c") == "a%2Cb%3Ac"
