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


def test_a_bad_discovered_file_is_recorded_and_the_others_are_read(
    make_project: MakeProject,
) -> None:
    root = make_project({"sub/poetry.lock": "[[package]\n", "requirements.txt": "idna==3.7\n"})
    inputs = discover(root)
    assert [s.path.name for s in inputs.sources] == ["requirements.txt"]
    [bad] = inputs.unreadable
    assert bad.path == (root / "sub/poetry.lock").resolve()
    assert bad.line == 1 and "TOML" in bad.reason


# Trimmed from python-poetry/poetry (MIT): tests/fixtures/invalid_lock/poetry.lock stopped
# the whole run with exit 3 although poetry never installs from its fixtures.
POETRY_INVALID_FIXTURE = '[[package]]\nname = "certifi"\nversion = 2020.12.5\n'


def test_fixtures_examples_and_docs_are_skipped_and_counted(make_project: MakeProject) -> None:
    root = make_project(
        {
            "poetry.lock": (LOCKFILES / "poetry2/poetry.lock").read_text(),
            "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n',
            "tests/fixtures/invalid_lock/poetry.lock": POETRY_INVALID_FIXTURE,
            "tests/fixtures/old/pyproject.toml": "[project]\nname = 'fixture'\n",
            "tests/requirements.txt": "pytest==8\n",
            "docs/requirements.txt": "sphinx==7\n",
            "examples/demo/uv.lock": (LOCKFILES / "uv/uv.lock").read_text(),
            "build/lib/requirements.txt": "x==1\n",
            "services/api/requirements.txt": "idna==3.7\n",
        }
    )
    inputs = discover(root)
    read = sorted(s.path.relative_to(root).as_posix() for s in inputs.sources)
    assert read == ["poetry.lock", "services/api/requirements.txt"]
    assert inputs.unreadable == ()  # the invalid fixture was never parsed
    assert len(inputs.skipped) == 6
    summary = inputs.skipped_summary()
    assert summary == (
        "1 input under build/ skipped (not installed by the project): "
        "--include 'build/**' to read them",
        "1 input under docs/ skipped (not installed by the project): "
        "--include 'docs/**' to read them",
        "1 input under examples/ skipped (not installed by the project): "
        "--include 'examples/**' to read them",
        "3 inputs under tests/ skipped (not installed by the project): "
        "--include 'tests/**' to read them",
    )
    included = discover(root, include=["docs/**", "tests/requirements.txt"])
    read = sorted(s.path.relative_to(root).as_posix() for s in included.sources)
    assert read == [
        "docs/requirements.txt",
        "poetry.lock",
        "services/api/requirements.txt",
        "tests/requirements.txt",
    ]
    assert len(included.skipped) == 4
    excluded = discover(root, exclude=["services/**"])
    assert [s.path.name for s in excluded.sources] == ["poetry.lock"]


def test_uv_workspace_members_below_a_skipped_folder_are_read(make_project: MakeProject) -> None:
    # uv workspaces may keep members anywhere, examples/ included (astral-sh/uv docs).
    root = make_project(
        {
            "pyproject.toml": '[project]\nname = "root"\nversion = "1"\n'
            '[tool.uv.workspace]\nmembers = ["examples/*", "packages/*"]\n'
            'exclude = ["examples/legacy"]\n',
            "examples/bot/pyproject.toml": '[project]\nname = "bot"\ndependencies = ["httpx"]\n',
            "examples/bot/requirements.txt": "httpx==0.27.0\n",
            "examples/legacy/pyproject.toml": '[project]\nname = "legacy"\n',
            "examples/bot/docs/requirements.txt": "sphinx==7\n",
            "examples/nomember/requirements.txt": "x==1\n",
        }
    )
    inputs = discover(root)
    declared = sorted(d.path.relative_to(root).as_posix() for d in inputs.declared)
    assert declared == ["examples/bot/pyproject.toml", "pyproject.toml"]
    assert [s.path.relative_to(root).as_posix() for s in inputs.sources] == [
        "examples/bot/requirements.txt"
    ]
    # excluded members, folders without a pyproject.toml and a member's own docs/ are skipped
    skipped = sorted(p.relative_to(root).as_posix() for p in inputs.skipped)
    assert skipped == [
        "examples/bot/docs/requirements.txt",
        "examples/legacy/pyproject.toml",
        "examples/nomember/requirements.txt",
    ]


def test_one_definition_of_the_skipped_folders() -> None:
    from bastion._internal.inputs import discovery

    source = Path(discovery.__file__).read_text()
    assert source.count("SKIPPED_DIRS = ") == 1
    assert {".tox", ".nox", "site-packages", "node_modules"} <= discovery.SKIPPED_DIRS
    assert {"tests", "fixtures", "examples", "docs", "build", "dist"} <= (
        discovery.NOT_INSTALLED_DIRS
    )


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
