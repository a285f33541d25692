"""The project's own style gates: mypy (strict), ruff lint and ruff format."""

from __future__ import annotations

import subprocess
import sys

from bastion._internal.controls.ruff_security import find_ruff
from tests.conftest import REPO


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )


def test_mypy_strict() -> None:
    completed = _run(sys.executable, "-m", "mypy")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ruff_lint_and_format() -> None:
    ruff = find_ruff()
    assert ruff is not None
    lint = _run(str(ruff), "check", "--no-cache", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(str(ruff), "format", "--check", "--no-cache", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_version_constant_matches_pyproject() -> None:
    import tomllib

    from bastion._internal.version import VERSION

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == VERSION
