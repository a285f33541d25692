"""The rules of the ``names`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

_HELP = f"{DOCS}/layers/names.md"
register(
    Rule(
        "typosquat",
        "Typosquat",
        "A locked package's name imitates a much more popular project.",
        "If you meant the popular project, fix the name; if not, waive with a reason.",
        Severity.HIGH,
        "typosquat",
        "typosquat",
        _HELP,
    ),
    Rule(
        "unapproved-package",
        "UnapprovedPackage",
        "A locked package is not on the approved-package list.",
        "Review the new dependency, then add it with 'bastion names approve'.",
        Severity.MEDIUM,
        "typosquat",
        "approved-packages",
        _HELP,
    ),
)
