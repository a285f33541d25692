"""Is a version affected? Exactly the OSV schema's rules for the PyPI ecosystem.

- The ``versions`` list is compared as normalised PEP 440 versions, with an
  exact-string fallback for strings that are not PEP 440.
- ECOSYSTEM ranges are evaluated as the OSV schema specifies: events sorted by
  version, ``introduced`` opens, ``fixed`` closes (exclusive), ``last_affected``
  closes (inclusive), ``limit`` caps the range. Several introduced/fixed pairs
  in one range are several intervals.
- Ordering is ``packaging.version.Version`` (epochs, pre/post/dev and local
  versions included), never ``SpecifierSet.contains``, whose pre-release rules
  differ between packaging releases.
- A range with a version that does not parse is skipped and counted; it never
  matches and never aborts.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import InvalidVersion, Version

from bastion._internal.advisories.osv import Affected, Event, ParseWarnings
from bastion._internal.advisories.prepared import affected_at

# "introduced: 0" means every version; 0.dev0 is the smallest PEP 440 version (epoch 0).
_ZERO = Version("0.dev0")


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version | None:
    """A PEP 440 version, or ``None`` when the string is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _event_key(event: Event) -> Version | None:
    if event.kind == "introduced" and event.version == "0":
        return _ZERO
    return parse_version(event.version)


@lru_cache(maxsize=65536)
def _prepared(
    events: tuple[Event, ...],
) -> tuple[tuple[tuple[Version, str], ...], tuple[Version, ...]] | None:
    """Events sorted by version (record order kept at ties) and the limits; None if unparsable."""
    keyed: list[tuple[Version, int, str]] = []
    for position, event in enumerate(events):
        key = _event_key(event)
        if key is None:
            return None
        keyed.append((key, position, event.kind))
    ordered = tuple((key, kind) for key, _, kind in sorted(keyed, key=lambda k: (k[0], k[1])))
    limits = tuple(key for key, kind in ordered if kind == "limit")
    return ordered, limits


def in_range(version: Version, events: tuple[Event, ...], warnings: ParseWarnings) -> bool:
    """True when ``version`` lies in the range the events describe."""
    prepared = _prepared(events)
    if prepared is None:
        warnings.add("unparsable version in a range")
        return False
    ordered, limits = prepared
    return affected_at(version, ordered, limits)


_PLAIN = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30}){0,30}")  # a release: digits and dots only


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    """A release without its trailing zeros (1.0.0 == 1.0 == 1 in PEP 440)."""
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def release_key(version: Version) -> tuple[int, ...] | None:
    """The release numbers of a plain release (no epoch, pre, post, dev or local part), trailing
    zeros trimmed: two plain releases are equal versions exactly when their keys are equal."""
    if version.epoch or version.pre or version.post is not None or version.dev is not None:
        return None
    if version.local:
        return None
    return _trimmed(version.release)


@lru_cache(maxsize=16384)
def _listed(
    versions: tuple[str, ...],
) -> tuple[frozenset[str], frozenset[tuple[int, ...]], frozenset[Version]]:
    """A ``versions`` list as exact strings, the release keys of its plain releases, and its
    other PEP 440 versions. Most lists are plain releases: those are split on dots instead of
    parsed (a plain version never equals one with an epoch, pre, post, dev or local part)."""
    plain: set[tuple[int, ...]] = set()
    others: set[Version] = set()
    for text in versions:
        if _PLAIN.fullmatch(text):
            plain.add(_trimmed(tuple(int(part) for part in text.split("."))))
            continue
        parsed = parse_version(text)
        if parsed is None:
            continue
        key = release_key(parsed)
        if key is None:
            others.add(parsed)
        else:
            plain.add(key)
    return frozenset(versions), frozenset(plain), frozenset(others)


def is_affected(affected: Affected, version_text: str, warnings: ParseWarnings) -> bool:
    """True when the package version is affected by this ``affected`` entry."""
    version = parse_version(version_text)
    if affected.versions:
        exact, plain, others = _listed(affected.versions)
        if version_text in exact:
            return True
        if version is not None:
            key = release_key(version)
            if (key in plain) if key is not None else (version in others):
                return True
    if version is None:
        return False
    return any(in_range(version, events, warnings) for events in affected.ranges)
