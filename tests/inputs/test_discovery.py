"""Finding dependency files in a project tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import discover, is_excluded, read_dependency_file
from bastion._internal.model import SourceFormat
from tests.conftest import LOCKFILES, MakeProject


def test_finds_every_format_and_skips_virtualenvs(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": "-r requirements/base.txt\n",
            "requirements/base.txt": "idna==3.7\n",
            "requirements/dev.txt": "pytest==8.0\n",
            "services/api/uv.lock": (LOCKFILES / "uv/uv.lock").read_text(),
            "services/api/pyproject.toml": (LOCKFILES / "uv/pyproject.toml").read_text(),
            ".venv/lib/requirements.txt": "not==read\n",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/requirements.txt": "not==read\n",
            "node_modules/x/requirements.txt": "not==read\n",
            "docs/notes.txt": "not a requirements file\n",
        }
    )
    inputs = discover(root)
    found = sorted(s.path.relative_to(root).as_posix() for s in inputs.sources)
    # requirements/base.txt is read as part of requirements.txt, not on its own.
    assert found == ["requirements.txt", "requirements/dev.txt", "services/api/uv.lock"]
    assert [d.path.relative_to(root).as_posix() for d in inputs.declared] == [
        "services/api/pyproject.toml"
    ]


def test_exclude_patterns(make_project: MakeProject) -> None:
    root = make_project(
        {"requirements.txt": "idna==3.7\n", "tests/data/requirements.txt": "x==1\n"}
    )
    inputs = discover(root, exclude=["tests/data/**"])
    assert [s.path.name for s in inputs.sources] == ["requirements.txt"]
    assert is_excluded("tests/data", ["tests/data/**"])
    assert is_excluded("a/b.txt", ["*/b.txt"])
    assert not is_excluded("tests/database.txt", ["tests/data/**"])


def test_a_bad_file_anywhere_is_an_input_error(make_project: MakeProject) -> None:
    root = make_project({"sub/poetry.lock": "[[package]\n"})
    with pytest.raises(InputError) as caught:
        discover(root)
    assert caught.value.path == (root / "sub/poetry.lock").resolve()
    assert caught.value.line == 1


def test_explicit_files(tmp_path: Path) -> None:
    custom = tmp_path / "deps.in"
    custom.write_text("idna==3.7\n")
    assert read_dependency_file(custom).format is SourceFormat.REQUIREMENTS
    with pytest.raises(InputError, match="not a recognised dependency file"):
        read_dependency_file(tmp_path / "setup.py")
    with pytest.raises(InputError, match="no such file or directory"):
        discover(tmp_path / "missing")


def test_find_files_depth_limit_hidden_and_skipped(tmp_path: Path) -> None:
    from bastion._internal.inputs.discovery import find_files

    for name in ("a/x.yml", "a/b/x.yml", "a/b/c/x.yml", ".hidden/x.yml", "node_modules/x.yml"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "a")

    def wanted(path: Path) -> bool:
        return path.name == "x.yml"

    shallow = find_files(tmp_path, wanted, max_depth=2)
    assert [p.relative_to(tmp_path).as_posix() for p in shallow] == [
        ".hidden/x.yml",
        "a/b/x.yml",
        "a/x.yml",
    ]
    assert len(find_files(tmp_path, wanted, max_depth=3, limit=2)) == 2
    visible = find_files(tmp_path, wanted, max_depth=3, skip_hidden=True, exclude=("a/b/c/**",))
    assert [p.relative_to(tmp_path).as_posix() for p in visible] == ["a/b/x.yml", "a/x.yml"]
