"""Markdown output for pull-request comments."""

from __future__ import annotations

from bastion._internal.model import Report
from bastion._internal.report.markdown import cell, render


def test_matrix_findings_and_waivers(report: Report) -> None:
    text = render(report)
    assert "### Threat coverage" in text
    assert "| tampering | **local only** | open (" in text and "| pinning: fail (" in text
    assert "| known-vulnerable | **local only** | clear | advisories: pass |" in text
    assert "| compromised-release | **none** | unchecked |" in text
    assert "Guard: enforced = CI runs a control here fail-closed" in text
    assert "`index-confusion`" in text
    assert "1 waived" in text and "fixed upstream \\| soon" in text


def test_cells_cannot_break_the_table() -> None:
    assert cell("a|b\nc <img src=x>") == "a\\|b c &lt;img src=x&gt;"
