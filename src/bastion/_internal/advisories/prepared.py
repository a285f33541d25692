"""What matching needs of one record for one package, computed once at import.

The database stores, beside each full OSV record, per package it names: the
``versions`` list as equality keys (``version_key``) plus the strings that are
not PEP 440, each ECOSYSTEM range as its events sorted by order key with its
limits (or ``null`` when an event's version does not parse), and the
``fixed`` versions (order key and text). An audit decodes this small JSON for the pinned
packages only, compares strings, and parses a full record only when it
matches. The rules are ``matcher``'s exactly (the tests compare both on the
real snapshot and on generated records):

- a listed version matches by PEP 440 equality, a string that is not PEP 440
  by exact text;
- a range with an event that does not parse never matches and is counted each
  time it is evaluated, as ``matcher.in_range`` counts it;
- events are ordered by version, ties in record order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bastion._internal.advisories.osv import Advisory, ParseWarnings
from bastion._internal.advisories.version_key import keys_of

if TYPE_CHECKING:
    from packaging.version import Version

_Key = TypeVar("_Key", "Version", str)  # a parsed version, or its order key in the database

UNPARSABLE_RANGE = "unparsable version in a range"  # matcher.in_range's warning, same text

# One range: events [key, kind] sorted, and the limits' keys; None when an event does not parse.
Range = tuple[Sequence[Sequence[str]], Sequence[str]] | None
# One affected entry: the listed equality keys as one string ("\n1.0\n1.1\n", searched as a
# substring: one object instead of one per version, which a fresh process pays for in page
# faults), the listed strings that are not PEP 440, the ranges, the fixed [order key, text].
# Decoded JSON is used as it is, lists for tuples: a run converts nothing.
Entry = tuple[str, Sequence[str], Sequence[Range], Sequence[Sequence[str]]]


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """One non-withdrawn record's matching data for one package."""

    advisory_id: str
    entries: Sequence[Entry]


def _event_key(kind: str, version: str) -> str | None:
    keys = keys_of("0.dev0" if kind == "introduced" and version == "0" else version)
    return None if keys is None else keys[0]


def encode(advisory: Advisory, package: str) -> str:
    """The matching data of ``advisory``'s entries for ``package``, as compact JSON."""
    entries = []
    for entry in advisory.affected:
        if entry.package != package:
            continue
        keys: dict[str, None] = {}
        raw: dict[str, None] = {}
        for text in entry.versions:
            both = keys_of(text)
            if both is None:
                raw[text] = None
            else:
                keys[both[1]] = None
        ranges: list[Any] = []
        fixed: list[list[str]] = []
        for events in entry.ranges:
            keyed = []
            for position, event in enumerate(events):
                key = _event_key(event.kind, event.version)
                if key is not None and event.kind == "fixed":
                    fixed.append([key, event.version])
                keyed.append((key, position, event.kind))
            if any(key is None for key, _, _ in keyed):
                ranges.append(None)
                continue
            ordered = sorted(keyed, key=lambda item: (item[0], item[1]))
            limits = [key for key, _, kind in ordered if kind == "limit"]
            ranges.append([[[key, kind] for key, _, kind in ordered], limits])
        listed = "".join(f"\n{key}" for key in keys) + "\n" if keys else ""
        entries.append([listed, list(raw), ranges, fixed])
    return json.dumps(entries, separators=(",", ":"), ensure_ascii=False)


def decode(advisory_id: str, text: str) -> PreparedRecord:
    """A ``PreparedRecord`` from ``encode``'s JSON (written by bastion at import); data of
    another shape is a ``ValueError`` here or a ``TypeError`` or ``ValueError`` when matched."""
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError("matching data is not a list")
    return PreparedRecord(advisory_id, entries)


def affected_at(key: _Key, ordered: Iterable[Sequence[Any]], limits: Sequence[_Key]) -> bool:
    """Whether ``key`` lies in the range of the ``ordered`` events (sorted by their keys,
    record order kept at ties) below every ``limit``: for ``Version``s here, and for the
    order keys the database stores (``prepared``)."""
    if limits and all(key >= limit for limit in limits):
        return False
    affected = False
    for event_key, kind in ordered:
        if key < event_key:
            break  # events are sorted: none further can apply
        if kind == "introduced":
            affected = True
        elif kind == "fixed" or (kind == "last_affected" and key > event_key):
            affected = False
    return affected


def _in_range(key: str, prepared: Range, warnings: ParseWarnings) -> bool:
    if prepared is None:
        warnings.add(UNPARSABLE_RANGE)
        return False
    ordered, limits = prepared
    return affected_at(key, ordered, limits)


def entry_affected(
    entry: Entry, keys: tuple[str, str] | None, text: str, warnings: ParseWarnings
) -> bool:
    """``matcher.is_affected`` on prepared data: ``keys`` are ``keys_of(text)``."""
    listed, raw, ranges, _ = entry
    if (listed or raw) and ((f"\n{keys[1]}\n" in listed) if keys is not None else (text in raw)):
        return True
    if keys is None:
        return False
    return any(_in_range(keys[0], prepared, warnings) for prepared in ranges)


def affects(
    record: PreparedRecord, keys: tuple[str, str] | None, text: str, warnings: ParseWarnings
) -> bool:
    """True when any of the record's entries for the package covers the version."""
    return any(entry_affected(entry, keys, text, warnings) for entry in record.entries)


def fixed_above(records: list[PreparedRecord], current: str | None) -> dict[str, str]:
    """Keys of the versions named ``fixed`` above ``current`` (a key; None: all), as written
    (the first text in record order for equal versions)."""
    found: dict[str, str] = {}
    for record in records:
        for entry in record.entries:
            for key, text in entry[3]:
                if current is None or key > current:
                    found.setdefault(key, text)
    return found
