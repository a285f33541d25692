"""OSV schema 1.x records for PyPI, parsed into frozen dataclasses.

Hostile or sloppy data is expected: a malformed range is dropped with a
counted warning, a malformed record is skipped with one; neither aborts.
Only the ``PyPI`` ecosystem is kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bastion._internal.inputs.common import canonical, parse_timestamp

ECOSYSTEM = "PyPI"
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
MAX_DETAILS_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Event:
    """One range event: ``introduced``, ``fixed``, ``last_affected`` or ``limit``."""

    kind: str
    version: str


@dataclass(frozen=True, slots=True)
class Affected:
    """One ``affected`` entry for one PyPI package."""

    package: str  # PEP 503 canonical name
    versions: tuple[str, ...] = ()
    ranges: tuple[tuple[Event, ...], ...] = ()  # ECOSYSTEM ranges only


@dataclass(frozen=True, slots=True)
class Advisory:
    """A vulnerability or malicious-package record."""

    id: str
    modified: datetime
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: datetime | None = None
    withdrawn: datetime | None = None
    severity: tuple[str, ...] = ()  # CVSS vectors as given
    severity_label: str = ""  # database_specific.severity (GitHub: LOW..CRITICAL)
    references: tuple[str, ...] = ()
    affected: tuple[Affected, ...] = ()

    @property
    def malicious(self) -> bool:
        """True for OpenSSF malicious-package records."""
        return self.id.startswith("MAL-")


@dataclass
class ParseWarnings:
    """Counts of what was skipped, by reason: reported, never fatal."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str) -> None:
        """Count one skipped item."""
        self.counts[reason] += 1

    @property
    def total(self) -> int:
        """How many items were skipped in all."""
        return sum(self.counts.values())


def _list(value: object) -> list[Any]:
    """A JSON array, or nothing when the field has another type (hostile data)."""
    return value if isinstance(value, list) else []


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _ranges(raw: object, warnings: ParseWarnings) -> tuple[tuple[Event, ...], ...]:
    ranges = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            warnings.add("range is not an object")
            continue
        if item.get("type") != "ECOSYSTEM":
            continue  # GIT and SEMVER ranges do not describe PyPI versions
        events = []
        valid = isinstance(item.get("events"), list)
        for event in _list(item.get("events")):
            if not isinstance(event, dict) or len(event) != 1:
                valid = False
                break
            ((kind, version),) = event.items()
            if kind not in EVENT_KINDS or not isinstance(version, str) or not version:
                valid = False
                break
            events.append(Event(kind, version))
        if not valid or not any(e.kind == "introduced" for e in events):
            warnings.add("malformed range events")
            continue
        ranges.append(tuple(events))
    return tuple(ranges)


def parse_record(data: Any, warnings: ParseWarnings) -> Advisory | None:
    """An ``Advisory`` from OSV JSON data, or ``None`` (counted) when it is unusable."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        warnings.add("record without an id")
        return None
    modified = parse_timestamp(data.get("modified"))
    if modified is None:
        warnings.add("record with a bad 'modified' timestamp")
        return None
    affected = []
    for entry in _list(data.get("affected")):
        if not isinstance(entry, dict) or not isinstance(entry.get("package"), dict):
            warnings.add("affected entry without a package")
            continue
        package = entry["package"]
        if package.get("ecosystem") != ECOSYSTEM or not isinstance(package.get("name"), str):
            continue
        affected.append(
            Affected(
                package=canonical(package["name"]),
                versions=_strings(entry.get("versions")),
                ranges=_ranges(entry.get("ranges"), warnings),
            )
        )
    severity = tuple(
        s["score"]
        for s in _list(data.get("severity"))
        if isinstance(s, dict) and isinstance(s.get("score"), str)
    )
    references = tuple(
        r["url"]
        for r in _list(data.get("references"))
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    )
    summary = data.get("summary")
    details = data.get("details")
    specific = data.get("database_specific")
    label = specific.get("severity") if isinstance(specific, dict) else None
    return Advisory(
        id=data["id"],
        modified=modified,
        aliases=tuple(a for a in _strings(data.get("aliases")) if a != data["id"]),
        summary=summary.strip() if isinstance(summary, str) else "",
        details=details[:MAX_DETAILS_CHARS] if isinstance(details, str) else "",
        published=parse_timestamp(data.get("published")),
        withdrawn=parse_timestamp(data.get("withdrawn")),
        severity=severity,
        severity_label=label if isinstance(label, str) else "",
        references=references,
        affected=tuple(affected),
    )
