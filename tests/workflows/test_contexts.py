from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.workflows import contexts
from bastion._internal.workflows.contexts import Control, classify, table


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("github.head_ref", Control.ATTACKER),
        ("github.event.pull_request.title", Control.ATTACKER),
        ("github.event.pull_request.head.ref", Control.ATTACKER),
        ("github.event.issue.body", Control.ATTACKER),
        ("github.event.comment.body", Control.ATTACKER),
        ("github.event.commits.*.message", Control.ATTACKER),
        ("github.event.head_commit.author.email", Control.ATTACKER),
        ("github.event.workflow_run.head_branch", Control.ATTACKER),
        ("github.event.pages.*.page_name", Control.ATTACKER),
        ("github.event.pull_request.head.sha", Control.STRUCTURED),
        ("github.event.pull_request.head.repo.full_name", Control.STRUCTURED),
        ("github.actor", Control.STRUCTURED),
        ("github.ref_name", Control.STRUCTURED),
        ("github.event.pull_request.number", Control.FIXED),
        ("github.event.pull_request.base.ref", Control.FIXED),
        ("github.sha", Control.FIXED),
        ("github.repository", Control.FIXED),
        ("secrets.PYPI_TOKEN".lower(), Control.FIXED),
        ("matrix.python", Control.FIXED),
        ("steps.build.outcome", Control.FIXED),
        ("steps.meta.outputs.title", Control.UNKNOWN),
        ("needs.build.outputs.version", Control.UNKNOWN),
        ("github.event.some_new_field", Control.UNKNOWN),
        ("inputs.ref", Control.UNKNOWN),
        ("env.FOO", Control.UNKNOWN),
    ],
)
def test_classes(path: str, expected: Control) -> None:
    assert classify(path) is expected


def test_every_pattern_is_reachable() -> None:
    """No row of the table is hidden by an earlier, wider one."""
    for pattern, control in table():
        example = pattern.replace("**", "x").replace("*", "0")
        assert classify(example) is control, pattern


def _regex(pattern: str) -> re.Pattern[str]:
    """The table's pattern as the regular expression it used to be compiled to."""
    parts = []
    for segment in pattern.split("."):
        if segment == "**":
            parts.append(r"[^\n]+")
        elif segment == "*":
            parts.append(r"[^.]+")
        else:
            parts.append(re.escape(segment))
    return re.compile(r"\.".join(parts))


_SEGMENTS = sorted({s for p, _ in table() for s in p.split(".") if "*" not in s})
_PIECES = st.sampled_from([*_SEGMENTS, "", "x", "0", "a\nb", "*", "-", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=8), st.sampled_from([".", ".", ". ", "\n"]))
def test_segment_matching_is_the_regular_expressions(pieces: list[str], glue: str) -> None:
    path = glue.join(pieces)
    for pattern, _ in table():
        expected = _regex(pattern).fullmatch(path) is not None
        assert contexts._matches(tuple(pattern.split(".")), path) is expected, (pattern, path)


def test_a_newline_or_an_empty_segment_matches_as_before() -> None:
    for path in ("github.event.a\nb", "github.event.", "github.event..", "github.", "matrix.\n"):
        for pattern, _ in table():
            expected = _regex(pattern).fullmatch(path) is not None
            assert contexts._matches(tuple(pattern.split(".")), path) is expected, (pattern, path)
