"""The advisory layer's findings for an SBOM, with waivers as VEX analyses.

``bastion sbom --with-vulnerabilities`` audits the SBOM's components against
the offline OSV database exactly as the ``advisories`` control does (the same
matcher, alias merging, severity and fix plan) and hands each vulnerability
to the SBOM writer. A live waiver covering a finding (matched as ``bastion
check`` matches it: rule id or any alias, package, version range) becomes the
vulnerability's VEX analysis:

- with a ``justification`` from CycloneDX's vocabulary: state
  ``not_affected`` and that justification (``false_positive`` is CycloneDX's
  own state for a wrong match);
- without one: state ``exploitable`` with the response ``will_not_fix``, an
  accepted risk rather than a claim that the code is safe.

The waiver's reason and expiry are the analysis detail. An expired waiver
does not apply: the vulnerability is listed without an analysis. Advisory
data older than ``advisory-max-days`` is refused (exit 2) rather than written
into an SBOM that would claim an absence of vulnerabilities it cannot know.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bastion._internal.advisories.audit import AdvisoryIndex, Vulnerability, audit_version
from bastion._internal.advisories.osv import ParseWarnings
from bastion._internal.advisories.severity import cvss3_base_score, from_score
from bastion._internal.advisories.store import (
    UPDATE_HINT,
    default_db_path,
    ensure_database,
    newest_modified,
    open_database,
    too_old,
)
from bastion._internal.controls.advisories import Audited, package_findings
from bastion._internal.errors import IncompleteError, UsageError
from bastion._internal.model import Location, LockedPackage, Waiver
from bastion._internal.waivers import matches

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.vulnerability import VulnerabilityRating, VulnerabilitySource

OSV_URL = "https://osv.dev/vulnerability/"
_ID_SOURCES = {  # where an id of each prefix is published
    "CVE": ("NVD", "https://nvd.nist.gov/vuln/detail/"),
    "GHSA": ("GitHub Advisories", "https://github.com/advisories/"),
    "PYSEC": ("OSV", OSV_URL),
    "MAL": ("OSV", OSV_URL),
    "OSV": ("OSV", OSV_URL),
}


@dataclass(frozen=True, slots=True)
class Analysis:
    """A VEX impact analysis, in CycloneDX's vocabulary."""

    state: str  # not_affected, false_positive, exploitable
    justification: str | None
    responses: tuple[str, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class FoundVulnerability:
    """One vulnerability of one component, the fix advice, and the waiver's analysis."""

    vulnerability: Vulnerability
    recommendation: str
    analysis: Analysis | None


@dataclass(frozen=True, slots=True)
class VulnerabilityScan:
    """Every vulnerability found, and what the scan was based on."""

    found: tuple[FoundVulnerability, ...]
    database: Path
    newest: datetime | None
    expired_waivers: int


def analysis_of(waiver: Waiver) -> Analysis:
    """The VEX analysis a waiver stands for."""
    where = waiver.location.path.name + (f":{waiver.location.line}" if waiver.location.line else "")
    detail = (
        f"{waiver.reason} (bastion waiver in {where}, expires {waiver.expires.date().isoformat()})"
    )
    if waiver.justification == "false_positive":
        return Analysis("false_positive", None, (), detail)
    if waiver.justification is not None:
        return Analysis("not_affected", waiver.justification, (), detail)
    return Analysis("exploitable", None, ("will_not_fix",), detail)


def scan_packages(
    packages: Sequence[LockedPackage],
    waivers: Sequence[Waiver],
    *,
    db_path: Path | None,
    max_days: int,
    now: datetime,
) -> VulnerabilityScan:
    """Audit ``packages`` (pinned, not local) and attach the live waivers as analyses."""
    path = db_path or default_db_path()
    if db_path is None:
        ensure_database(path)
    elif not path.is_file():
        raise UsageError(f"{path}: no advisory database there (bastion db update --db {path})")
    locations: dict[tuple[str, str], list[Location]] = {}
    for p in packages:  # one audit per pin, however many lockfiles hold it
        if p.version is not None and not p.is_local:
            locations.setdefault((p.name, p.version), []).append(p.location)
    audited = [Audited(n, v, tuple(where)) for (n, v), where in locations.items()]
    warnings = ParseWarnings()
    with closing(open_database(path)) as db:
        index = AdvisoryIndex(db)
        audits = [(p, audit_version(index, p.name, p.version, warnings)) for p in audited]
        newest = newest_modified(db)
    problem = too_old((now - newest).days if newest is not None else None, max_days)
    if problem is not None:
        raise IncompleteError(
            f"{path}: {problem}; {UPDATE_HINT} before writing vulnerabilities into an SBOM"
        )
    live = [w for w in waivers if w.expires >= now]
    found = []
    for package, audit in audits:
        for vulnerability, finding in zip(
            audit.vulnerabilities, package_findings(package, audit), strict=True
        ):
            waiver = next((w for w in live if matches(w, finding)), None)
            found.append(
                FoundVulnerability(
                    vulnerability,
                    finding.remediation,
                    analysis_of(waiver) if waiver is not None else None,
                )
            )
    expired = sum(1 for w in waivers if w.expires < now)
    return VulnerabilityScan(tuple(found), path, newest, expired)


def add_to_bom(
    bom: Bom, found: Sequence[FoundVulnerability], refs: Mapping[tuple[str, str], tuple[str, ...]]
) -> None:
    """Add ``found`` to ``bom`` as CycloneDX vulnerabilities affecting ``refs[(name, version)]``.

    One entry per advisory and analysis: the components a vulnerability affects
    with the same waiver verdict share an entry, its ``affects`` naming each.
    """
    from cyclonedx.model import Property, XsUri
    from cyclonedx.model.impact_analysis import (
        ImpactAnalysisAffectedStatus,
        ImpactAnalysisJustification,
        ImpactAnalysisResponse,
        ImpactAnalysisState,
    )
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        VulnerabilityAdvisory,
        VulnerabilityAnalysis,
        VulnerabilityReference,
    )
    from cyclonedx.model.vulnerability import (
        Vulnerability as CdxVulnerability,
    )

    groups: dict[tuple[str, Analysis | None], list[FoundVulnerability]] = {}
    for item in found:
        if (item.vulnerability.package, item.vulnerability.version) in refs:
            groups.setdefault((item.vulnerability.id, item.analysis), []).append(item)
    per_id = Counter(advisory_id for advisory_id, _ in groups)
    seen: Counter[str] = Counter()
    for (advisory_id, analysis), items in sorted(groups.items(), key=_group_order):
        first = items[0].vulnerability
        seen[advisory_id] += 1
        bom_ref = advisory_id if per_id[advisory_id] == 1 else f"{advisory_id}#{seen[advisory_id]}"
        cdx_analysis = None
        if analysis is not None:
            cdx_analysis = VulnerabilityAnalysis(
                state=ImpactAnalysisState(analysis.state),
                justification=(
                    ImpactAnalysisJustification(analysis.justification)
                    if analysis.justification
                    else None
                ),
                responses=[ImpactAnalysisResponse(r) for r in analysis.responses],
                detail=analysis.detail,
            )
        properties = [Property(name="bastion:severity-basis", value=first.severity_basis)]
        if first.malicious:
            properties.append(Property(name="bastion:malicious", value="true"))
        advisories = [VulnerabilityAdvisory(url=XsUri(u)) for u in _web_links(first.references)]
        bom.vulnerabilities.add(
            CdxVulnerability(
                bom_ref=bom_ref,
                id=advisory_id,
                source=_source(advisory_id),
                references=[
                    VulnerabilityReference(id=alias, source=_source(alias))
                    for alias in first.aliases
                ],
                ratings=_ratings(first),
                description=first.summary or None,
                recommendation="; ".join(dict.fromkeys(i.recommendation for i in items)),
                advisories=advisories,
                published=first.published,
                updated=first.modified,
                analysis=cdx_analysis,
                affects=[
                    BomTarget(
                        ref=ref,
                        versions=[
                            BomTargetVersionRange(
                                version=version, status=ImpactAnalysisAffectedStatus.AFFECTED
                            )
                        ],
                    )
                    for ref, version in _affected(items, refs)
                ],
                properties=properties,
            )
        )


def _affected(
    items: Sequence[FoundVulnerability], refs: Mapping[tuple[str, str], tuple[str, ...]]
) -> list[tuple[str, str]]:
    """(bom-ref, version) of every component the items affect, each once."""
    affected: dict[str, str] = {}
    for item in items:
        key = (item.vulnerability.package, item.vulnerability.version)
        for ref in refs.get(key, ()):
            affected.setdefault(ref, item.vulnerability.version)
    return list(affected.items())


def _group_order(entry: tuple[tuple[str, Analysis | None], list[FoundVulnerability]]) -> str:
    (advisory_id, analysis), items = entry
    return f"{advisory_id}|{analysis}|{items[0].vulnerability.package}"


def _source(advisory_id: str) -> VulnerabilitySource:
    from cyclonedx.model import XsUri
    from cyclonedx.model.vulnerability import VulnerabilitySource

    prefix = advisory_id.split("-", 1)[0]
    if prefix not in _ID_SOURCES:  # another database's id (SNYK-..., BIT-...): its name only
        return VulnerabilitySource(name=prefix or advisory_id)
    name, base = _ID_SOURCES[prefix]
    return VulnerabilitySource(name=name, url=XsUri(base + advisory_id))


def _web_links(references: Sequence[str]) -> list[str]:
    """The references that are plain http(s) URLs (records come from outside)."""
    return [
        r
        for r in references
        if r.startswith(("https://", "http://"))
        and len(r) <= 2000
        and not any(c.isspace() for c in r)
    ]


def _ratings(vulnerability: Vulnerability) -> list[VulnerabilityRating]:
    """A rating per CVSS vector (v3 scored by bastion, v4 as given), else bastion's severity."""
    from cyclonedx.model.vulnerability import (
        VulnerabilityRating,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
    )

    source = _source(vulnerability.id)
    ratings = []
    for vector in vulnerability.vectors:
        score = cvss3_base_score(vector)
        if score is not None:
            method = (
                VulnerabilityScoreSource.CVSS_V3_1
                if vector.startswith("CVSS:3.1/")
                else VulnerabilityScoreSource.CVSS_V3
            )
            ratings.append(
                VulnerabilityRating(
                    source=source,
                    score=Decimal(str(score)),
                    severity=VulnerabilitySeverity(from_score(score).label),
                    method=method,
                    vector=vector,
                )
            )
        elif vector.startswith("CVSS:4.0/"):
            ratings.append(
                VulnerabilityRating(
                    source=source, method=VulnerabilityScoreSource.CVSS_V4, vector=vector
                )
            )
    if not any(r.score is not None for r in ratings):
        known = vulnerability.severity_basis != "unknown"
        ratings.append(
            VulnerabilityRating(
                source=source,
                severity=VulnerabilitySeverity(vulnerability.severity.label)
                if known
                else VulnerabilitySeverity.UNKNOWN,
                method=VulnerabilityScoreSource.OTHER,
                justification=vulnerability.severity_basis,
            )
        )
    return ratings
