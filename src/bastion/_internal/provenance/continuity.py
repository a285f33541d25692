"""Publisher continuity: results and expectations in, findings out.

Per release (package and version): a file whose provenance fails is critical
(``provenance-invalid``); with an expected publisher (trust file, pylock.toml)
a file without attestations is ``provenance-missing`` and a proven publisher
outside the expected ones is ``publisher-changed``, both high and showing both
identities. Without an expectation, files of one release proven by different
publishers are ``publisher-changed``, a release where some files are attested
and others are not is a medium ``provenance-missing``, and (``--online``) a
release without attestations after attested ones, or proven by another
publisher than the previous attested release, is the Ultralytics wave-2
signal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bastion._internal.model import Finding, Severity
from bastion._internal.provenance.model import ArtifactResult, Expectation, Identity, Outcome
from bastion._internal.provenance.rules import RULES

MAX_FILES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Previous:
    """What the index says about a package's earlier releases (``--online``)."""

    attested_version: str | None  # the newest earlier release with attested files
    identity: Identity | None  # its proven publisher, when its provenance verified


def release_groups(
    results: Iterable[ArtifactResult],
) -> dict[tuple[str, str | None], list[ArtifactResult]]:
    """Results grouped by (package, version), in input order."""
    groups: dict[tuple[str, str | None], list[ArtifactResult]] = {}
    for item in results:
        groups.setdefault((item.artifact.name, item.artifact.version), []).append(item)
    return groups


def continuity_findings(
    results: Iterable[ArtifactResult],
    expectations: Mapping[str, Expectation],
    previous: Mapping[str, Previous] | None = None,
) -> list[Finding]:
    """Every finding the results support."""
    findings: list[Finding] = []
    for (name, version), group in release_groups(results).items():
        findings.extend(_invalid(group))
        expected = expectations.get(name)
        if expected is not None:
            findings.extend(_against_expectation(name, version, group, expected))
        else:
            findings.extend(_within_release(name, version, group))
            if previous is not None and name in previous:
                findings.extend(_against_history(name, version, group, previous[name]))
    return findings


def _invalid(group: list[ArtifactResult]) -> list[Finding]:
    rule = RULES["provenance-invalid"]
    return [
        rule.finding(
            f"{item.artifact.label}: provenance does not verify: {item.reason}",
            item.artifact.location,
            rule.help,
            package=item.artifact.name,
            version=item.artifact.version,
        )
        for item in group
        if item.outcome is Outcome.FAILED
    ]


def _files(items: list[ArtifactResult]) -> str:
    shown = ", ".join(i.artifact.label for i in items[:MAX_FILES_SHOWN])
    more = len(items) - MAX_FILES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _expected_text(expected: Expectation) -> str:
    where = expected.location.display()
    identities = " or ".join(i.display() for i in expected.identities)
    return f"{identities} ({expected.origin}, {where})"


def _against_expectation(
    name: str, version: str | None, group: list[ArtifactResult], expected: Expectation
) -> list[Finding]:
    found = []
    first = group[0].artifact
    missing = [i for i in group if i.outcome is Outcome.MISSING]
    if missing:
        rule = RULES["provenance-missing"]
        found.append(
            rule.finding(
                f"{name}=={version}: {len(missing)} of {len(group)} file(s) carry no attestation "
                f"({_files(missing)}), expected publisher: {_expected_text(expected)}",
                first.location,
                rule.help,
                package=name,
                version=version,
            )
        )
    changed: dict[Identity, list[ArtifactResult]] = {}
    for item in group:
        identity = item.identity
        if item.outcome is not Outcome.VERIFIED or identity is None:
            continue
        if all(want.differences(identity) for want in expected.identities):
            changed.setdefault(identity, []).append(item)
    for identity, items in changed.items():
        differs = sorted({d for want in expected.identities for d in want.differences(identity)})
        rule = RULES["publisher-changed"]
        found.append(
            rule.finding(
                f"{name}=={version}: published by {identity.display()}, expected "
                f"{_expected_text(expected)}; differs in {', '.join(differs)} "
                f"({_files(items)})",
                first.location,
                rule.help,
                package=name,
                version=version,
            )
        )
    return found


def _within_release(name: str, version: str | None, group: list[ArtifactResult]) -> list[Finding]:
    found = []
    first = group[0].artifact
    proven = {i.identity for i in group if i.outcome is Outcome.VERIFIED and i.identity}
    if len(proven) > 1:
        rule = RULES["publisher-changed"]
        shown = "; ".join(sorted(i.display() for i in proven))
        found.append(
            rule.finding(
                f"{name}=={version}: files of one release proven by different publishers: {shown}",
                first.location,
                rule.help,
                package=name,
                version=version,
            )
        )
    missing = [i for i in group if i.outcome is Outcome.MISSING]
    if proven and missing:
        rule = RULES["provenance-missing"]
        found.append(
            rule.finding(
                f"{name}=={version}: {len(missing)} of {len(group)} file(s) carry no attestation "
                f"({_files(missing)}) while the others are proven by "
                f"{next(iter(proven)).display()}",
                first.location,
                rule.help,
                package=name,
                version=version,
                severity=Severity.MEDIUM,
            )
        )
    return found


def _against_history(
    name: str, version: str | None, group: list[ArtifactResult], previous: Previous
) -> list[Finding]:
    if previous.attested_version is None:
        return []
    first = group[0].artifact
    if all(i.outcome is Outcome.MISSING for i in group):
        rule = RULES["attestations-vanished"]
        proven = f" by {previous.identity.display()}" if previous.identity else ""
        return [
            rule.finding(
                f"{name}=={version}: no file carries an attestation, while "
                f"{previous.attested_version} was published with attestations{proven}",
                first.location,
                rule.help,
                package=name,
                version=version,
            )
        ]
    if previous.identity is None:
        return []
    found = []
    for item in group:
        identity = item.identity
        if (
            item.outcome is Outcome.VERIFIED
            and identity
            and previous.identity.differences(identity)
        ):
            rule = RULES["publisher-changed"]
            found.append(
                rule.finding(
                    f"{name}=={version}: published by {identity.display()}, while "
                    f"{previous.attested_version} was published by {previous.identity.display()}",
                    first.location,
                    rule.help,
                    package=name,
                    version=version,
                )
            )
            break
    return found
