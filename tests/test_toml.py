"""The TOML parser: tomli (compiled) agrees with tomllib; hostile text is one InputError."""

from __future__ import annotations

import math
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import tomli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal import toml
from bastion._internal.errors import InputError
from bastion._internal.safe_read import parse_toml

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.text(st.characters(codec="utf-8"), max_size=8)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
    st.dates(),
    st.times().map(lambda t: t.replace(microsecond=0)),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=6)


def _string(text: str) -> str:
    escaped = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            escaped.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            escaped.append(f"\\u{code:04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _value(value: Any) -> str:
    """A TOML 1.0 inline value (every table inline, on one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "inf" if value == math.inf else "-inf" if value == -math.inf else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{_string(k)} = {_value(v)}" for k, v in value.items()) + "}"


def dumps(document: dict[str, Any]) -> str:
    return "".join(f"{_string(key)} = {_value(value)}\n" for key, value in document.items())


def outcome(parse: Any, text: str) -> tuple[str, object]:
    try:
        return "ok", parse(text)
    except ValueError as exc:  # TOMLDecodeError is a ValueError, as is int()'s digit bound
        return "error", type(exc).__name__
    except RecursionError:
        return "error", "RecursionError"


@FUZZ
@given(documents)
def test_tomli_and_tomllib_read_generated_documents_alike(document: dict[str, Any]) -> None:
    text = dumps(document)
    assert toml.loads(text) == tomllib.loads(text) == document


# Text near TOML: every character a parser branches on, and a few it does not.
toml_ish = st.text(alphabet=st.sampled_from(list("ab1_.-+=[]{}\",'\n #:\\tTZeE0x \t\r\x00é")))


@FUZZ
@given(toml_ish)
def test_on_any_text_tomli_accepts_what_tomllib_accepts_with_the_same_values(text: str) -> None:
    ours = outcome(toml.loads, text)
    stdlib = outcome(tomllib.loads, text)
    if stdlib[0] == "ok":
        assert ours == stdlib
    elif ours[0] == "ok":  # only TOML 1.1's additions: an escape, an inline table, a short time
        assert "\\" in text or "{" in text or ":" in text, text


HOSTILE = {
    "deep arrays": ("a = " + "[" * 100_000 + "]" * 100_000, "nested too deeply", None),
    "deep tables": ("a = " + "{b = " * 5_000 + "1" + "}" * 5_000, "nested too deeply", None),
    "huge integer": ("x = 1\ny = " + "7" * 5000 + "\n", "longer than 4,300 digits", 2),
    "duplicate key": ('[[package]]\nname = "a"\nname = "b"\n', "Cannot overwrite a value", 3),
    "duplicate table": ("[a]\nx = 1\n[a]\ny = 2\n", "Cannot declare", 3),
    "unterminated string": ('version = 1\nname = "abc\n', "invalid TOML", 2),
    "NUL in a string": ('name = "a\x00b"\n', "invalid TOML", 1),
    "table redefined by a dotted key": ("[a.b]\nc = 1\n[a]\nb.d = 2\n", "invalid TOML", 4),
}


@pytest.mark.parametrize(("text", "message", "line"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_toml_is_one_input_error_naming_file_and_line(
    text: str, message: str, line: int | None
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_toml(Path("uv.lock"), text)
    assert caught.value.line == line
    assert str(caught.value).startswith("uv.lock")
    assert "\n" not in str(caught.value)
    with pytest.raises((ValueError, RecursionError)):  # tomllib refuses every one as well
        tomllib.loads(text)


def test_the_compiled_tomli_wheel_is_the_parser_in_use() -> None:
    assert toml.TOMLDecodeError is tomli.TOMLDecodeError
    assert toml.implementation() == f"tomli {tomli.__version__} (compiled)"


def test_without_tomli_the_standard_library_parses_with_the_same_errors(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text('version = 1\n[[package]]\nname = "a"\nname = "b"\n')
    program = (
        "import sys; sys.modules['tomli'] = None\n"  # tomli not importable
        "from pathlib import Path\n"
        "from bastion._internal import toml\n"
        "from bastion._internal.errors import InputError\n"
        "from bastion._internal.inputs.uv_lock import parse_uv_lock\n"
        "print(toml.implementation(), toml.loads('a = [1, {b = 2}]'))\n"
        "try: parse_uv_lock(Path(sys.argv[1]))\n"
        "except InputError as e: print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(lock)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "tomllib {'a': [1, {'b': 2}]}",
        f"{lock}:4: invalid TOML: Cannot overwrite a value",
    ]
