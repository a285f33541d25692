"""Several processes give the same answer as one: a large zip split by member, files shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion._internal.inspect import scan
from bastion._internal.inspect.archive import ArchiveError
from bastion._internal.inspect.limits import Limits
from bastion._internal.inspect.session import inspect_paths
from tests.inspect import samples
from tests.inspect.samples import package_files, write_wheel


def test_a_split_zip_gives_the_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = package_files()
    files["demo/downloads.py"] = samples.RUNNER.encode()
    files["demo-init.pth"] = samples.PTH_SHELL.encode()
    wheel = write_wheel(tmp_path, files, skip_in_record=("demo/__init__.py",))
    alone = scan.inspect_file(wheel)
    monkeypatch.setattr(scan, "PARALLEL_BYTES", 0)
    split = scan.inspect_file(wheel, jobs=2)
    assert sorted(split.hits, key=repr) == sorted(alone.hits, key=repr)
    assert sorted(split.members, key=repr) == sorted(alone.members, key=repr)
    assert {h.rule for h in split.findings} >= {
        "inspect-download-exec",
        "inspect-pth",
        "inspect-record",
    }
    assert split.pure is True


def test_files_shared_between_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "PARALLEL_BYTES", 0)
    good = write_wheel(tmp_path / "good", package_files())
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"PK\x03\x04 not really")
    outcomes = inspect_paths([good, bad], Limits(), strict=False, jobs=2)
    assert [o.verdict for o in outcomes] == ["clean", "error"]
    assert "unreadable archive" in outcomes[1].error
    with pytest.raises(ArchiveError, match="unreadable archive"):
        inspect_paths([good, bad], Limits(), strict=True, jobs=2)
