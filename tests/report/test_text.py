"""Text output: 80 columns, no colour unless asked, no markup from hostile input."""

from __future__ import annotations

from bastion._internal.model import Report
from bastion._internal.report.text import render
from tests.report.conftest import HOSTILE


def test_fits_80_columns_and_shows_the_matrix(report: Report) -> None:
    text = render(report, color=False)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Threat coverage" in text
    for threat in ("tampering", "typosquat", "insecure-code", "blind-response"):
        assert threat in text
    assert "none" in text and "local only" in text and "unchecked" in text
    assert "Guard: enforced" in text  # the legend under the matrix
    assert "\x1b[" not in text
    assert " ".join(text.split()).endswith("Exit code 1.")


def test_colour_only_when_asked(report: Report) -> None:
    assert "\x1b[" in render(report, color=True)


def test_hostile_strings_are_not_interpreted(report: Report) -> None:
    # The hostile text sits in a comment; put it in a finding message to be sure.
    from dataclasses import replace

    first = report.results[0]
    poisoned = replace(first.findings[0], message=HOSTILE)
    hostile = replace(report, results=(replace(first, findings=(poisoned,)), *report.results[1:]))
    text = render(hostile, color=True)
    assert "[bold red]x[/]" in text  # printed literally, not as markup
    assert "?[31m" in text  # the raw terminal escape was neutralised


def _many_findings(report: Report, count: int) -> Report:
    from dataclasses import replace

    from bastion._internal.model import Location

    first = report.results[0]
    template = first.findings[0]
    many = tuple(
        replace(template, rule_id="S101", location=Location(report.root / f"t{i:04}.py", 3))
        for i in range(count)
    )
    return replace(report, results=(replace(first, findings=many), *report.results[1:]))


def test_a_rule_with_many_findings_prints_once_with_its_count(report: Report) -> None:
    grouped = render(_many_findings(report, 1295))
    assert grouped.count("S101") == 4  # three shown, then the count line
    assert "... and 1292 more S101 findings (--all prints every one)" in grouped
    assert "t0000.py:3" in grouped and "t0003.py:3" not in grouped
    everything = render(_many_findings(report, 1295), show_all=True)
    assert everything.count(" S101  ") == 1295 and "more S101" not in everything
    few = render(_many_findings(report, 8))  # at the threshold: every one
    assert few.count(" S101  ") == 8 and "more S101" not in few


def test_machine_formats_keep_every_finding(report: Report) -> None:
    import json

    from bastion._internal.report.json_report import render as render_json

    data = json.loads(render_json(_many_findings(report, 50)))
    assert sum(1 for f in data["findings"] if f["rule_id"] == "S101") == 50


def test_notes_say_what_was_skipped(report: Report) -> None:
    import json
    from dataclasses import replace

    from bastion._internal.report.json_report import render as render_json
    from bastion._internal.report.markdown import render as render_markdown

    note = "3 inputs under tests/ skipped (not installed by the project): --include 'tests/**'"
    noted = replace(report, notes=(note,))
    assert "3 inputs under tests/ skipped" in render(noted)
    assert "3 inputs under tests/ skipped" in render_markdown(noted)
    data = json.loads(render_json(noted))
    assert data["notes"] == [note]
    assert {row["path"] for row in data["coverage"]} <= {"open", "clear", "unchecked"}
    tampering = next(row for row in data["coverage"] if row["threat"] == "tampering")
    assert tampering["path"] == "open" and tampering["open_findings"] > 0
