"""Real ruff on small hostile trees: what it may read, its bounds, and failing closed.

Reproductions of issue 14 items 2 and 10 and issue 13 item 6.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bastion._internal.config import Config
from bastion._internal.controls.base import Project
from bastion._internal.controls.ruff_security import RuffSecurityControl
from bastion._internal.inputs.discovery import ProjectInputs
from bastion._internal.model import ControlResult, ControlStatus
from tests.conftest import MakeProject

SHELL = 'import subprocess\n\n\ndef run(name):\n    subprocess.call("echo " + name, shell=True)\n'
TEST_NOISE = """\
import random


def test_login():
    password = "hunter2"
    login(password="hunter2")
    assert random.random() < 1
"""
BOUND_SECONDS = 60  # generous on a loaded machine; the unbounded runs took minutes


def run(root: Path, config: Config | None = None) -> ControlResult:
    started = time.monotonic()
    project = Project(root, ProjectInputs(root, (), ()), config or Config())
    result = RuffSecurityControl().run(project)
    assert time.monotonic() - started < BOUND_SECONDS
    return result


def codes(result: ControlResult) -> list[tuple[str, str]]:
    return sorted(
        (f.rule_id, f.location.path.name) for f in result.findings if f.location is not None
    )


def test_test_folders_get_the_recommended_ignores(make_project: MakeProject) -> None:
    root = make_project(
        {
            "tests/test_login.py": TEST_NOISE,
            "src/app/conftest.py": TEST_NOISE,
            "src/app/login.py": TEST_NOISE,
            "pyproject.toml": "[tool.ruff]\nline-length = 100\n",
        }
    )
    result = run(root)
    assert result.status is ControlStatus.FAIL
    # Only the application module reports them; test files and conftest do not.
    assert {name for _, name in codes(result)} == {"login.py"}
    assert {code for code, _ in codes(result)} == {"S101", "S105", "S106", "S311"}
    assert "S101, S105, S106, S311 not reported under test folders" in result.detail
    assert "3 files checked" in result.detail


def test_a_project_that_selects_s_keeps_its_own_choice(make_project: MakeProject) -> None:
    root = make_project(
        {
            "tests/test_login.py": TEST_NOISE,
            "pyproject.toml": (
                '[tool.ruff.lint]\nextend-select = ["S"]\n'
                '[tool.ruff.lint.per-file-ignores]\n"tests/*" = ["S101"]\n'
            ),
        }
    )
    result = run(root)
    assert {code for code, _ in codes(result)} == {"S105", "S106", "S311"}
    assert "not reported under test folders" not in result.detail


def test_everything_excluded_is_an_error_not_a_pass(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL, "ruff.toml": 'exclude = ["*"]\n'})
    result = run(root)
    assert result.status is ControlStatus.ERROR
    assert result.detail.startswith("no Python file checked")
    assert "0 files checked" in result.detail


def test_s_switched_off_everywhere_is_an_error_not_a_pass(make_project: MakeProject) -> None:
    root = make_project(
        {"app/main.py": SHELL, "pyproject.toml": '[tool.ruff.lint.per-file-ignores]\n"*" = ["S"]\n'}
    )
    result = run(root)
    assert result.status is ControlStatus.ERROR
    assert "1 files have every S rule switched off" in result.detail


def test_part_switched_off_is_said(make_project: MakeProject) -> None:
    root = make_project(
        {
            "app/main.py": SHELL,
            "gen/made.py": SHELL,
            "pyproject.toml": '[tool.ruff.lint.per-file-ignores]\n"gen/*" = ["ALL"]\n',
        }
    )
    result = run(root)
    assert result.status is ControlStatus.FAIL
    assert codes(result) == [("S602", "main.py")]
    assert "1 file checked" in result.detail
    assert "1 files have every S rule switched off" in result.detail


def test_extend_dev_zero_is_not_followed(make_project: MakeProject) -> None:
    zero = '[tool.ruff]\nextend = "/dev/zero"\n'
    root = make_project({"app/main.py": SHELL, "pyproject.toml": zero})
    result = run(root)
    assert result.status is ControlStatus.FAIL
    assert codes(result) == [("S602", "main.py")]
    assert 'extend = "/dev/zero" in pyproject.toml not followed' in result.detail


def test_extend_inside_the_project_is_read(make_project: MakeProject) -> None:
    root = make_project(
        {
            "app/main.py": SHELL,
            "gen/made.py": SHELL,
            "configs/base.toml": 'extend-exclude = ["../gen"]\n',
            "ruff.toml": 'extend = "configs/base.toml"\n',
        }
    )
    result = run(root)
    assert codes(result) == [("S602", "main.py")]


def test_pyproject_linked_to_dev_zero_is_refused(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL})
    (root / "pyproject.toml").symlink_to("/dev/zero")
    result = run(root)
    assert result.status is ControlStatus.FAIL  # checked with Ruff's defaults instead
    assert codes(result) == [("S602", "main.py")]
    assert "symbolic link" in result.detail and "checked with Ruff's defaults" in result.detail


def test_python_file_linked_to_dev_zero_is_refused(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL})
    (root / "app" / "zero.py").symlink_to("/dev/zero")
    (root / "app" / "outside.py").symlink_to("/etc/hostname")
    result = run(root)
    assert result.status is ControlStatus.ERROR  # fail closed, and the finding is kept
    assert codes(result) == [("S602", "main.py")]
    assert "2 not checked" in result.detail
    assert "app/zero.py: symbolic link out of the project" in result.detail


def test_fifo_named_like_python_is_refused(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL})
    os.mkfifo(root / "app" / "x.py")
    result = run(root)
    assert result.status is ControlStatus.ERROR
    assert "app/x.py: not a regular file" in result.detail


def test_harmless_links_inside_the_project_are_counted(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL})
    (root / "alias.py").symlink_to(root / "app" / "main.py")
    (root / "gone.py").symlink_to(root / "nowhere.py")
    result = run(root)
    assert result.status is ControlStatus.FAIL
    assert "2 symbolic links not followed" in result.detail


def test_a_file_ruff_cannot_read_is_an_error(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL})
    (root / "app" / "latin1.py").write_bytes(b'name = "caf\xe9"\n')
    result = run(root)
    assert result.status is ControlStatus.ERROR
    assert "latin1.py: stream did not contain valid UTF-8" in result.detail
    assert codes(result) == [("S602", "main.py")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.ruff.lint.per-file-ignores]\n"x" = ["S; rm"]\n', "invalid rule code"),
        ("[tool.ruff]\nexclude = [1]\n", "invalid glob"),
        ('[tool.ruff]\nexclude = ["a\\u001b[31m"]\n', "invalid glob"),
        ("[tool.ruff]\nlint = 3\n", "'lint' should be a table"),
    ],
)
def test_invalid_settings_are_named_and_defaults_used(
    make_project: MakeProject, text: str, message: str
) -> None:
    # Never passed to Ruff; Ruff's defaults check a superset, so nothing is hidden.
    root = make_project({"app/main.py": SHELL, "pyproject.toml": text})
    result = run(root)
    assert result.status is ControlStatus.FAIL
    assert codes(result) == [("S602", "main.py")]
    assert message in result.detail
    assert "pyproject.toml" in result.detail and "checked with Ruff's defaults" in result.detail


def test_bastion_excludes_still_apply(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": SHELL, "vendored/lib/bad.py": SHELL})
    result = run(root, Config(exclude=("vendored/**",)))
    assert codes(result) == [("S602", "main.py")]


def test_a_tree_without_python_is_not_configured(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "idna==3.7\n", "docs/index.md": "# docs\n"})
    result = run(root)
    assert result.status is ControlStatus.NOT_CONFIGURED
    assert result.detail == "no Python files in the project"


def test_sim_and_slf_selections_are_not_s(make_project: MakeProject) -> None:
    # SIM, SLF, SLOT start with S but are not flake8-bandit: the test-folder ignores still apply.
    root = make_project(
        {
            "tests/test_login.py": TEST_NOISE,
            "pyproject.toml": '[tool.ruff.lint]\nextend-select = ["SIM", "SLF"]\n',
        }
    )
    result = run(root)
    assert result.status is ControlStatus.PASS
    assert "not reported under test folders" in result.detail


def test_gitignored_folders_stay_out_as_with_ruff_check_dot(make_project: MakeProject) -> None:
    from tests.conftest import run_git

    root = make_project(
        {"app/main.py": SHELL, "env/lib/site/vendored.py": SHELL, ".gitignore": "env/\n"}
    )
    run_git(root, "init", "-q")
    result = run(root)
    assert codes(result) == [("S602", "main.py")]
    assert "1 file checked" in result.detail


def test_the_projects_global_ignores_apply_and_a_blanket_one_fails_closed(
    make_project: MakeProject,
) -> None:
    root = make_project(
        {
            "app/login.py": TEST_NOISE + SHELL,
            "pyproject.toml": (
                '[tool.ruff.lint]\nextend-select = ["S"]\nignore = ["S101", "E501"]\n'
            ),
        }
    )
    result = run(root)
    assert {code for code, _ in codes(result)} == {"S105", "S106", "S311", "S602"}
    (root / "pyproject.toml").write_text('[tool.ruff.lint]\nextend-ignore = ["S"]\n')
    blanket = run(root)
    assert blanket.status is ControlStatus.ERROR
    assert "1 files have every S rule switched off" in blanket.detail
