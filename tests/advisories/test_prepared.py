"""Matching data computed at import answers exactly as the matcher on the full records.

- version keys order and compare like PEP 440 versions (hypothesis, and the tricky cases);
- prepared entries match like ``matcher.is_affected``, with the same warnings, on generated
  entries (odd and unparsable versions, ``last_affected``, ``limit``) and on every entry of
  the real snapshot.
"""

from __future__ import annotations

import json
import zipfile
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from bastion._internal.advisories.matcher import is_affected
from bastion._internal.advisories.osv import Advisory, Affected, Event, ParseWarnings, parse_record
from bastion._internal.advisories.prepared import decode, encode, entry_affected
from bastion._internal.advisories.version_key import equality_key, keys_of, order_key
from tests.advisories.test_matcher import SNAPSHOT

_PRE = st.sampled_from(["", "a0", "a1", "b2", "rc1", "rc10", "c3", "alpha4", "pre2"])
_POST = st.sampled_from(["", ".post0", ".post1", "-7", ".post12", ".rev3"])
_DEV = st.sampled_from(["", ".dev0", ".dev1", ".dev20"])
_LOCAL = st.sampled_from(["", "+0", "+1", "+a", "+ab", "+ubuntu.1", "+1.a", "+a.1", "+9.9.abc"])
_NUMBER = st.sampled_from(
    ["0", "1", "2", "9", "10", "00", "239", "240", "255", "256", "65536", "9" * 34, "9" * 40]
)
_VERSION = st.builds(
    lambda epoch, release, pre, post, dev, local: (
        epoch + ".".join(release) + pre + post + dev + local
    ),
    st.sampled_from(["", "0!", "1!", "12!"]),
    st.lists(_NUMBER, min_size=1, max_size=5),
    _PRE,
    _POST,
    _DEV,
    _LOCAL,
)


@settings(max_examples=500, deadline=None)
@given(_VERSION, _VERSION)
def test_keys_order_exactly_like_versions(left: str, right: str) -> None:
    a, b = Version(left), Version(right)
    ka, kb = order_key(a), order_key(b)
    assert (ka < kb, ka == kb, ka > kb) == (a < b, a == b, a > b), (left, right)
    assert (equality_key(a) == equality_key(b)) == (a == b), (left, right)


def test_tricky_orders() -> None:
    ordered = [
        "0.dev0",
        "0",
        "1.0.dev1",
        "1.0a1.dev1",
        "1.0a1",
        "1.0a1.post1.dev1",
        "1.0a1.post1",
        "1.0b1",
        "1.0rc1",
        "1.0",
        "1.0+abc",
        "1.0+abc.1",
        "1.0+0",
        "1.0+1.a",
        "1.0.post1.dev0",
        "1.0.post1",
        "1.0.1",
        "1.1",
        "256",
        "65536",
        "1!0.1",
    ]
    keys = [order_key(Version(v)) for v in ordered]
    assert all(a < b for a, b in pairwise(keys)), ordered
    assert keys_of("1.0") == keys_of("1.0.0") == keys_of("v1") == keys_of("0!1.0.0.0")
    assert keys_of("1.0") == (order_key(Version("1")), "1")
    assert keys_of("1.0+local") == keys_of("1.0+LOCAL") != keys_of("1.0+local.1")
    assert keys_of("1.0+01.a") == keys_of("1.0+1-a")
    assert keys_of("not a version") is None
    assert keys_of("1" * 5000) is None  # int() refuses 4,300+ digits: not PEP 440 here
    big = 10**40  # numbers past one byte, past 14 bytes: still ordered
    assert order_key(Version(f"{big}")) < order_key(Version(f"{big + 1}"))
    assert order_key(Version("239")) < order_key(Version("240")) < order_key(Version("256"))
    assert order_key(Version(f"{2**112}")) > order_key(Version(f"{2**112 - 1}"))


def _advisory(entry: Affected) -> Advisory:
    from datetime import UTC, datetime

    return Advisory("TEST-1", datetime(2024, 1, 1, tzinfo=UTC), affected=(entry,))


def _compare(entry: Affected, versions: list[str]) -> None:
    (prepared,) = decode("TEST-1", encode(_advisory(entry), entry.package)).entries
    for text in versions:
        old, new = ParseWarnings(), ParseWarnings()
        expected = is_affected(entry, text, old)
        assert entry_affected(prepared, keys_of(text), text, new) == expected, (entry, text)
        assert new.counts == old.counts, (entry, text)


_ODD = st.sampled_from(
    [
        *("0", "1.0", "1.0.0", "1.0rc1", "2!1", "1.0+local", "1.0.post1", "1.0.dev0", "v1.1"),
        *("x.y", "1.0-beta", "2020.1", "0.9", "1.5", "3", "20240101", "1.0_1", "*", "1.0.0.1"),
    ]
)
_EVENT = st.builds(
    Event, st.sampled_from(["introduced", "fixed", "last_affected", "limit"]), _ODD | _VERSION
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_ODD | _VERSION, max_size=5),
    st.lists(st.lists(_EVENT, min_size=1, max_size=5), max_size=3),
    st.lists(_ODD | _VERSION | st.text(max_size=6), min_size=1, max_size=6),
)
def test_prepared_matches_like_the_matcher(
    listed: list[str], ranges: list[list[Event]], versions: list[str]
) -> None:
    entry = Affected("pkg", tuple(listed), tuple(tuple(r) for r in ranges))
    _compare(entry, versions + listed + [e.version for r in ranges for e in r])


def test_hand_written_rules() -> None:
    entry = Affected(
        "pkg",
        ("7.0", "not-pep440"),
        (
            (Event("introduced", "1.0"), Event("last_affected", "1.4"), Event("limit", "1.3")),
            (Event("introduced", "0"), Event("fixed", "0.5")),
            (Event("introduced", "2.0"), Event("fixed", "bogus version")),
            (Event("fixed", "4.0"), Event("introduced", "3.0")),  # out of order
        ),
    )
    _compare(entry, ["0.dev0", "0.4", "0.5", "1.0", "1.2", "1.3", "1.4", "2.5", "3.5", "4.0"])
    _compare(entry, ["7", "7.0.0", "not-pep440", "NOT-PEP440", "1!1.0"])


@pytest.fixture(scope="module")
def snapshot_records() -> list[Advisory]:
    warnings = ParseWarnings()
    with zipfile.ZipFile(SNAPSHOT) as archive:
        records = [parse_record(json.loads(archive.read(n)), warnings) for n in archive.namelist()]
    return [r for r in records if r is not None]


def test_every_entry_of_the_real_snapshot(snapshot_records: list[Advisory]) -> None:
    """Each entry against its own listed and event versions and their neighbours."""
    checked = 0
    for record in snapshot_records:
        for entry in record.affected:
            probes = {"0", "0.0.1", "99999"}
            probes.update(entry.versions[:40])
            for events in entry.ranges:
                for event in events:
                    probes.update({event.version, event.version + ".post1", event.version + "a1"})
            _compare(entry, sorted(probes))
            checked += len(probes)
    assert checked > 100_000
