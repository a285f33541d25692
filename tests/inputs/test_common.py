"""The readers' shared helpers: fast paths answer exactly as the general code does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from bastion._internal.inputs.common import canonical, split_hash
from bastion._internal.inputs.fields import Fields, add_hash, artifact_digests, frozen, newest
from bastion._internal.safe_read import TomlLines

NAME_CHARS = st.sampled_from(list("abcxyz019-_.ABZ ~é"))
HASH_CHARS = st.sampled_from(list("sha256:=0123456789abcdefABCDEF md5 \t"))


def general_split_hash(value: str) -> tuple[str, str] | None:
    """split_hash as it was before its fast path."""
    for sep in (":", "="):
        algo, found, digest = value.partition(sep)
        if found and algo and digest:
            return algo.strip().lower(), digest.strip().lower()
    return None


@settings(max_examples=400, deadline=None)
@given(st.text(NAME_CHARS, max_size=12))
def test_canonical_is_packaging_s_canonical_name(name: str) -> None:
    assert canonical(name) == str(canonicalize_name(name))


@settings(max_examples=400, deadline=None)
@given(st.text(HASH_CHARS, max_size=20) | st.builds("sha256:{}".format, st.text(HASH_CHARS)))
def test_split_hash_fast_path_agrees_with_the_general_split(value: str) -> None:
    assert split_hash(value) == general_split_hash(value)


def test_split_hash_shares_the_algorithm_string() -> None:
    first = split_hash("sha256:" + "ab" * 32)
    second = split_hash("".join(["sha", "256:", "cd" * 32]))
    assert first is not None and second is not None
    assert first[0] is second[0] == "sha256"
    assert split_hash("SHA256: AB ") == ("sha256", "ab")


def general_lines(text: str, header: str) -> list[int | None]:
    """TomlLines' answers computed line by line (lines end at \\n)."""
    answers: list[int | None] = []
    names: list[int | None] = []
    starts: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" \t")
        if stripped.rstrip("\r").startswith("[["):
            inner = stripped.rstrip("\r").split("#", 1)[0].rstrip(" \t")
            if inner.endswith("]]") and inner[2:-2].strip(" \t") == header:
                starts.append(number)
                names.append(None)
                continue
        head = stripped.split("=", 1)[0].rstrip(" \t") if "=" in stripped else ""
        value = stripped.split("=", 1)[1].lstrip(" \t") if "=" in stripped else ""
        if head == "name" and value[:1] in ('"', "'") and names and names[-1] is None:
            names[-1] = number
    for start, name in zip(starts, names, strict=True):
        answers.append(name or start)
    return answers


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "[[package]]",
                "  [[ package ]]  # c",
                "[[package]]\r",
                "[[packages]]",
                'name = "a"',
                " name='b'",
                "name = 1",
                "x = 1",
                "",
                "[package.metadata]",
            ]
        ),
        max_size=12,
    )
)
def test_toml_lines_finds_each_header_and_its_first_name(lines: list[str]) -> None:
    text = "\n".join(lines)
    found = TomlLines(text, "package")
    expected = general_lines(text, "package")
    assert [found.line_of(i) for i in range(len(expected))] == expected
    assert found.line_of(len(expected)) is None
    assert len(found.offsets) == len(expected)
    for offset in found.offsets:
        assert offset == 0 or text[offset - 1] == "\n"


def general_artifact_digests(
    fields: Fields, artifacts: list[dict[str, Any]]
) -> tuple[dict[str, tuple[str, ...]], datetime | None]:
    """artifact_digests as it was: every time parsed, then the newest known one."""
    hashes: dict[str, list[str]] = {}
    times = []
    for artifact in artifacts:
        if "hash" in artifact:
            algo, digest = fields.hash_value(artifact["hash"], 0)
            add_hash(hashes, algo, digest)
        times.append(fields.timestamp(artifact.get("upload-time"), 0))
    return frozen(hashes), newest(times)


moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2030, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]),
)
artifact = st.fixed_dictionaries(
    {},
    optional={
        "hash": st.sampled_from(["sha256:ab", "sha256:AB", "md5:01", "sha256:ab ", "sha512=ff"]),
        "upload-time": moments.map(lambda m: m.isoformat().replace("+00:00", "Z"))
        | moments
        | st.just("2024-01-01T00:00:00"),
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(artifact, max_size=6))
def test_artifact_digests_gives_the_digests_and_the_newest_upload(
    artifacts: list[dict[str, Any]],
) -> None:
    fields = Fields(Path("uv.lock"))
    found = artifact_digests(fields, 0, artifacts)
    expected = general_artifact_digests(fields, artifacts)
    assert found == expected
    assert found[1] is None or found[1].tzinfo is UTC
