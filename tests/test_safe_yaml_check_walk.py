"""``safe_yaml.check``'s level-by-level walk (``_passes``) against the exact recursive ``_check``.

``check`` trusts the walk only when it says a tree passes; otherwise the exact
walk reports the first error. So the walk must never pass a tree the exact walk
refuses, and (to be worth having) pass every tree the exact walk accepts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal import safe_yaml
from bastion._internal.errors import InputError

P = Path("walk.yml")


def _exact_accepts(node: yaml.Node, max_nodes: int) -> bool:
    try:
        safe_yaml._check(P, node, safe_yaml._Budget(max_nodes), 0)
    except InputError:
        return False
    return True


def _agree(text: str, max_nodes: int = 60) -> bool | None:
    try:
        node = safe_yaml.compose(P, text)
    except InputError:
        return None
    if node is None:
        return None
    passes = safe_yaml._passes(P, node, max_nodes)
    assert passes == _exact_accepts(node, max_nodes), text
    return passes


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        ("on: push\njobs: {a: {steps: [{run: x}]}}\n", True),
        ("run: a\nrun: b\n", False),
        ("a: {1: x, 1.0: y}\n", False),
        ("a: {on: 1, true: 2}\n", False),  # both keys are the boolean true
        ("x:\n  <<: {a: 1}\n", False),
        ("x: !custom {a: 1}\n", False),
        ("x: !!python/object/apply:os.system ['id']\n", False),
        ("? [a, b]\n: c\n", False),
        ("a: !!int x\n", False),
        ("x: &a [*a]\n", False),  # recursive alias: refused by depth or budget
        ("a: !!map [1]\n", True),  # a sequence tagged map: the exact walk accepts it too
        ("a: !!str 1\nb: 2020-01-01\nc: !!binary aGk=\n", True),
    ],
)
def test_the_walk_passes_exactly_what_the_exact_check_accepts(text: str, passes: bool) -> None:
    assert _agree(text) is passes


@pytest.mark.parametrize("values", [58, 59, 60])
def test_the_node_budget_boundary_is_the_same(values: int) -> None:
    # the root mapping and its values are counted, not its keys: 1 + values nodes
    text = "".join(f"k{i}: v\n" for i in range(values))
    assert _agree(text, max_nodes=60) is (values + 1 <= 60)


@pytest.mark.parametrize("levels", [199, 200, 201])
def test_the_depth_boundary_through_aliases_is_the_same(levels: int) -> None:
    # 120 levels behind an anchor, reached from under more levels: only the walk
    # through the alias is deeper than MAX_DEPTH; the composer allowed each half.
    inner = levels - 120
    text = "a: &x " + "[" * 120 + "1" + "]" * 120 + "\nb: " + "[" * inner + "*x" + "]" * inner
    node = safe_yaml.compose_events(P, text + "\n")
    assert node is not None
    passes = safe_yaml._passes(P, node, 10_000)
    assert passes == _exact_accepts(node, 10_000)
    # inner brackets at depths 1..inner, 120 more behind the alias, the scalar at inner + 121
    assert passes is (inner + 121 <= safe_yaml.MAX_DEPTH)


def test_an_alias_bomb_stops_at_the_budget_without_growing_a_level() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    node = safe_yaml.compose(P, "\n".join(lines) + "\n")
    assert node is not None
    assert safe_yaml._passes(P, node, 1_000_000) is False  # 10**12 visits: refused, at once
    with pytest.raises(InputError, match="too many nodes"):
        safe_yaml.check(P, node, max_nodes=1_000_000)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1:-[]{},&*!'\"#?<| \n")), max_size=60))
def test_the_walk_agrees_on_fragments(text: str) -> None:
    _agree(text)


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-100, 100), st.text(alphabet="ab1<:", max_size=4)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_SCALARS, inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(_VALUES, st.integers(5, 40))
def test_the_walk_agrees_on_generated_documents(value: object, max_nodes: int) -> None:
    _agree(yaml.safe_dump(value, default_flow_style=None), max_nodes)
