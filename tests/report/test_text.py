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
    assert "exposed" in text and "local-only" in text
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
