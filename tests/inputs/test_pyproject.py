"""Declared dependencies: PEP 621, PEP 735 groups, Poetry tables."""

from __future__ import annotations

import pytest

from bastion._internal.errors import InputError
from bastion._internal.inputs.pyproject import parse_pyproject
from tests.conftest import LOCKFILES, MakeProject


def test_pep621_extras_and_dependency_groups_with_includes(make_project: MakeProject) -> None:
    root = make_project(
        {
            "pyproject.toml": """\
            [project]
            name = "My_App"
            dependencies = ["Requests>=2.31", "click; python_version < '3.12'"]
            [project.optional-dependencies]
            yaml = ["pyyaml>=6"]
            [dependency-groups]
            test = ["pytest>=8"]
            dev = [{include-group = "test"}, "ruff"]
            """
        }
    )
    project = parse_pyproject(root / "pyproject.toml")
    assert project.name == "my-app"
    got = [(d.name, d.specifier, d.group, d.markers) for d in project.dependencies]
    assert got == [
        ("requests", ">=2.31", "main", None),
        ("click", "", "main", 'python_version < "3.12"'),
        ("pyyaml", ">=6", "extra:yaml", None),
        ("pytest", ">=8", "group:test", None),
        ("pytest", ">=8", "group:dev", None),
        ("ruff", "", "group:dev", None),
    ]
    assert project.dependencies[0].location.line == 3


def test_poetry_tables_convert_caret_and_tilde() -> None:
    project = parse_pyproject(LOCKFILES / "project-poetry1/pyproject.toml")
    got = {(d.name, d.specifier, d.group) for d in project.dependencies}
    assert ("requests", "==2.31.0", "main") in got
    assert ("jinja2", ">=3.1", "main") in got
    assert ("pyyaml", ">=6", "extra:poetry") in got
    assert ("iniconfig", "", "group:dev") in got
    assert all(d.name != "python" for d in project.dependencies)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[project]\ndependencies = ["requests>>2"]\n', "invalid requirement"),
        ("[project]\ndependencies = 'requests'\n", "array of strings"),
        (
            '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n',
            "cycle",
        ),
        ('[dependency-groups]\na = [{include-group = "zzz"}]\n', "unknown dependency group"),
    ],
)
def test_bad_declarations_are_input_errors(
    make_project: MakeProject, body: str, message: str
) -> None:
    root = make_project({"pyproject.toml": body})
    with pytest.raises(InputError, match=message):
        parse_pyproject(root / "pyproject.toml")
