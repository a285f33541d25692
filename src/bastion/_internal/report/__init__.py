"""Report formats: text (rich), json (versioned schema), sarif 2.1.0, markdown, github."""

from __future__ import annotations

from collections.abc import Callable

from bastion._internal.model import Report

FORMATS = ("text", "json", "sarif", "markdown", "github")


def renderer(name: str) -> Callable[[Report, bool], str]:
    """The render function of a format (imported lazily to keep start-up fast)."""
    if name in ("json", "sarif"):
        return _printable_json(name)
    if name == "markdown":
        from bastion._internal.report.markdown import render
    elif name == "github":
        from bastion._internal.report.github import render
    elif name == "text":
        from bastion._internal.report.text import render
    else:
        raise ValueError(f"unknown format {name!r}")
    return render


def _printable_json(name: str) -> Callable[[Report, bool], str]:
    """A JSON format whose output keeps no raw control or bidi character (valid JSON still)."""
    from bastion._internal.report.common import json_printable

    if name == "json":
        from bastion._internal.report.json_report import render
    else:
        from bastion._internal.report.sarif import render

    def printable_render(report: Report, color: bool = False) -> str:
        return json_printable(render(report, color))

    return printable_render
