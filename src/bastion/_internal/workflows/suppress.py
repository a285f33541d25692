"""Inline suppressions (``# bastion: ignore[rule-id] reason``) and configured ignores.

A comment suppresses the named rules on its own line, or on the next line
when it stands alone. Only files of the repository itself count: a remote
action cannot silence findings about itself. A suppression without a reason
is not honoured (the finding stays, and says why).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.model import Finding, Location, WaivedFinding, Waiver
from bastion._internal.workflows import zizmor

_COMMENT = re.compile(r"#\s*bastion:\s*ignore\[([A-Za-z0-9_,\s-]+)\]\s*(.*)$")
NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Suppression:
    """One inline comment: the rules it names, its reason, where it is."""

    rules: frozenset[str]
    reason: str
    line: int


def scan(text: str) -> Mapping[int, Suppression]:
    """Line number -> the suppression that applies to findings on that line."""
    found: dict[int, Suppression] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "bastion:" not in line:
            continue
        match = _COMMENT.search(line)
        if match is None:
            continue
        rules = frozenset(r.strip() for r in match.group(1).split(",") if r.strip())
        suppression = Suppression(rules, match.group(2).strip(), number)
        found[number] = suppression
        if line.lstrip().startswith("#"):
            found[number + 1] = suppression
    return found


@dataclass(frozen=True, slots=True)
class ConfiguredIgnore:
    """``workflow-ignore = ["RULE:PATH[:LINE]"]`` from the configuration."""

    rule: str
    path: str  # POSIX, relative to the repository root
    line: int | None


def parse_ignore(entry: str) -> ConfiguredIgnore:
    """Read ``RULE:PATH`` or ``RULE:PATH:LINE``; ``ValueError`` when malformed."""
    rule, sep, rest = entry.partition(":")
    if not sep or not rule or not rest:
        raise ValueError(f"{entry!r} should be RULE:PATH or RULE:PATH:LINE")
    path, sep, line = rest.rpartition(":")
    if sep and line.isdigit():
        return ConfiguredIgnore(rule.strip(), path.strip(), int(line))
    return ConfiguredIgnore(rule.strip(), rest.strip(), None)


def apply(
    findings: Iterable[Finding],
    root: Path,
    texts: Mapping[Path, str],
    ignores: Iterable[ConfiguredIgnore],
    config_path: Path | None,
    zizmor_config: zizmor.Config | None = None,
    zizmor_ignores: bool = False,
) -> tuple[list[Finding], list[WaivedFinding]]:
    """Split findings into those kept and those suppressed (with the suppression as a waiver).

    With ``zizmor_ignores``, zizmor's comments and ``zizmor_config`` also waive
    the findings of the rules bastion shares with zizmor.
    """
    scanned = {path: scan(text) for path, text in texts.items()}
    zizmor_comments = (
        {path: zizmor.comments(text) for path, text in texts.items()} if zizmor_ignores else {}
    )
    ignore_list = list(ignores)
    kept: list[Finding] = []
    waived: list[WaivedFinding] = []
    for finding in findings:
        location = finding.location
        if location is None:
            kept.append(finding)
            continue
        waiver = _configured(finding, location, root, ignore_list, config_path)
        inline = scanned.get(location.path, {}).get(location.line or 0)
        if waiver is None and inline is not None and finding.rule_id in inline.rules:
            if not inline.reason:
                kept.append(_no_reason(finding, inline))
                continue
            waiver = Waiver(
                finding.rule_id, inline.reason, NEVER, Location(location.path, inline.line)
            )
        if waiver is None and zizmor_ignores and finding.rule_id in zizmor.SHARED_RULES:
            waiver = _zizmor(finding, location, zizmor_comments, zizmor_config)
        if waiver is None:
            kept.append(finding)
        else:
            waived.append(WaivedFinding(finding, waiver))
    return kept, waived


def _zizmor(
    finding: Finding,
    location: Location,
    comments: Mapping[Path, Mapping[int, tuple[frozenset[str], int]]],
    config: zizmor.Config | None,
) -> Waiver | None:
    """The zizmor ignore that covers ``finding`` (comment first, then the configuration)."""
    rule = zizmor.SHARED_RULES[finding.rule_id]
    comment = comments.get(location.path, {}).get(location.line or 0)
    if comment is not None and rule in comment[0]:
        reason = f"zizmor: ignore[{rule}] comment on line {comment[1]}"
        return Waiver(finding.rule_id, reason, NEVER, Location(location.path, comment[1]))
    if config is not None and location.path in comments:  # only the repository's own files
        ignored = config.waives(rule, location.path, location.line)
        if ignored is not None:
            return Waiver(finding.rule_id, ignored, NEVER, Location(config.path))
    return None


def _configured(
    finding: Finding,
    location: Location,
    root: Path,
    ignores: list[ConfiguredIgnore],
    config_path: Path | None,
) -> Waiver | None:
    if not ignores:
        return None
    try:
        relative = location.path.relative_to(root).as_posix()
    except ValueError:
        return None  # only the repository's own files
    for ignore in ignores:
        if ignore.rule != finding.rule_id or ignore.path != relative:
            continue
        if ignore.line is not None and ignore.line != location.line:
            continue
        where = Location(config_path) if config_path is not None else Location(root)
        return Waiver(finding.rule_id, "workflow-ignore in the configuration", NEVER, where)
    return None


def _no_reason(finding: Finding, inline: Suppression) -> Finding:
    note = f" (the ignore comment on line {inline.line} gives no reason, so it is not honoured)"
    return replace(finding, message=finding.message + note)
