"""Helpers shared by the dependency readers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # packaging.specifiers and .utils (which imports .tags) cost an audit ~20 ms
    from packaging.specifiers import SpecifierSet

_FULL_COMMIT = re.compile(r"^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$")
_CANONICAL_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # what canonicalize_name returns as is


def exact_version(specifier: SpecifierSet) -> str | None:
    """The version a specifier pins to exactly (``==1.2`` or ``===1.2``), else ``None``."""
    for spec in specifier:
        if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith("*")):
            return spec.version
    return None


def is_full_commit(ref: str) -> bool:
    """True for a full 40-hex (SHA-1) or 64-hex (SHA-256) commit id."""
    return bool(_FULL_COMMIT.match(ref))


def vcs_ref(url: str) -> str | None:
    """The ``@ref`` of a pip VCS URL such as ``git+https://host/repo@ref#egg=x``."""
    path = urlsplit(url.split("+", 1)[-1]).path
    if "@" not in path:
        return None
    return path.rsplit("@", 1)[1] or None


def canonical(name: str) -> str:
    """PEP 503 normalised name (a lock's names mostly are already: those return unchanged)."""
    if _CANONICAL_NAME.fullmatch(name):
        return name
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


_PLAIN_ALGORITHMS = {name: name for name in ("sha256", "sha384", "sha512", "md5", "sha1")}
_PLAIN_DIGEST = re.compile(r"[0-9a-f]+")


def split_hash(value: str) -> tuple[str, str] | None:
    """Split ``"sha256:abc"`` (or ``sha256=abc``) into ``("sha256", "abc")``."""
    algo, found, digest = value.partition(":")
    if found and algo in _PLAIN_ALGORITHMS and _PLAIN_DIGEST.fullmatch(digest):
        return _PLAIN_ALGORITHMS[algo], digest  # already stripped and lower case
    for sep in (":", "="):
        algo, found, digest = value.partition(sep)
        if found and algo and digest:
            return algo.strip().lower(), digest.strip().lower()
    return None


def redact_url(url: str) -> str:
    """Hide credentials in a URL so that reports never leak them."""
    split = urlsplit(url)
    if "@" not in split.netloc:
        return url
    host = split.netloc.rsplit("@", 1)[1]
    return split._replace(netloc=f"***@{host}").geturl()


_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_FRIENDLY_DURATION = re.compile(
    r"^(?P<count>\d+)\s*(?P<unit>second|minute|hour|day|week|month|year)s?$"
)
_UNIT_SECONDS = {
    "years": 365 * 86400,
    "months": 30 * 86400,
    "weeks": 7 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}
MAX_DURATION_DAYS = 100 * 365


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration (``P1W``, ``P7D``, ``PT12H``) or ``"7 days"``; ``None`` if neither.

    Months count 30 days and years 365, as uv and pip do for relative cutoffs.
    """
    text = text.strip()
    if len(text) > 64:
        return None
    match = _ISO_DURATION.match(text.upper())
    if match and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
        seconds = sum(float(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v)
    else:
        friendly = _FRIENDLY_DURATION.match(text.lower())
        if friendly is None:
            return None
        seconds = int(friendly["count"]) * _UNIT_SECONDS[friendly["unit"] + "s"]
    if seconds > MAX_DURATION_DAYS * 86400:
        return None
    return timedelta(seconds=seconds)


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp in UTC, or ``None`` when it does not parse."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
