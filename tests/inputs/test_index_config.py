"""uv and Poetry index settings read from pyproject.toml, with lines for findings and errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs.index_config import read_index_configs
from bastion._internal.inputs.pyproject import parse_pyproject
from bastion._internal.model import IndexConfig
from tests.conftest import LOCKFILES

UV = """\
[project]
name = "app"

[tool.uv]
index-strategy = "unsafe-best-match"
extra-index-url = ["https://extra.example/simple"]

[[tool.uv.index]]
name = "corp"
url = "https://corp.example/simple"
explicit = true

[[tool.uv.index]]
name = "mirror"
url = "https://mirror.example/simple"
default = true

[tool.uv.sources]
corp-auth = { index = "corp" }
Corp_Tools = [{ index = "corp", marker = "sys_platform == 'linux'" }, { path = "../tools" }]
local = { path = "../local" }
"""


def read(tmp_path: Path, text: str) -> tuple[IndexConfig, ...]:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return read_index_configs(path, text, tomllib.loads(text))


def test_uv_settings(tmp_path: Path) -> None:
    (config,) = read(tmp_path, UV)
    assert config.tool == "uv"
    assert [(i.name, i.explicit, i.last) for i in config.indexes] == [
        ("corp", True, False),
        ("mirror", False, True),
        (None, False, False),
    ]
    assert config.indexes[0].location.line == 9  # the name line of the first [[tool.uv.index]]
    assert config.default_replaced
    assert config.merges_indexes is not None and config.merges_indexes.line == 5
    assert [(p.package, p.index, p.location.line) for p in config.pins] == [
        ("corp-auth", "corp", 19),
        ("corp-tools", "corp", 20),
    ]


def test_poetry_settings(tmp_path: Path) -> None:
    text = """\
[tool.poetry.dependencies]
python = "^3.11"
corp-auth = { version = "^1", source = "corp" }
multi = [{ version = "1", source = "corp", python = "<3.12" }, { version = "2" }]

[tool.poetry.group.dev.dependencies]
corp-dev = { version = "*", source = "corp" }

[[tool.poetry.source]]
name = "PyPI"
priority = "primary"

[[tool.poetry.source]]
name = "corp"
url = "https://corp.example/simple"
priority = "supplemental"

[[tool.poetry.source]]
name = "legacy"
url = "https://legacy.example/simple"
secondary = true
"""
    (config,) = read(tmp_path, text)
    assert config.tool == "poetry"
    assert [(i.name, i.url, i.last) for i in config.indexes] == [
        ("PyPI", "https://pypi.org/simple", False),
        ("corp", "https://corp.example/simple", True),
        ("legacy", "https://legacy.example/simple", True),
    ]
    assert config.default_replaced  # a primary source replaces the implicit PyPI
    assert sorted(p.package for p in config.pins) == ["corp-auth", "corp-dev", "multi"]


def test_real_fixtures_and_projects_without_settings(tmp_path: Path) -> None:
    (poetry,) = parse_pyproject(LOCKFILES / "poetry2" / "pyproject.toml").index_configs
    assert [i.name for i in poetry.indexes] == ["pypi-simple"]
    assert parse_pyproject(LOCKFILES / "uv" / "pyproject.toml").index_configs == ()
    assert read(tmp_path, "[tool.uv]\npackage = false\n") == ()


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('[tool.uv]\nindex = "x"\n', "should be an array of tables", 2),
        ('[[tool.uv.index]]\nname = "x"\n', "needs a 'url'", 2),
        (
            '[[tool.uv.index]]\nname = "x"\nurl = "https://x"\nexplicit = "yes"\n',
            "true or false",
            2,
        ),
        (
            '[[tool.poetry.source]]\nname = "x"\nurl = "https://x"\npriority = "first"\n',
            "unknown source priority",
            2,
        ),
        ('[[tool.poetry.source]]\nname = "corp"\n', "needs a 'url'", 2),
        ('[tool.uv.sources]\nfoo = "bar"\n', "should be a table", 2),
        ('[tool.uv]\nextra-index-url = "https://x"\n', "array of strings", None),
        ("[tool.uv.sources.foo]\nindex = 3\n", "should be a string", None),
    ],
)
def test_bad_settings_name_the_file_and_line(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read(tmp_path, text)
    assert caught.value.path.name == "pyproject.toml"
    if line is not None:
        assert caught.value.line == line


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    uv=st.dictionaries(
        st.sampled_from(["index", "sources", "index-strategy", "extra-index-url", "index-url"]),
        toml_values,
    ),
    poetry=st.dictionaries(st.sampled_from(["source", "dependencies", "group"]), toml_values),
)
def test_fuzz_only_input_errors(uv: dict[str, object], poetry: dict[str, object]) -> None:
    data = {"tool": {"uv": uv, "poetry": poetry}}
    try:
        read_index_configs(Path("pyproject.toml"), "", data)
    except InputError as exc:
        assert exc.message
