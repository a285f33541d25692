"""The provenance layer's rules (registered for SARIF and the docs)."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "provenance"
COMPROMISED = "compromised-release"
TAMPERING = "tampering"
_HELP = f"{DOCS}/layers/provenance.md"

RULES = {
    r.id: r
    for r in (
        Rule(
            "provenance-invalid",
            "ProvenanceInvalid",
            "Provenance that does not verify",
            "Do not install this file: its attestation does not bind it to its publisher "
            "(digest, file name, signature or certificate identity). Compare the file with "
            "the index and its publisher's release.",
            Severity.CRITICAL,
            TAMPERING,
            CONTROL,
            _HELP,
        ),
        Rule(
            "provenance-missing",
            "ProvenanceMissing",
            "Attestation missing where the package is expected to have one",
            "Hold this version back until its publisher confirms how it was uploaded "
            "(the Ultralytics 8.3.45 files were uploaded with a leftover token, unattested).",
            Severity.HIGH,
            COMPROMISED,
            CONTROL,
            _HELP,
        ),
        Rule(
            "publisher-changed",
            "PublisherChanged",
            "Package published by another repository, workflow or environment",
            "Confirm the move with the project, then update the trust file "
            "(bastion provenance pin --replace NAME) in a reviewed change.",
            Severity.HIGH,
            COMPROMISED,
            CONTROL,
            _HELP,
        ),
        Rule(
            "attestations-vanished",
            "AttestationsVanished",
            "Release without attestations after attested releases",
            "Hold this version back: earlier releases were published with attestations and "
            "this one was not (the Ultralytics wave-2 signal).",
            Severity.HIGH,
            COMPROMISED,
            CONTROL,
            _HELP,
        ),
    )
}
register(*RULES.values())
