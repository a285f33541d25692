"""The bounded child: memory, wall time, output size and environment, on real processes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bastion._internal.ruff.child import ChildError, run_bounded

MIB = 1024 * 1024


def test_memory_is_bounded(tmp_path: Path) -> None:
    hog = "b = bytearray(2 * 1024 ** 3); print('allocated')"
    completed = run_bounded([sys.executable, "-c", hog], tmp_path, memory=512 * MIB)
    assert completed.returncode != 0
    assert b"MemoryError" in completed.stderr
    assert b"allocated" not in completed.stdout


def test_wall_time_is_bounded(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ChildError, match="did not finish within 1 s"):
        run_bounded([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path, timeout=1)
    assert time.monotonic() - started < 30


def test_output_is_bounded(tmp_path: Path) -> None:
    flood = "import sys\nfor _ in range(64): sys.stdout.write('x' * 65536)\n"
    with pytest.raises(ChildError, match=r"(printed more than 1 MiB|killed by signal)"):
        run_bounded([sys.executable, "-c", flood], tmp_path, max_output=MIB)


def test_ruff_variables_do_not_reach_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUFF_OUTPUT_FORMAT", "github")
    monkeypatch.setenv("BASTION_VISIBLE", "yes")
    show = "import os; print(sorted(k for k in os.environ if k.startswith(('RUFF_', 'BASTION_V'))))"
    completed = run_bounded([sys.executable, "-c", show], tmp_path)
    assert completed.stdout.strip() == b"['BASTION_VISIBLE']"


def test_a_missing_binary_is_a_child_error(tmp_path: Path) -> None:
    with pytest.raises(ChildError):
        run_bounded([str(tmp_path / "no-such-ruff")], tmp_path)
