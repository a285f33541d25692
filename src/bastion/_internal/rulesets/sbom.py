"""The rules of the ``sbom`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "sbom"
THREAT = "blind-response"
_HELP = f"{DOCS}/layers/sbom.md"
RULES = {
    r.id: r
    for r in (
        Rule(
            "sbom-incomplete",
            "SbomIncomplete",
            "SBOM lacks NTIA minimum elements",
            "Regenerate it with 'bastion sbom' (supplier, hashes, licences, authors, lifecycle).",
            Severity.MEDIUM,
            THREAT,
            CONTROL,
            _HELP,
        ),
        Rule(
            "sbom-stale",
            "SbomStale",
            "SBOM does not list what the project locks",
            "Regenerate the SBOM from the current lock (bastion sbom -o FILE).",
            Severity.MEDIUM,
            THREAT,
            CONTROL,
            _HELP,
        ),
        Rule(
            "sbom-unreadable",
            "SbomUnreadable",
            "SBOM file that could not be read",
            "Fix or regenerate the file.",
            Severity.MEDIUM,
            THREAT,
            CONTROL,
            _HELP,
        ),
    )
}

register(*RULES.values())
