"""Security actions that can report without failing the job, and their fail-closed settings.

An action that uploads SARIF and exits 0 (``zizmorcore/zizmor-action`` with its
default ``advanced-security: true``) leaves the decision to code-scanning
protection rules; the job itself passes whatever it found. Each row names the
input that decides, the value that fails the job on findings, and that input's
default when the step does not set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bastion._internal.workflows.model import Text, Uses


@dataclass(frozen=True, slots=True)
class FailSetting:
    """How an action is made to fail the job on its findings."""

    action: str  # owner/repo (lower-case)
    input: str | None  # the deciding input (None: no input makes it fail)
    closed: frozenset[str]  # values that fail the job on findings
    default: str  # the input's default
    note: str  # why, for the message and the documentation


FAIL_SETTINGS: tuple[FailSetting, ...] = (
    FailSetting(
        "zizmorcore/zizmor-action",
        "advanced-security",
        frozenset({"false"}),
        "true",
        "it uploads SARIF to code scanning and the job passes",
    ),
    FailSetting(
        "woodruffw/zizmor-action",
        "advanced-security",
        frozenset({"false"}),
        "true",
        "it uploads SARIF to code scanning and the job passes",
    ),
    FailSetting(
        "pypa/gh-action-pip-audit",
        "internal-be-careful-allow-failure",
        frozenset({"false"}),
        "false",
        "internal-be-careful-allow-failure: true lets the job pass on vulnerabilities",
    ),
    FailSetting(
        "google/osv-scanner-action",
        "fail-on-vuln",
        frozenset({"true"}),
        "true",
        "fail-on-vuln: false lets the job pass on vulnerabilities",
    ),
    FailSetting(
        "github/codeql-action",
        None,
        frozenset(),
        "",
        "analyze uploads alerts to code scanning and never fails the job on them",
    ),
    FailSetting(
        "bastion-security/bastion",
        "fail",
        frozenset({"true"}),
        "true",
        "fail: false only reports",
    ),
)
_BY_ACTION: Mapping[str, FailSetting] = {row.action: row for row in FAIL_SETTINGS}


def action_fail_open(uses: Uses, with_: Mapping[str, Text]) -> str | None:
    """Why this security action's step cannot fail the job (``None``: it can, or unknown)."""
    row = _BY_ACTION.get(uses.slug)
    if row is None:
        return None
    if row.input is None:
        return row.note
    given = with_.get(row.input)
    value = given.value.strip().lower() if given is not None else row.default
    if "${{" in value or value in row.closed:
        return None
    return f"{row.input}: {value}" + (" (the default)" if given is None else "") + f": {row.note}"
