"""Shared test helpers: paths to committed fixtures and a small project factory."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
DATA = TESTS / "data"
LOCKFILES = DATA / "lockfiles"
REPO = TESTS.parent
EXAMPLE = REPO / "examples" / "demo-project"

MakeProject = Callable[[dict[str, str]], Path]
# The bundled OSV snapshot is older than the default limits: tests that are not
# about data age accept it with this bastion.toml.
OLD_DATA_OK = "advisory-max-days = 3650\nadvisory-warn-days = 3650\n"


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write ``{relative path: text}`` into a fresh folder and return it."""

    def make(files: dict[str, str]) -> Path:
        for name, text in files.items():
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text), encoding="utf-8")
        return tmp_path

    return make


def run_cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run ``python -m bastion`` in a subprocess and return (exit code, stdout, stderr)."""
    import subprocess

    completed = subprocess.run(
        [sys.executable, "-m", "bastion", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


@pytest.fixture(autouse=True, scope="session")
def _advisory_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the advisory database the tests create out of the user's cache directory."""
    import os

    os.environ["BASTION_CACHE_DIR"] = str(tmp_path_factory.mktemp("bastion-cache"))
