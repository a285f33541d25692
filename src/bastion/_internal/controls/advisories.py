"""The ``advisories`` control: every pinned package against the offline OSV database.

Threats known-vulnerable and known-malicious. The database is the one
``bastion db update`` maintains; when there is none at the default place,
the OSV snapshot bundled with bastion is imported first, so a first run
works offline. Data older than ``advisory-warn-days`` gives an ``info``
finding; older than ``advisory-max-days`` the control fails closed
(status ``error``, exit code 2 unless findings already fail the run).
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.advisories.audit import AdvisoryIndex, PackageAudit, audit_versions
from bastion._internal.advisories.osv import ParseWarnings
from bastion._internal.advisories.store import (
    UPDATE_HINT,
    default_db_path,
    ensure_database,
    missing_sources,
    newest_modified,
    open_database,
    source_counts,
    too_old,
)
from bastion._internal.controls.base import Project, not_configured
from bastion._internal.markers import Target, applies
from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    DependencySource,
    Finding,
    Location,
    Severity,
)
from bastion._internal.rulesets.advisories import CONTROL


@dataclass(frozen=True, slots=True)
class Audited:
    """One package version to audit and every place it is locked."""

    name: str
    version: str
    locations: tuple[Location, ...]


def auditable(
    sources: tuple[DependencySource, ...], target: Target | None
) -> tuple[list[Audited], int, int]:
    """Pinned packages to audit; how many had no version; how many the target excludes."""
    found: dict[tuple[str, str], list[Location]] = {}
    unpinned = excluded = 0
    for source in sources:
        for package in source.packages:
            if package.is_local:
                continue
            if package.version is None:
                unpinned += 1
                continue
            if not applies(package.markers, target):
                excluded += 1
                continue
            found.setdefault((package.name, package.version), []).append(package.location)
    audited = [Audited(n, v, tuple(locs)) for (n, v), locs in sorted(found.items())]
    return audited, unpinned, excluded


class AdvisoryControl:
    """Match every pinned package against OSV records, merge aliases, plan fixes."""

    id = CONTROL
    title = "Advisory scan (OSV, offline)"
    threats: tuple[str, ...] = ("known-vulnerable", "known-malicious")

    def __init__(self, db_path: Path | None = None, now: datetime | None = None) -> None:
        self.db_path = db_path
        self.now = now

    def run(self, project: Project) -> ControlResult:
        """Audit the project's locked packages."""
        packages, unpinned, excluded = auditable(project.inputs.sources, project.config.target)
        if not packages:
            return not_configured(self, "no pinned packages to audit")
        path = self.db_path or default_db_path()
        created = ensure_database(path) if self.db_path is None else False
        warnings = ParseWarnings()
        with closing(open_database(path)) as db:
            index = AdvisoryIndex(db)
            pins = [(p.name, p.version) for p in packages]
            audits = list(zip(packages, audit_versions(index, pins, warnings), strict=True))
            newest = newest_modified(db)
            missing = missing_sources(source_counts(db))
        findings = [f for package, audit in audits for f in package_findings(package, audit)]
        now = self.now or datetime.now(UTC)
        age = (now - newest).days if newest else None
        config = project.config
        notes = [f"{len(packages)} pinned package versions against {path}"]
        if created:
            notes.append("database created from the bundled OSV snapshot")
        if newest is not None:
            notes.append(f"data modified up to {newest.date().isoformat()} ({age} days old)")
        if unpinned:
            notes.append(f"{unpinned} requirements without a pinned version not audited")
        if excluded:
            notes.append(f"{excluded} packages not installed on the target left out")
        if warnings.total:
            notes.append(f"{warnings.total} malformed ranges skipped")
        status = ControlStatus.FAIL if findings else ControlStatus.PASS
        problem = too_old(age, config.advisory_max_days)
        if missing:
            notes.append(
                f"no {', '.join(missing)} records in this database (OSV's PyPI dump has them): "
                "no finding from a missing source is no evidence of safety"
                + ("" if problem else f"; {UPDATE_HINT}")  # the stale-data error says it first
            )
        if problem is not None:
            status = ControlStatus.ERROR  # fail closed, findings kept: both are reported
            found = f"; {len(findings)} findings on this data" if findings else ""
            notes.insert(0, f"{problem}{found}: {UPDATE_HINT}, or set --advisory-max-days")
        elif age is not None and age > config.advisory_warn_days:
            findings.append(_stale(path, age, config.advisory_warn_days))
        return ControlResult(CONTROL, status, self.threats, tuple(findings), "; ".join(notes))


def _stale(path: Path, age: int, limit: int) -> Finding:
    return Finding(
        rule_id="advisory-data-stale",
        severity=Severity.INFO,
        threat="known-vulnerable",
        control=CONTROL,
        message=f"advisory data is {age} days old (advisory-warn-days is {limit})",
        location=Location(path),
        remediation="run 'bastion db update'",
    )


def package_findings(package: Audited, audit: PackageAudit) -> list[Finding]:
    """One finding per vulnerability of one package version, with the fix plan."""
    findings = []
    count = len(audit.vulnerabilities)
    for vuln in audit.vulnerabilities:
        label = f"{vuln.id} ({', '.join(vuln.aliases)})" if vuln.aliases else vuln.id
        message = f"{package.name} {package.version}: {label}"
        if vuln.summary:
            message += f": {vuln.summary}"
        if vuln.fixed_in and not vuln.malicious:
            shown = ", ".join(vuln.fixed_in[:3]) + (" …" if len(vuln.fixed_in) > 3 else "")
            message += f"; fixed in {shown}"
        if vuln.malicious:
            message += " [reported as malware]"
        else:
            basis = vuln.severity_basis
            message += (
                " [severity not given; treated as medium]"
                if basis == "unknown"
                else f" [{vuln.severity.label}, {basis}]"
            )
        findings.append(
            Finding(
                rule_id="known-malicious" if vuln.malicious else "known-vulnerable",
                severity=vuln.severity,
                threat="known-malicious" if vuln.malicious else "known-vulnerable",
                control=CONTROL,
                message=message,
                location=package.locations[0],
                remediation=_remediation(package, audit, vuln.malicious, count),
                references=vuln.references,
                package=package.name,
                version=package.version,
                aliases=(vuln.id, *vuln.aliases),
            )
        )
    return findings


def _remediation(package: Audited, audit: PackageAudit, malicious: bool, count: int) -> str:
    also = len(package.locations) - 1
    where = f" (also locked in {also} other place{'s' * (also != 1)})" if also else ""
    if malicious:
        text = (
            f"remove {package.name} {package.version} now and treat machines that installed it "
            "as compromised (rotate their credentials)"
        )
        if audit.fix:
            text += f"; {package.name} {audit.fix} is not reported"
        return text + where
    if audit.fix:
        scope = {1: "it", 2: "both advisories"}.get(count, f"all {count} advisories")
        return f"upgrade {package.name} to {audit.fix} (fixes {scope}){where}"
    return (
        f"no release fixes {'them all' if count > 1 else 'it'}: remove or replace "
        f"{package.name}, or waive it with a reason and an expiry{where}"
    )
