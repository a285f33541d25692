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

from functools import lru_cache

from packaging.version import InvalidVersion, Version

from bastion._internal.advisories.osv import Affected, Event, ParseWarnings

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
    if limits and all(version >= limit for limit in limits):
        return False
    affected = False
    for key, kind in ordered:
        if version < key:
            break  # events are sorted: none further can apply
        if kind == "introduced":
            affected = True
        elif kind == "fixed" or (kind == "last_affected" and version > key):
            affected = False
    return affected


@lru_cache(maxsize=16384)
def _listed(versions: tuple[str, ...]) -> tuple[frozenset[str], frozenset[Version]]:
    """A ``versions`` list as exact strings and as normalised PEP 440 versions (sets)."""
    parsed = (parse_version(v) for v in versions)
    return frozenset(versions), frozenset(v for v in parsed if v is not None)


def is_affected(affected: Affected, version_text: str, warnings: ParseWarnings) -> bool:
    """True when the package version is affected by this ``affected`` entry."""
    version = parse_version(version_text)
    if affected.versions:
        exact, normalised = _listed(affected.versions)
        if version_text in exact or (version is not None and version in normalised):
            return True
    if version is None:
        return False
    return any(in_range(version, events, warnings) for events in affected.ranges)
