"""The engine exempts the inputs it read from garbage collection only in a process the CLI froze."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import LOCKFILES

PROGRAM = """
import gc, shutil, sys
from pathlib import Path
from bastion._internal.engine import run_check
from bastion._internal.controls.pinning import PinningControl
if sys.argv[2] == "frozen":
    gc.freeze()
before = gc.get_freeze_count()
report = run_check(Path(sys.argv[1]), controls=[PinningControl()])
packages = [p for s in report.sources for p in s.packages]
print(before, gc.get_freeze_count() - before, len(packages))
"""


def run(project: Path, mode: str) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(project), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [int(value) for value in done.stdout.split()]


def test_inputs_are_frozen_after_reading_when_the_process_was_frozen(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_bytes((LOCKFILES / "uv" / "uv.lock").read_bytes())
    before, added, packages = run(tmp_path, "frozen")
    assert before > 0 and packages == 11
    assert added > 11 * 3  # each package, its location and its hashes at least


def test_a_caller_that_froze_nothing_keeps_its_collector_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_bytes((LOCKFILES / "uv" / "uv.lock").read_bytes())
    assert run(tmp_path, "library") == [0, 0, 11]
