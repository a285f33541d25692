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


def in_range(version: Version, events: tuple[Event, ...], warnings: ParseWarnings) -> bool:
    """True when ``version`` lies in the range the events describe."""
    keyed: list[tuple[Version, int, Event]] = []
    for position, event in enumerate(events):
        key = _event_key(event)
        if key is None:
            warnings.add("unparsable version in a range")
            return False
        keyed.append((key, position, event))
    limits = [key for key, _, event in keyed if event.kind == "limit"]
    if limits and all(version >= limit for limit in limits):
        return False
    affected = False
    # Sort by version; at equal versions keep the record's order (stable sort).
    for key, _, event in sorted(keyed, key=lambda item: (item[0], item[1])):
        if event.kind == "introduced":
            if version >= key:
                affected = True
        elif event.kind == "fixed":
            if version >= key:
                affected = False
        elif event.kind == "last_affected" and version > key:
            affected = False
    return affected


def is_affected(affected: Affected, version_text: str, warnings: ParseWarnings) -> bool:
    """True when the package version is affected by this ``affected`` entry."""
    version = parse_version(version_text)
    for listed in affected.versions:
        if listed == version_text:
            return True
        listed_version = parse_version(listed)
        if version is not None and listed_version is not None and listed_version == version:
            return True
    if version is None:
        return False
    return any(in_range(version, events, warnings) for events in affected.ranges)
