from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion._internal.workflows.expressions import (
    MAX_DEPTH,
    Binary,
    Call,
    Context,
    ExpressionError,
    Literal,
    embedded,
    flows,
    parse,
    reads,
)


def flow_paths(source: str) -> list[str]:
    return [c.path for c in flows(parse(source))]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("github.head_ref", ["github.head_ref"]),
        ("github.head_ref || github.ref", ["github.head_ref", "github.ref"]),
        ("github.event_name == 'push' && github.sha", ["github.sha"]),
        ("github.event['pull_request']['title']", ["github.event.pull_request.title"]),
        ("GitHub.Event.Issue.Title", ["github.event.issue.title"]),
        ("github.event.commits[0].message", ["github.event.commits.*.message"]),
        ("format('{0} {1}', github.event.issue.body, 'x')", ["github.event.issue.body"]),
        ("toJSON(github.event)", ["github.event"]),
        ("fromJSON(steps.meta.outputs.json).title", ["steps.meta.outputs.json"]),
        (
            "join(github.event.pull_request.labels.*.name, ',')",
            ["github.event.pull_request.labels.*.name"],
        ),
    ],
)
def test_what_flows_into_the_result(source: str, expected: list[str]) -> None:
    assert flow_paths(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "github.head_ref == 'main'",
        "contains(github.event.pull_request.title, 'fix')",
        "startsWith(github.head_ref, 'release/')",
        "!github.event.issue.body",
        "hashFiles('**/requirements.txt')",
        "github.event.pull_request.title != ''",
        "success()",
    ],
)
def test_booleans_and_hashes_carry_no_text(source: str) -> None:
    assert flow_paths(source) == []
    assert reads(parse(source)) is not None


def test_reads_sees_contexts_in_conditions_and_indexes() -> None:
    tree = parse("contains(github.event.pull_request.labels.*.name, matrix.label) && a[b.c]")
    assert sorted(c.path for c in reads(tree)) == [
        "a.*",
        "b.c",
        "github.event.pull_request.labels.*.name",
        "matrix.label",
    ]


def test_literals_and_precedence() -> None:
    tree = parse("a || b && c == 'x''y'")
    assert isinstance(tree, Binary) and tree.op == "||"
    assert isinstance(tree.right, Binary) and tree.right.op == "&&"
    inner = tree.right.right
    assert isinstance(inner, Binary) and inner.right == Literal("x'y")
    assert parse("0x1F") == Literal(31.0)
    assert parse("null") == Literal(None)
    assert parse("TRUE") == Literal(True)
    assert parse("always()") == Call("always", ())
    assert parse("(a)") == Context("a")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("", "empty"),
        ("a ==", "end of expression"),
        ("github.event.", "end of expression"),
        ("a b", "unexpected 'b'"),
        ("evil(github.sha)", "unknown function"),
        ("'unterminated", "unexpected character"),
        ("contains(a b)", "expected ',' or"),
        ("a.'x'", "property name"),
        ("a ~ b", "unexpected character"),
    ],
)
def test_errors_say_what_and_where(source: str, problem: str) -> None:
    with pytest.raises(ExpressionError, match=problem) as info:
        parse(source)
    assert 0 <= info.value.offset <= len(source)


def test_nesting_and_length_are_bounded() -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("(" * (MAX_DEPTH + 5) + "a" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("!" * (MAX_DEPTH + 5) + "a")
    with pytest.raises(ExpressionError, match="longer than"):
        parse("a || " * 5000 + "a")


def test_embedded_expressions_and_quoted_braces() -> None:
    text = "echo ${{ format('}}', a.b) }} then ${{ c }} and $HOME"
    parts = list(embedded(text))
    assert [p.source.strip() for p in parts] == ["format('}}', a.b)", "c"]
    assert text[parts[1].start : parts[1].end] == "${{ c }}"
    assert list(embedded("no expressions, ${ HOME }")) == []
    with pytest.raises(ExpressionError, match="without its closing") as info:
        list(embedded("ok ${{ a }} broken ${{ b"))
    assert info.value.offset == 19


@given(st.text(alphabet="abc.()[]'!=&|<> ,*0x1", max_size=60))
def test_parser_never_fails_otherwise(source: str) -> None:
    try:
        tree = parse(source)
    except ExpressionError:
        return
    list(flows(tree))
    list(reads(tree))


@given(st.text(max_size=200))
def test_embedded_never_fails_otherwise(text: str) -> None:
    try:
        for part in embedded(text):
            assert text[part.start : part.start + 3] == "${{"
            assert text[part.end - 2 : part.end] == "}}"
    except ExpressionError:
        pass
