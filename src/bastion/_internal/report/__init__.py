"""Report formats: text (rich), json (versioned schema), sarif 2.1.0, markdown, github."""

from __future__ import annotations

from collections.abc import Callable

from bastion._internal.model import Report

FORMATS = ("text", "json", "sarif", "markdown", "github")


def renderer(name: str) -> Callable[[Report, bool], str]:
    """The render function of a format (imported lazily to keep start-up fast)."""
    if name == "json":
        from bastion._internal.report.json_report import render
    elif name == "sarif":
        from bastion._internal.report.sarif import render
    elif name == "markdown":
        from bastion._internal.report.markdown import render
    elif name == "github":
        from bastion._internal.report.github import render
    elif name == "text":
        from bastion._internal.report.text import render
    else:
        raise ValueError(f"unknown format {name!r}")
    return render
