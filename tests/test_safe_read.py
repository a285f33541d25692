"""The shared bounded reader and loaders: every hostile file is one InputError, fast."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bastion._internal import safe_read
from bastion._internal.errors import InputError, UsageError
from bastion._internal.safe_read import (
    excerpt,
    lock_limit,
    parse_json,
    parse_toml,
    read_lock_text,
    read_text,
)
from tests.conftest import LOCKFILES, run_cli

HUGE = "1" * 5000  # Python refuses int() of more than 4,300 digits


def test_dev_zero_is_refused_without_reading_it() -> None:
    started = time.monotonic()
    with pytest.raises(InputError, match="not a regular file"):
        read_text(Path("/dev/zero"))
    assert time.monotonic() - started < 2


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "requirements.txt"
    os.mkfifo(fifo)
    program = (
        "import sys; from pathlib import Path\n"
        "from bastion._internal.safe_read import read_text\n"
        "from bastion._internal.errors import InputError\n"
        "try: read_text(Path(sys.argv[1]))\n"
        "except InputError as e: print(e.message)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # before the fix the open() blocked forever
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "not a regular file" in done.stdout


def test_directories_missing_files_and_size(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_text(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        read_text(tmp_path / "nothing")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 1001)
    with pytest.raises(InputError, match="larger than the 1,000 bytes limit"):
        read_text(big, limit=1000)
    assert read_text(big, limit=1001) == "a" * 1001


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"version = 1\n\n[[package]]\nname = 'a'\nsize = {HUGE}\n", 5),
        (f"a = [1, 2,\n  {HUGE}]\n", 2),
        (f"a = {HUGE[:2000]}_{HUGE[:2400]}\n", 1),  # underscores count as digits
    ],
)
def test_toml_integer_over_4300_digits_is_one_error(text: str, line: int) -> None:
    with pytest.raises(InputError, match="integer literal longer than 4,300 digits") as caught:
        parse_toml(Path("uv.lock"), text)
    assert caught.value.line == line


def test_json_integer_over_4300_digits_is_one_error() -> None:
    with pytest.raises(InputError, match="integer literal longer than 4,300 digits") as caught:
        parse_json(Path("Pipfile.lock"), '{\n"default": {},\n"x": ' + HUGE + "}")
    assert caught.value.line == 3
    # Long digit runs inside strings are not integers, and a number of 4,300 digits is fine.
    assert parse_json(Path("a.json"), '{"s": "' + HUGE + '", "n": ' + "9" * 4300 + "}")["s"]


def test_deep_toml_and_json_are_one_error() -> None:
    with pytest.raises(InputError, match="nested too deeply"):
        parse_toml(Path("pyproject.toml"), "a = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        parse_json(Path("bom.json"), "[" * 100_000 + "]" * 100_000)


def test_locks_have_a_larger_configurable_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_bytes(b"#" * (safe_read.MAX_FILE_BYTES + 10) + b"\nversion = 1\n")
    with pytest.raises(InputError, match="16 MiB limit"):
        read_text(lock)
    monkeypatch.delenv(safe_read.LOCK_LIMIT_VARIABLE, raising=False)
    assert lock_limit() == 64 * 1024 * 1024
    assert read_lock_text(lock).endswith("version = 1\n")
    monkeypatch.setenv(safe_read.LOCK_LIMIT_VARIABLE, "16")
    with pytest.raises(InputError, match="16 MiB limit; set BASTION_MAX_LOCK_MIB to raise it"):
        read_lock_text(lock)
    for bad in ("0", "-1", "lots", "99999"):
        monkeypatch.setenv(safe_read.LOCK_LIMIT_VARIABLE, bad)
        with pytest.raises(UsageError, match="BASTION_MAX_LOCK_MIB"):
            lock_limit()


def test_excerpt_is_short_and_printable() -> None:
    assert excerpt("django==4.2") == "'django==4.2'"
    secret_line = "root:$6$saltsalt$" + "x" * 200 + ":19000:0:99999:7:::"
    shown = excerpt(secret_line)
    assert len(shown) <= safe_read.MAX_EXCERPT + 2
    assert shown.endswith("…'")
    hostile = "a\x1b]8;;http://evil\x07link\x1b]8;;\x07\r\u202ebad"
    assert "\x1b" not in excerpt(hostile)
    assert "\x07" not in excerpt(hostile)
    assert "\u202e" not in excerpt(hostile)
    assert "\r" not in excerpt(hostile)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "pyproject.toml: invalid TOML: nested too deeply"),
        (HUGE, "pyproject.toml:3: invalid TOML: an integer literal longer than 4,300 digits"),
    ],
    ids=["deep", "huge-integer"],
)
def test_sbom_lock_with_a_hostile_pyproject_is_one_error_line(
    tmp_path: Path, value: str, message: str
) -> None:
    # Issue 14.7: sbom --lock read pyproject.toml with tomllib directly (RecursionError).
    shutil.copy(LOCKFILES / "uv" / "uv.lock", tmp_path / "uv.lock")
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = {value}\n')
    code, out, err = run_cli("sbom", "--lock", str(tmp_path / "uv.lock"), str(tmp_path))
    assert code == 3, (out[:200], err[-500:])
    assert err.strip().endswith(message)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
