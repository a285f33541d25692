"""The inspect control in ``bastion check``: locked artifacts on disk, or nothing at all."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bastion._internal.controls.inspect import InspectControl
from bastion._internal.engine import run_check
from bastion._internal.model import ControlStatus, Coverage
from tests.inspect import samples
from tests.inspect.samples import package_files, write_wheel


def _project(tmp_path: Path, digest: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(f"demo==1.0.0 --hash=sha256:{digest}\n")
    return root


def _cache(tmp_path: Path, wheel: Path) -> tuple[Path, str]:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    folder = cache / digest[:2] / digest
    folder.mkdir(parents=True)
    (folder / wheel.name).write_bytes(wheel.read_bytes())
    return cache, digest


def test_nothing_on_disk_is_not_configured(tmp_path: Path) -> None:
    root = _project(tmp_path, "a" * 64)
    control = InspectControl(tmp_path / "no-cache", ())
    report = run_check(root, controls=[control])
    result = report.results[0]
    assert result.status is ControlStatus.NOT_CONFIGURED
    assert "bastion inspect --lock" in result.detail
    row = next(r for r in report.coverage if r.threat == "compromised-release")
    assert row.verdict is Coverage.EXPOSED


def test_locked_tampered_artifact_in_the_cache_fails(tmp_path: Path) -> None:
    files = package_files()
    files["demo/__init__.py"] = samples.MINER_INIT.encode()
    cache, digest = _cache(tmp_path, write_wheel(tmp_path / "w", files))
    report = run_check(_project(tmp_path, digest), controls=[InspectControl(cache, ())])
    result = report.results[0]
    assert result.status is ControlStatus.FAIL
    assert {f.rule_id for f in result.findings} >= {"inspect-miner"}
    assert report.exit_code == 1
    row = next(r for r in report.coverage if r.threat == "known-malicious")
    assert row.verdict is Coverage.LOCAL and row.open_findings >= 1


def test_honest_locked_artifact_passes(tmp_path: Path) -> None:
    cache, digest = _cache(tmp_path, write_wheel(tmp_path / "w", package_files()))
    report = run_check(_project(tmp_path, digest), controls=[InspectControl(cache, ())])
    assert report.results[0].status is ControlStatus.PASS
    assert report.exit_code == 0


def test_inspect_dir_from_the_environment_and_an_unreadable_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "wheelhouse"
    folder.mkdir()
    (folder / "bad-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 truncated")
    write_wheel(folder, package_files())
    monkeypatch.setenv("BASTION_INSPECT_DIR", str(folder))
    report = run_check(_project(tmp_path, "b" * 64), controls=[InspectControl(tmp_path / "c")])
    result = report.results[0]
    assert result.status is ControlStatus.ERROR  # fail closed
    assert "bad-1.0-py3-none-any.whl: unreadable archive" in result.detail
    assert "demo-1.0.0-py3-none-any.whl: clean" in result.detail
    assert report.exit_code == 2
