"""Safe YAML's two composers agree: the C composer (shallow text) and the explicit stack.

``safe_yaml.compose`` hands a text whose nesting ``depth_bound`` proves shallow
to libyaml's C composer and anything else, or anything the C composer refuses,
to ``compose_events``. These tests compare the two node graphs (class, tag,
value, style, start and end marks, shared nodes) and the two errors (message
and line) on the real workflow corpus and on generated YAML.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal import safe_yaml
from bastion._internal.errors import InputError

P = Path("w.yml")
REAL = Path(__file__).parent / "data" / "workflows" / "real"


def _marks(mark: Any) -> tuple[int, int, int] | None:
    return None if mark is None else (mark.line, mark.column, mark.index)


def _shape(root: yaml.Node | None) -> Any:
    """A comparable picture of a node graph; a node met again is named by its first visit."""
    seen: dict[int, int] = {}

    def walk(node: yaml.Node) -> Any:
        if id(node) in seen:
            return ("alias", seen[id(node)])
        seen[id(node)] = len(seen)
        head = (
            type(node).__name__,
            node.tag,
            _marks(node.start_mark),
            _marks(node.end_mark),
            getattr(node, "style", None),
            getattr(node, "flow_style", None),
        )
        if isinstance(node, yaml.ScalarNode):
            return (*head, node.value)
        if isinstance(node, yaml.MappingNode):
            return (*head, [(walk(k), walk(v)) for k, v in node.value])
        return (*head, [walk(item) for item in node.value])

    return None if root is None else walk(root)


def _outcome(compose: Any, text: str) -> Any:
    try:
        return ("tree", _shape(compose(P, text)))
    except InputError as exc:
        return ("error", exc.message, exc.line)


def _agree(text: str) -> Any:
    fast = _outcome(safe_yaml.compose, text)
    assert fast == _outcome(safe_yaml.compose_events, text)
    return fast


def _real_files() -> list[Path]:
    return sorted(p for p in REAL.rglob("*") if p.suffix in (".yml", ".yaml"))


def test_the_real_corpus_composes_the_same_on_both_paths() -> None:
    files = _real_files()
    assert len(files) > 100
    fast_path = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        outcome = _agree(text)
        assert outcome[0] == "tree", (path, outcome)
        fast_path += safe_yaml.depth_bound(text) <= safe_yaml.C_COMPOSER_MAX_DEPTH
    assert fast_path > len(files) * 3 // 4  # most real workflows take the C composer


def test_shallow_text_takes_the_c_composer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the explicit-stack path was used")

    text = (REAL / "psf__requests" / ".github" / "workflows").glob("*.yml")
    first = next(iter(sorted(text))).read_text(encoding="utf-8")
    monkeypatch.setattr(safe_yaml, "compose_events", refuse)
    assert isinstance(safe_yaml.compose(P, first), yaml.MappingNode)
    with pytest.raises(AssertionError, match="explicit-stack"):  # a deep text does not
        safe_yaml.compose(P, "a: " + "[" * 2_000 + "]" * 2_000)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---\n",
        "a: 1\n---\nb: 2\n",
        "a: *nowhere\n",
        "a: &x 1\nb: &x 2\n",
        "x: &a [*a]\n",
        "a: [\n",
        "a: b: c\n",
        "a: &x [1, 2]\nb: *x\nc: *x\n",
        "? [a, b]\n: c\n",
        "x: !!python/object/apply:os.system ['id']\n",
        "'a': \"b\"\nc: |\n  one\n  two\nd: >-\n  folded\n",
        "[a: b, c: [d: e]]\n",
        "\ufeffa: 1\r\nb: 2\r\n",
        "a:\u2028  b\n",
    ],
)
def test_edge_documents_agree(text: str) -> None:
    _agree(text)


@pytest.mark.parametrize("depth", [150, 199, 200, 201, 260])
@pytest.mark.parametrize("shape", ["[{}]", "{a: {}}", "- {}"])
def test_the_depth_limit_is_the_same_on_both_paths(depth: int, shape: str) -> None:
    opening, closing = {"[{}]": ("[", "]"), "{a: {}}": ("{a: ", "}"), "- {}": ("", "")}[shape]
    if shape == "- {}":  # depth block sequences
        text = "".join("  " * level + "-\n" for level in range(depth)) + "  " * depth + "x\n"
        collections = depth
    else:  # a mapping holding depth flow collections
        text = "k: " + opening * depth + "1" + closing * depth + "\n"
        collections = depth + 1
    outcome = _agree(text)
    assert (outcome[0] == "error") == (collections > safe_yaml.MAX_DEPTH)


def test_aliases_are_walked_once_for_the_depth() -> None:
    # nine levels of nine references each: 9**9 paths through a graph of 90 nodes
    lines = ["a0: &a0 [x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n" + "pad: " + "[" * 120 + "]" * 120 + "\n"
    assert safe_yaml.depth_bound(text) > safe_yaml.MAX_DEPTH  # so the walk runs
    outcome = _agree(text)
    assert outcome[0] == "tree"


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(_VALUES, st.sampled_from([True, False, None]), st.integers(2, 8), st.integers(20, 120))
def test_generated_documents_agree(value: Any, flow: bool | None, indent: int, width: int) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, indent=indent, width=width)
    outcome = _agree(text)
    assert outcome[0] == "tree"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!'\"#?|> \n\t")), max_size=80))
def test_generated_fragments_agree(text: str) -> None:
    _agree(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_agrees(text: str) -> None:
    _agree(text)


@settings(max_examples=100, deadline=None)
@given(_VALUES, st.sampled_from([True, False, None]))
def test_the_bound_is_above_the_real_depth(value: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow)

    def depth(node: yaml.Node) -> int:
        if isinstance(node, yaml.ScalarNode):
            return 1
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        return 1 + max((depth(c) for c in children), default=0)

    node = safe_yaml.compose_events(P, text)
    assert node is not None
    assert depth(node) <= safe_yaml.depth_bound(text)


def _checked(text: str) -> tuple[Any, ...]:
    """``check``'s outcome beside ``to_python``'s: the same error, or both accept."""
    try:
        node = safe_yaml.compose(P, text)
    except InputError:
        return ("not composed",)
    if node is None:
        return ("empty",)
    outcomes: list[tuple[Any, ...]] = []
    for validate in (safe_yaml.check, safe_yaml.to_python):
        try:
            validate(P, node, max_nodes=60)
            outcomes.append(("ok",))
        except InputError as exc:
            outcomes.append(("error", exc.message, exc.line))
    assert outcomes[0] == outcomes[1], text
    return outcomes[0]


@pytest.mark.parametrize(
    "text",
    [
        "run: a\nrun: b\n",
        "a: 1\nb: {on: 1, true: 2}\n",
        "x:\n  <<: {a: 1}\n",
        "x: !!python/object/apply:os.system ['id']\n",
        "x: !custom {a: 1}\n",
        "x: " + "1" * 5000 + "\n",
        "? [a, b]\n: c\n",
        "x: &a [*a]\n",
        "a: &x [1, 2, 3, 4, 5, 6, 7, 8]\nb: [*x, *x, *x, *x, *x, *x, *x, *x]\n",
        "a: !!int x\nb: !!float y\n",
        "a: [1, {b: 2, b: 3}]\n",
        "a: {1: x, 1.0: y}\n",
    ],
)
def test_check_refuses_what_to_python_refuses(text: str) -> None:
    assert _checked(text)[0] == "error"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1:-[]{},&*!'\"#?<| \n")), max_size=60))
def test_check_and_to_python_agree_on_fragments(text: str) -> None:
    _checked(text)


def test_the_deepest_text_the_c_composer_gets_fits_a_small_thread_stack(tmp_path: Path) -> None:
    # One column more per level: the deepest block nesting depth_bound lets through.
    depth = 490
    text = "".join(" " * i + "-\n" for i in range(depth)) + " " * depth + "x\n"
    assert safe_yaml.depth_bound(text) <= safe_yaml.C_COMPOSER_MAX_DEPTH
    path = tmp_path / "deep.yml"
    path.write_text(text)
    program = (
        "import sys, threading; from pathlib import Path; from bastion._internal import safe_yaml\n"
        "from bastion._internal.errors import InputError\n"
        "threading.stack_size(512 * 1024)\n"
        "out = []\n"
        "def run():\n"
        "    p = Path(sys.argv[1])\n"
        "    try: safe_yaml.load(p, p.read_text())\n"
        "    except InputError as e: out.append(e.one_line())\n"
        "t = threading.Thread(target=run); t.start(); t.join(); print(out[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    # the C composer's tree is deeper than MAX_DEPTH: the explicit stack gives the error
    expected = f"{path}:{safe_yaml.MAX_DEPTH + 1}: YAML nested deeper than 200 levels"
    assert done.stdout.strip() == expected
