"""Audit one package version against the database: match, merge aliases, rate, plan a fix.

- Every non-withdrawn record naming the package is matched with the exact
  OSV rules (``matcher``), on the matching data computed at import
  (``prepared``); only the records that match are parsed, from their digests
  (the record without ``affected`` and ``details``).
- Matching records that share an id or alias, directly or through a chain
  (A lists B, C lists B), are one vulnerability; its display id is chosen
  deterministically: a ``MAL-`` id first when the group is malicious, then
  ``PYSEC-``, ``GHSA-``, other record ids, by prefix and then by text.
- The fix plan is the smallest version named as ``fixed`` by any of the
  package's records that no record affects, found by re-checking each
  candidate against every record of the package. Final releases are
  preferred; a pre-release is proposed only when no final release fixes all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from packaging.version import Version

from bastion._internal.advisories import prepared
from bastion._internal.advisories.matcher import is_affected, parse_version
from bastion._internal.advisories.osv import Advisory, ParseWarnings
from bastion._internal.advisories.prepared import PreparedRecord
from bastion._internal.advisories.severity import rate
from bastion._internal.advisories.store import (
    advisories_for,
    malformed_data,
    prepared_for,
    summaries_by_id,
)
from bastion._internal.advisories.version_key import keys_of
from bastion._internal.model import Severity

_PREFIX_ORDER = ("PYSEC", "GHSA")


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One vulnerability (or malware report) of one package version, aliases merged."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]  # every other id of the group, sorted
    summary: str
    severity: Severity
    severity_basis: str
    malicious: bool
    fixed_in: tuple[str, ...]  # versions the records name as fixed, above this one
    references: tuple[str, ...]
    vectors: tuple[str, ...] = ()  # every CVSS vector the records give, as written
    published: datetime | None = None  # the earliest publication among the records
    modified: datetime | None = None  # the latest modification among the records


@dataclass(frozen=True, slots=True)
class PackageAudit:
    """The vulnerabilities of one package version and the smallest upgrade fixing all."""

    package: str
    version: str
    vulnerabilities: tuple[Vulnerability, ...]
    fix: str | None


class AdvisoryIndex:
    """Per-package records from an open database, each package read once."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._cache: dict[str, list[Advisory]] = {}
        self._prepared: dict[str, list[PreparedRecord]] = {}
        self._parsed: dict[str, Advisory] = {}

    def advisories(self, package: str) -> list[Advisory]:
        """Every non-withdrawn record naming the canonical package."""
        found = self._cache.get(package)
        if found is None:
            found = self._cache[package] = advisories_for(self.db, package)
        return found

    def load(self, packages: Iterable[str]) -> None:
        """Read the matching data of these packages in a few queries instead of one each."""
        wanted = sorted({p for p in packages if p not in self._prepared})
        self._prepared.update(prepared_for(self.db, wanted))

    def prepared(self, package: str) -> list[PreparedRecord]:
        """The matching data of every non-withdrawn record naming the canonical package."""
        found = self._prepared.get(package)
        if found is None:
            found = self._prepared[package] = prepared_for(self.db, [package])[package]
        return found

    def summaries(self, ids: list[str]) -> list[Advisory]:
        """These records without ``affected`` and ``details`` (each parsed once from its digest),
        in the order asked; unusable ones left out."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._parsed]
        if missing:
            self._parsed.update(summaries_by_id(self.db, missing))
        return [self._parsed[i] for i in ids if i in self._parsed]


def affects(advisory: Advisory, package: str, version: str, warnings: ParseWarnings) -> bool:
    """True when any of the record's entries for ``package`` covers ``version``."""
    return any(
        is_affected(entry, version, warnings)
        for entry in advisory.affected
        if entry.package == package
    )


def audit_version(
    index: AdvisoryIndex, package: str, version: str, warnings: ParseWarnings
) -> PackageAudit:
    """Match, merge and rate every record affecting ``package`` at ``version``."""
    return audit_versions(index, [(package, version)], warnings)[0]


def audit_versions(
    index: AdvisoryIndex, pins: Sequence[tuple[str, str]], warnings: ParseWarnings
) -> list[PackageAudit]:
    """``audit_version`` of each (package, version), the matching records of all read at once."""
    index.load(package for package, _ in pins)
    current = ""
    try:
        hits = []
        for current, version in pins:
            hits.append(_hits(index, current, version, warnings))
        index.summaries([r.advisory_id for found in hits for r in found])
        audits = []
        for (current, version), found in zip(pins, hits, strict=True):
            audits.append(_audit(index, current, version, found))
    except (TypeError, ValueError, IndexError):  # data of the wrong shape: not bastion's
        raise malformed_data(index.db, "matching data for the package", current) from None
    return audits


def _hits(
    index: AdvisoryIndex, package: str, version: str, warnings: ParseWarnings
) -> list[PreparedRecord]:
    keys = keys_of(version)
    return [r for r in index.prepared(package) if prepared.affects(r, keys, version, warnings)]


def _audit(
    index: AdvisoryIndex, package: str, version: str, hits: list[PreparedRecord]
) -> PackageAudit:
    if not hits:
        return PackageAudit(package, version, (), None)
    records = index.prepared(package)
    keys = keys_of(version)
    matched = index.summaries([r.advisory_id for r in hits])
    by_id = {r.advisory_id: r for r in hits}
    groups = _alias_groups(matched)
    vulnerabilities = tuple(
        sorted(
            (_vulnerability(package, version, group, by_id) for group in groups),
            key=lambda v: (-int(v.severity), v.id),
        )
    )
    return PackageAudit(package, version, vulnerabilities, _fix(records, version, keys))


def _alias_groups(matched: list[Advisory]) -> list[list[Advisory]]:
    """Records connected through shared ids or aliases (union-find over ids)."""
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for advisory in matched:
        for alias in advisory.aliases:
            root_a, root_b = find(advisory.id), find(alias)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
        find(advisory.id)
    groups: dict[str, list[Advisory]] = {}
    for advisory in matched:
        groups.setdefault(find(advisory.id), []).append(advisory)
    return list(groups.values())


def _display_key(advisory_id: str, malicious: bool) -> tuple[int, str]:
    prefix = advisory_id.split("-", 1)[0]
    if malicious and prefix == "MAL":
        return (0, advisory_id)
    if prefix in _PREFIX_ORDER:
        return (1 + _PREFIX_ORDER.index(prefix), advisory_id)
    return (1 + len(_PREFIX_ORDER), advisory_id)


def _vulnerability(
    package: str, version: str, group: list[Advisory], data: dict[str, PreparedRecord]
) -> Vulnerability:
    malicious = any(a.malicious for a in group)
    display = min((a.id for a in group), key=lambda i: _display_key(i, malicious))
    ids = {a.id for a in group} | {alias for a in group for alias in a.aliases}
    chosen = next(a for a in group if a.id == display)
    summary = chosen.summary or next((a.summary for a in group if a.summary), "")
    if malicious:
        severity, basis = Severity.CRITICAL, "malicious package report"
    else:
        rated = max((rate(a.severity, a.severity_label) for a in group), key=lambda r: r.severity)
        severity, basis = rated.severity, rated.basis
    keys = keys_of(version)
    above = prepared.fixed_above([data[a.id] for a in group], None if keys is None else keys[0])
    references = tuple(dict.fromkeys(r for a in group for r in a.references))
    published = [a.published for a in group if a.published is not None]
    return Vulnerability(
        package=package,
        version=version,
        id=display,
        aliases=tuple(sorted(ids - {display})),
        summary=summary,
        severity=severity,
        severity_basis=basis,
        malicious=malicious,
        fixed_in=tuple(above[v] for v in sorted(above)),
        references=references,
        vectors=tuple(dict.fromkeys(v for a in group for v in a.severity)),
        published=min(published) if published else None,
        modified=max(a.modified for a in group),
    )


def _fixed_above(
    records: list[Advisory], package: str, current: Version | None
) -> dict[Version, str]:
    """Versions the records name as ``fixed`` for the package, above ``current``, as written."""
    found: dict[Version, str] = {}
    for advisory in records:
        for entry in advisory.affected:
            if entry.package != package:
                continue
            for events in entry.ranges:
                for event in events:
                    parsed = parse_version(event.version) if event.kind == "fixed" else None
                    if parsed is not None and (current is None or parsed > current):
                        found.setdefault(parsed, event.version)
    return found


def _is_prerelease(text: str) -> bool:
    version = parse_version(text)
    return version is not None and version.is_prerelease


def _fix(records: list[PreparedRecord], version: str, keys: tuple[str, str] | None) -> str | None:
    candidates = prepared.fixed_above(records, None if keys is None else keys[0])
    allow_pre = keys is not None and _is_prerelease(version)
    # Final releases first (pre-releases too when the locked version is one), each by version.
    ordered = sorted(candidates, key=lambda k: (_is_prerelease(candidates[k]) and not allow_pre, k))
    quiet = ParseWarnings()  # candidates were already counted when matching
    # The record that rules a candidate out is tried first for the next one (move to front):
    # neighbouring candidates are mostly ruled out by the same record. Order never changes
    # the answer (every record must spare the candidate).
    pending = list(records)
    for candidate in ordered:
        text = candidates[candidate]
        both = keys_of(text)
        blocker = next(
            (i for i, r in enumerate(pending) if prepared.affects(r, both, text, quiet)), None
        )
        if blocker is None:
            return text
        if blocker:
            pending.insert(0, pending.pop(blocker))
    return None


def fixed_by(
    index: AdvisoryIndex | None, package: str, version: str, previous: str | None
) -> list[Advisory]:
    """The records that upgrading ``package`` to ``version`` fixes.

    With the ``previous`` version known: the records affecting it but not
    ``version``. Without it: the records that name ``version`` itself as a
    ``fixed`` release and do not affect it. No index, no records.
    """
    current = parse_version(version)
    if index is None or current is None:
        return []
    quiet = ParseWarnings()
    found = []
    for advisory in index.advisories(package):
        if affects(advisory, package, version, quiet):
            continue
        if previous is not None:
            if affects(advisory, package, previous, quiet):
                found.append(advisory)
        elif current in _fixed_above([advisory], package, None):
            found.append(advisory)
    return found
