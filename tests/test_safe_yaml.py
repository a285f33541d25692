"""Safe YAML: plain values only, alias bombs and deep nesting bounded, errors with lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal import safe_yaml
from bastion._internal.errors import InputError

P = Path("w.yml")


def test_plain_values_and_timestamps_stay_strings() -> None:
    text = "a: 1\nb: [true, null, 1.5, 'x']\nwhen: 2024-01-01T00:00:00Z\nhex: 0x10\n"
    assert safe_yaml.load(P, text) == {
        "a": 1,
        "b": [True, None, 1.5, "x"],
        "when": "2024-01-01T00:00:00Z",
        "hex": 16,
    }
    assert safe_yaml.load(P, "") is None
    # GitHub's "on:" key is a YAML 1.1 boolean; it must survive as a key.
    assert safe_yaml.load(P, "on: push\n") == {True: "push"}


def test_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(InputError, match="too many nodes"):
        safe_yaml.load(P, "\n".join(lines))


def test_small_aliases_are_followed() -> None:
    assert safe_yaml.load(P, "a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("run: a\nrun: b\n", "duplicate key 'run'", 2),
        ("a: [\n", "invalid YAML", 2),
        ("x:\n  <<: {a: 1}\n", "merge keys", 2),
        ("x: !!python/object/apply:os.system ['id']\n", "unsupported YAML tag", 1),
        ("x: !custom {a: 1}\n", "unsupported YAML tag", 1),
        ("x: " + "[" * 300 + "]" * 300 + "\n", "nested deeper", 1),
        ("x: " + "1" * 5000 + "\n", "bad int value", 1),
        ("? [a, b]\n: c\n", "mapping key must be a plain value", 1),
        ("a: 1\n---\nb: 2\n", "invalid YAML", 2),
    ],
)
def test_hostile_documents_are_clear_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(InputError, match=message) as caught:
        safe_yaml.load(P, text)
    assert caught.value.line == line
    assert caught.value.one_line().startswith(f"w.yml:{line}: ")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_values_or_an_input_error(text: str) -> None:
    try:
        safe_yaml.load(P, text)
    except InputError as exc:
        assert exc.path == P


# Issue 14.1: libyaml's composer recursed once per level and 25,000 levels of
# "[" (50 KB) killed the process with SIGSEGV. Run in a child process so that a
# regression fails this test instead of killing pytest.
_DEEP_FLOW = "on: " + "[" * 25_000 + "]" * 25_000 + "\njobs: {}\n"
_DEEP_BLOCK = "on:\n" + "- " * 25_000 + "x\njobs: {}\n"
_DEEP_MAPPING = "on: " + "{a: " * 25_000 + "}" * 25_000 + "\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [(_DEEP_FLOW, 1), (_DEEP_BLOCK, 2), (_DEEP_MAPPING, 1)],
    ids=["flow", "block", "map"],
)
def test_deep_nesting_is_an_error_not_a_segfault(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "deep.yml"
    path.write_text(text)
    program = (
        "import sys; from pathlib import Path; from bastion._internal import safe_yaml\n"
        "from bastion._internal.errors import InputError\n"
        "p = Path(sys.argv[1])\n"
        "try: safe_yaml.load(p, p.read_text())\n"
        "except InputError as e: print(e.one_line()); sys.exit(0)\n"
        "sys.exit(5)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    expected = f"{path}:{line}: YAML nested deeper than {safe_yaml.MAX_DEPTH} levels"
    assert done.stdout.strip() == expected


def test_the_depth_bound_is_checked_while_composing() -> None:
    # compose() alone (workflows call it before converting) refuses the depth.
    with pytest.raises(InputError, match="nested deeper"):
        safe_yaml.compose(P, _DEEP_FLOW)
    node = safe_yaml.compose(P, "a: " + "[" * 150 + "]" * 150)
    assert isinstance(node, yaml.MappingNode)


def test_composed_graph_keeps_lines_tags_and_anchors() -> None:
    node = safe_yaml.compose(P, "a: &x [1, b]\nb: *x\nc: !!str 3\n")
    assert isinstance(node, yaml.MappingNode)
    (_, a_value), (b_key, b_value), (_, c_value) = node.value
    assert safe_yaml.line_of(b_key) == 2
    assert b_value is a_value  # an alias is the same node, as PyYAML composes it
    tags = [item.tag for item in a_value.value]
    assert tags == ["tag:yaml.org,2002:int", "tag:yaml.org,2002:str"]
    assert c_value.tag == "tag:yaml.org,2002:str"
    assert a_value.end_mark is not None


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: *nowhere\n", "undefined alias 'nowhere'", 1),
        ("a: &x 1\nb: &x 2\n", "duplicate anchor 'x'", 2),
        ("x: &a [*a]\n", "nested deeper", 1),  # a self-referencing anchor is a cycle
    ],
)
def test_anchor_misuse_is_a_clear_error(text: str, message: str, line: int) -> None:
    with pytest.raises(InputError, match=message) as caught:
        safe_yaml.load(P, text)
    assert caught.value.line == line


def test_composition_matches_pyyaml_on_a_real_workflow() -> None:
    workflows = sorted((Path(__file__).parents[1] / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for path in workflows:
        content = path.read_text()
        expected = yaml.load(content, Loader=yaml.CSafeLoader)
        # safe_yaml keeps timestamps as strings; the repository's workflows have none.
        assert safe_yaml.load(path, content) == expected
