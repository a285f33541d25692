"""Safe YAML: plain values only, alias bombs and deep nesting bounded, errors with lines."""

from __future__ import annotations

from pathlib import Path

import pytest
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
