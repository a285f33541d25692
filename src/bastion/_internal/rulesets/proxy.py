"""The rules of the ``proxy`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "quarantine-index"
_HELP = f"{DOCS}/proxy.md"
BYPASS = Rule(
    "quarantine-bypass",
    "QuarantineBypass",
    "An install setting names an index besides the quarantine index.",
    "Install only through the quarantine index: remove the other index (or add it to "
    "quarantine-indexes if it holds releases back too).",
    Severity.MEDIUM,
    "compromised-release",
    CONTROL,
    _HELP,
)

UNUSED = Rule(
    "quarantine-unused",
    "QuarantineUnused",
    "A quarantine index is configured but no install setting uses it.",
    "Point the installers at it: PIP_INDEX_URL / UV_DEFAULT_INDEX in CI, or the project's "
    "uv, Poetry or pip configuration (docs/proxy.md).",
    Severity.MEDIUM,
    "compromised-release",
    CONTROL,
    _HELP,
)

register(BYPASS, UNUSED)
