"""Hostile Ruff settings: any [tool.ruff] either becomes valid options or one InputError."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.ruff.settings import RuffSettings, read_settings

_TEXT = st.text(min_size=0, max_size=40)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    [
        "exclude",
        "extend-exclude",
        "per-file-ignores",
        "extend-per-file-ignores",
        "select",
        "extend-select",
        "extend",
        "lint",
    ]
)


def _toml(value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else "?" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_any_table_is_options_or_one_input_error(tmp_path: Path, table: dict[str, object]) -> None:
    body = "\n".join(f"{key} = {_toml(value)}" for key, value in table.items())
    (tmp_path / "ruff.toml").write_text(body + "\n")
    try:
        found = read_settings(tmp_path)
    except InputError as exc:
        assert "ruff.toml" in exc.one_line()
        return
    assert isinstance(found, RuffSettings)
    options = found.options(["vendor/**"])
    for flag, value in zip(options[::2], options[1::2], strict=True):
        if flag == "--config":  # every --config value is valid TOML
            tomllib.loads(value)
        else:
            assert flag == "--ignore" and all(c.startswith("S") for c in value.split(","))
