"""The severity of an advisory: a CVSS v3 base score, else the database's label.

CVSS v3.0/v3.1 base scores are computed exactly as the FIRST specification
(section 7.1 and Appendix A's Roundup) defines them. Vectors of other
versions are not scored; the record's ``database_specific.severity`` label
(GitHub's LOW/MODERATE/HIGH/CRITICAL) is used when there is one. A record
with neither has an unknown severity, which bastion reports as ``medium``,
so that it fails the default threshold rather than slipping under it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bastion._internal.model import Severity

UNKNOWN_SEVERITY = Severity.MEDIUM

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE_METRICS = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")

_LABELS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


@dataclass(frozen=True, slots=True)
class Rated:
    """A severity and how it was obtained (``"CVSS:3.1 9.8"``, ``"label HIGH"``, ``"unknown"``)."""

    severity: Severity
    basis: str


def _roundup(value: float) -> float:
    """CVSS v3.1 Roundup: the smallest one-decimal number >= value, float-safe."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a ``CVSS:3.x/...`` vector, or ``None`` when it is not one."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, _, value = part.partition(":")
        if key in metrics:
            return None
        metrics[key] = value
    if any(m not in metrics for m in _BASE_METRICS):
        return None
    try:
        changed = {"U": False, "C": True}[metrics["S"]]
        pr_table = _PR_CHANGED if changed else _PR_UNCHANGED
        exploitability = (
            8.22
            * _AV[metrics["AV"]]
            * _AC[metrics["AC"]]
            * pr_table[metrics["PR"]]
            * _UI[metrics["UI"]]
        )
        iss = 1 - ((1 - _CIA[metrics["C"]]) * (1 - _CIA[metrics["I"]]) * (1 - _CIA[metrics["A"]]))
    except KeyError:
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _roundup(min(total, 10.0))


def from_score(score: float) -> Severity:
    """The qualitative rating of a CVSS score (v3 table; 0.0 is ``info``)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def rate(vectors: tuple[str, ...], label: str) -> Rated:
    """Rate one record from its severity vectors and its database label."""
    scores = [s for s in (cvss3_base_score(v) for v in vectors) if s is not None]
    if scores:
        best = max(scores)
        version = next(v for v in vectors if cvss3_base_score(v) == best).split("/")[0]
        return Rated(from_score(best), f"{version} {best:.1f}")
    known = _LABELS.get(label.strip().upper())
    if known is not None:
        return Rated(known, f"label {label.strip().upper()}")
    return Rated(UNKNOWN_SEVERITY, "unknown")
