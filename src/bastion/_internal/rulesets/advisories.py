"""The rules of the ``advisories`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "advisories"
_HELP = f"{DOCS}/layers/advisories.md"
register(
    Rule(
        "known-vulnerable",
        "KnownVulnerable",
        "A locked package version is affected by a published advisory.",
        "Upgrade to the fix plan's version, or waive the advisory with a reason and an expiry.",
        Severity.HIGH,
        "known-vulnerable",
        CONTROL,
        _HELP,
    ),
    Rule(
        "known-malicious",
        "KnownMalicious",
        "A locked package version is reported as malware (an OSV MAL- record).",
        "Remove it now, and treat machines that installed it as compromised.",
        Severity.CRITICAL,
        "known-malicious",
        CONTROL,
        _HELP,
    ),
    Rule(
        "advisory-data-stale",
        "AdvisoryDataStale",
        "The advisory database is older than the configured warning age.",
        "Run 'bastion db update' (or import a newer snapshot with --from).",
        Severity.INFO,
        "known-vulnerable",
        CONTROL,
        _HELP,
    ),
)
