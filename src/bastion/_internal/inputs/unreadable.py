"""Discovered inputs that could not be read: one finding each, and the run is incomplete.

A lockfile bastion cannot read may hide any package: every layer that reads
dependencies is blind to it. The other inputs and layers still run; the
``inputs`` result has status ``error`` so that the run fails closed (exit 2).
"""

from __future__ import annotations

from bastion._internal.inputs.discovery import ProjectInputs
from bastion._internal.model import ControlResult, ControlStatus, Location, Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "inputs"
# Every threat whose controls read the project's dependencies.
DEPENDENCY_THREATS = (
    "tampering",
    "known-vulnerable",
    "known-malicious",
    "compromised-release",
    "typosquat",
    "blind-response",
)
RULE = Rule(
    "input-unreadable",
    "InputUnreadable",
    "A dependency file of the project could not be read",
    "Fix the file, or exclude it with --exclude GLOB (or 'exclude' in the configuration) "
    "when the project does not install from it.",
    Severity.INFO,  # the run's incomplete status (exit 2) carries the weight, not the severity
    "known-vulnerable",
    CONTROL,
    f"{DOCS}/configuration.md",
)
register(RULE)


def unreadable_result(inputs: ProjectInputs) -> ControlResult | None:
    """An ``error`` result with one finding per unreadable input; ``None`` when all were read."""
    if not inputs.unreadable:
        return None
    findings = tuple(
        RULE.finding(
            f"not read: {item.reason}; packages it lists were not checked",
            Location(item.path, item.line),
            RULE.help,
        )
        for item in inputs.unreadable
    )
    count = len(findings)
    detail = (
        f"{count} discovered input{'s' if count != 1 else ''} could not be read; "
        "every other input was checked"
    )
    return ControlResult(CONTROL, ControlStatus.ERROR, DEPENDENCY_THREATS, findings, detail)
