"""The rules of the ``ruff-security`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import Rule, register

CONTROL = "ruff-security"
register(
    Rule(
        "S",
        "RuffSecurity",
        "A Ruff flake8-bandit (S) rule matched the project's own code.",
        "See the rule's page in the Ruff documentation for the risk and the fix. "
        "Suppress a reviewed false positive with `# noqa: Sxxx` and a reason.",
        Severity.MEDIUM,
        "insecure-code",
        CONTROL,
        "https://docs.astral.sh/ruff/rules/#flake8-bandit-s",
    )
)
