"""Hostile advisory imports (issue 14.1, 14.7): one error or a counted skip, nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bastion._internal.advisories.store import import_records
from bastion._internal.errors import InputError
from tests.advisories.test_store import record, write_zip


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _db_update(source: str, db_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bastion", "db", "update", "--from", source, "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=60,  # /dev/zero read 7.5 GB and a FIFO hung forever before the fix
        check=False,
    )


def test_db_update_from_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    done = _db_update("/dev/zero", tmp_path / "a.sqlite3")
    assert time.monotonic() - started < 30
    assert done.returncode == 3
    assert "/dev/zero: not a regular file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_db_update_from_a_fifo_is_refused_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    fifo = tmp_path / "osv.zip"
    os.mkfifo(fifo)
    done = _db_update(str(fifo), tmp_path / "db" / "a.sqlite3")
    assert done.returncode == 3, done.stderr
    assert "not a regular file" in done.stderr
    assert not (tmp_path / "db").exists()


def _patch_member(path: Path, *, flags: int | None = None, method: int | None = None) -> None:
    """Rewrite the flag and method fields of a one-member zip's local and central headers."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        if flags is not None:
            data[at : at + 2] = flags.to_bytes(2, "little")
        if method is not None:
            data[at + 2 : at + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("encrypted", "archive member 'A.json' is encrypted"),
        ("method", "archive member 'A.json' uses compression method 99"),
        ("deflate", "corrupt archive member 'A.json'"),
    ],
)
def test_hostile_zip_members_are_one_error_and_the_old_database_stays(
    tmp_path: Path, damage: str, message: str
) -> None:
    db_path = tmp_path / "a.sqlite3"
    import_records(write_zip(tmp_path / "good.zip", {"G.json": record("G", "pkg")}), db_path)
    before = db_path.read_bytes()
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("A.json", record("A", "pkg", summary="x" * 5000))
    if damage == "encrypted":
        _patch_member(bad, flags=0x1)
    elif damage == "method":
        _patch_member(bad, method=99)
    else:
        data = bytearray(bad.read_bytes())
        start = data.index(b"PK\x03\x04") + 30 + len("A.json")
        data[start : start + 40] = b"\xff" * 40  # the deflate stream, not the headers
        bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match=message) as caught:
        import_records(bad, db_path)
    assert "\n" not in caught.value.one_line()
    assert db_path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_huge_integers_and_deep_json_records_are_counted_skips(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "osv.zip",
        {
            "G.json": record("G", "pkg"),
            "BIG.json": b'{"id": "BIG", "modified": ' + b"1" * 5000 + b"}",
            "DEEP.json": b"[" * 100_000 + b"]" * 100_000,
        },
    )
    result = import_records(archive, tmp_path / "a.sqlite3")
    assert result.added == 1
    assert dict(result.skipped) == {"record is not JSON": 2}


def test_a_deep_yaml_record_is_a_skip_not_a_crash_and_leaves_no_copy(tmp_path: Path) -> None:
    # Before the fix libyaml's composer overflowed the C stack (SIGSEGV) and the
    # temporary database copy stayed behind. A child process keeps pytest alive.
    tree = tmp_path / "vulns" / "pkg"
    tree.mkdir(parents=True)
    (tree / "PYSEC-0.yaml").write_text("id: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (tree / "PYSEC-1.yaml").write_bytes(record("PYSEC-1", "pkg"))  # JSON is YAML
    db_folder = tmp_path / "db"
    done = _db_update(str(tmp_path / "vulns"), db_folder / "a.sqlite3")
    assert done.returncode == 0, (done.returncode, done.stderr[-400:])
    assert "1 added" in done.stdout
    assert "skipped 1: record is not valid YAML" in done.stdout
    assert _leftovers(db_folder) == []
