"""``bastion --help`` and ``--version`` answered without click: the very text click prints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bastion._internal.cli import COMMANDS, quick_answer

_CLICK = (
    "import sys\n"
    "from bastion._internal.cli.group import run_click\n"
    "sys.exit(run_click(sys.argv[1:]))\n"
)
_QUICK = "import sys\nfrom bastion._internal.cli import run\nrun()\n"


def _run(code: str, *argv: str, columns: str | None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("columns", ["80", "81", "120", "300", None])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_quick_help_is_what_click_prints(flag: str, columns: str | None) -> None:
    quick = _run(_QUICK, flag, columns=columns)
    click = _run(_CLICK, flag, columns=columns)
    assert quick == click
    assert quick[0] == 0 and "Commands:" in quick[1]
    for name in COMMANDS:
        assert f"\n  {name} " in quick[1]


@pytest.mark.parametrize("columns", ["79", "60", "30"])
def test_narrow_terminals_are_left_to_click(columns: str) -> None:
    env_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = columns
    try:
        assert quick_answer(["--help"]) is None
    finally:
        if env_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = env_columns
    assert _run(_QUICK, "--help", columns=columns) == _run(_CLICK, "--help", columns=columns)


def test_version_is_what_click_prints() -> None:
    assert _run(_QUICK, "--version", columns=None) == _run(_CLICK, "--version", columns=None)


@pytest.mark.parametrize(
    "argv", [[], ["--help", "audit"], ["audit", "--help"], ["--helpx"], ["--version", "-h"]]
)
def test_anything_else_goes_to_click(argv: list[str]) -> None:
    assert quick_answer(argv) is None


def test_a_long_description_wraps_like_click() -> None:
    # proxy's one-line help needs two lines at 78 columns: the quick text wraps it as click does.
    code, out, _ = _run(_QUICK, "--help", columns="80")
    assert code == 0
    continued = [line for line in out.splitlines() if line.startswith(" " * 14)]
    assert continued and all(len(line) <= 78 for line in out.splitlines())
    assert (code, out, _) == _run(_CLICK, "--help", columns="80")
