"""Shared pieces of the report formats."""

from __future__ import annotations

import re
from collections import Counter

from bastion._internal.model import ControlResult, Finding, Report, Severity

# C0 and C1 controls (ESC, BEL, CSI, \r, \n ...), DEL, bidirectional overrides and
# isolates (Trojan Source), zero-width characters, line/paragraph separators, and lone
# surrogates (which a JSON lockfile can smuggle in, and no UTF-8 stream can print).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)
_UNSAFE_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)
_BACKTICKS = re.compile("`+")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Untrusted text made safe for a terminal, a log or a one-line format.

    Every control character is shown as its escape (``\\x1b``, ``\\u202e``) instead
    of being acted on, so a package name cannot clear the screen, hide a line
    with ``\\r``, plant an OSC 8 hyperlink, ring the bell, reverse the text, or
    make the output unprintable. Printable text, spaces included, is unchanged.
    """
    return _UNSAFE.sub(_escape, text)


def json_printable(document: str) -> str:
    """A JSON document with the characters ``json.dumps(ensure_ascii=False)`` leaves raw escaped.

    Those characters can only stand inside JSON strings, so ``\\uXXXX`` keeps
    every value exactly while the document stays safe to print on a terminal.
    """
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def markdown_text(text: str) -> str:
    """Untrusted text for Markdown (a table cell or a list item) that renders as written.

    Escapes pipes, HTML, backticks, emphasis and link brackets (no link, image or
    autolink can be planted), breaks @-mentions and folds lines into one.
    """
    escaped = re.sub(r"([\\`*_\[\]|~])", r"\\\1", printable(" ".join(text.split())))
    escaped = escaped.replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("@", "@&#8203;")  # no notification for @someone or @org/team


def markdown_code(text: str) -> str:
    """Untrusted text as an inline code span that it cannot end early (CommonMark rules).

    Backslashes do not escape inside a code span, so the span is fenced with one
    more backtick than the longest run inside, padded when the text starts or ends
    with one; pipes are escaped for GFM tables, which split cells before inlines.
    """
    body = printable(" ".join(text.split())).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    pad = " " if body[:1] == "`" or body[-1:] == "`" else ""
    return f"{fence}{pad}{body}{pad}{fence}"


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
