"""CVSS v3 base scores computed per the FIRST specification; labels as a fallback."""

from __future__ import annotations

import pytest

from bastion._internal.advisories.severity import cvss3_base_score, from_score, rate
from bastion._internal.model import Severity


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        # Values from the FIRST CVSS v3.1 calculator (and NVD entries that use them).
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N", 4.8),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_base_scores(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # a metric missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # an unknown value
        "CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # a metric twice
        "",
    ],
)
def test_other_or_broken_vectors_are_not_scored(vector: str) -> None:
    assert cvss3_base_score(vector) is None


def test_rating_prefers_the_vector_then_the_label() -> None:
    assert from_score(9.0) is Severity.CRITICAL and from_score(8.9) is Severity.HIGH
    assert from_score(0.1) is Severity.LOW and from_score(0.0) is Severity.INFO
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"
    assert rate((vector,), "CRITICAL").severity is Severity.MEDIUM
    assert rate((vector,), "").basis == "CVSS:3.1 6.1"
    assert rate(("CVSS:4.0/AV:N",), "MODERATE").severity is Severity.MEDIUM
    assert rate((), "low").basis == "label LOW"
    unknown = rate((), "")
    assert (unknown.severity, unknown.basis) == (Severity.MEDIUM, "unknown")
