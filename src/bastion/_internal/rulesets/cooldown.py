"""The rules of the ``cooldown`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "cooldown"
_HELP = f"{DOCS}/layers/names.md#release-age-cooldown-cooldown"
register(
    Rule(
        "young-release",
        "YoungRelease",
        "A locked artifact was uploaded less than the cooldown before the lock was made.",
        "Compromised releases are usually found within days. Re-lock with a cutoff "
        '(uv: `exclude-newer = "7 days"` under `[tool.uv]`; pip: `--uploaded-prior-to P7D`), '
        "or waive the package with a reason once you have reviewed the release.",
        Severity.MEDIUM,
        "compromised-release",
        CONTROL,
        _HELP,
    ),
    Rule(
        "cooldown-security-exemption",
        "CooldownSecurityExemption",
        "A young release is allowed because it fixes an advisory of the version it replaced.",
        "Nothing to do: waiting out the cooldown would keep a known vulnerability.",
        Severity.INFO,
        "compromised-release",
        CONTROL,
        _HELP,
    ),
)
