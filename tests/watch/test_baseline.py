"""Baselines on a real ``pip install``: a small wheel built here, installed from a local
folder with ``--no-index``, recorded as a baseline and replayed clean; then a run that
starts something new is reported against it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from bastion._internal.watch.baseline import compare, read_baseline, record, write_baseline
from bastion._internal.watch.model import Baseline, ConnectionSeen, ProcessSeen
from tests.watch.conftest import Runner, rules_in

SH = shutil.which("sh") or "/bin/sh"


def build_wheel(folder: Path, name: str = "watchdemo", version: str = "1.0") -> Path:
    """A minimal, valid pure-Python wheel (PEP 427): a module and its dist-info with RECORD."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: bastion-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    lines.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(lines) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    build_wheel(folder)
    return folder


def pip_install(wheels: Path, target: Path) -> tuple[str, ...]:
    return (
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-index",
        "--find-links",
        str(wheels),
        "--target",
        str(target),
        "--no-compile",
        "--quiet",
        "watchdemo",
    )


def test_a_clean_pip_install_recorded_and_replayed_clean(
    watch: Runner, tmp_path: Path, wheels: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    out = tmp_path / "r.json"
    first = watch(
        "--no-network",
        "--record",
        str(baseline),
        "--",
        *pip_install(wheels, tmp_path / "t1"),
    )
    assert first.code == 0, first.err
    assert (tmp_path / "t1" / "watchdemo" / "__init__.py").read_text() == "VALUE = 42\n"
    data = json.loads(baseline.read_text())
    assert data["bastion-watch-baseline"] == 1
    python = str(Path(sys.executable).resolve())
    assert python in data["executables"]
    assert data["destinations"] == []  # --no-index: nothing left the machine
    assert set(data["peak-cpu"]) == set(data["executables"])
    again = watch(
        "--no-network",
        "--baseline",
        str(baseline),
        "--format",
        "json",
        "-o",
        str(out),
        "--",
        *pip_install(wheels, tmp_path / "t2"),
    )
    assert again.code == 0, again.err
    # clean: nothing at the default threshold; pip's brief helpers (rustc --version), if
    # sampling caught them in one run and not the other, are low and say why
    for finding in json.loads(out.read_text())["findings"]:
        assert finding["severity"] == "low" and "short-lived" in finding["message"], finding


def test_a_run_that_starts_something_new_is_reported(
    watch: Runner, tmp_path: Path, wheels: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    out = tmp_path / "r.json"
    install = " ".join(pip_install(wheels, tmp_path / "t1"))
    assert watch("--record", str(baseline), "--", SH, "-c", install).code == 0
    extra = "sleep 0.5"  # the replay also starts sleep, which the clean run never did
    changed = f"{' '.join(pip_install(wheels, tmp_path / 't2'))} && {extra}"
    done = watch(
        "--baseline", str(baseline), "--format", "json", "-o", str(out), "--", SH, "-c", changed
    )
    assert done.code == 1, done.err
    found = json.loads(out.read_text())["findings"]
    assert rules_in(found) == {"watch-new-executable"}
    # pip may start short-lived helpers (rustc --version) that sampling catches in one run
    # and not the other: those are low; the half-second sleep is seen long enough to count
    (new,) = [f for f in found if f["severity"] == "medium"]
    assert "sleep" in new["message"]
    assert all("short-lived" in f["message"] for f in found if f is not new)


def _process(
    exe: str, peak: float, pid: int = 10, name: str = "tool", samples: int = 5
) -> ProcessSeen:
    return ProcessSeen(pid, 1, name, exe, (name,), 0.0, 0.0, 1.0, peak, "sh", samples=samples)


def test_a_new_executable_seen_once_is_low_seen_longer_medium() -> None:
    baseline = Baseline(frozenset(), frozenset())
    brief, lasting = _process("/usr/bin/a", 0, samples=1), _process("/usr/bin/b", 0, samples=3)
    found = compare(baseline, [brief, lasting], [], root_pid=1)
    assert [(f.severity.label, "short-lived" in f.message) for f in found] == [
        ("low", True),
        ("medium", False),
    ]


def test_record_with_a_baseline_merges_both_runs(watch: Runner, tmp_path: Path) -> None:
    learned = tmp_path / "b.json"
    assert watch("--record", str(learned), "--", SH, "-c", "sleep 0.4").code == 0
    first = set(json.loads(learned.read_text())["executables"])
    assert not any(e.endswith("/timeout") for e in first)
    script = "timeout 5 sleep 0.6"  # timeout is new, and alive for a few samples
    done = watch("--baseline", str(learned), "--record", str(learned), "--", SH, "-c", script)
    assert done.code == 1, done.err  # reported against the old baseline...
    merged = set(json.loads(learned.read_text())["executables"])
    assert first < merged  # ...and learned into the new one
    assert any(e.endswith("/timeout") for e in merged)


def test_compare_reports_new_destinations_and_cpu_above_the_baseline() -> None:
    baseline = Baseline(
        frozenset({"/usr/bin/tool", "/usr/bin/gcc"}),
        frozenset({"151.101.0.223:443"}),
        {"/usr/bin/tool": 0.1, "/usr/bin/gcc": 0.2},
    )
    processes = [_process("/usr/bin/tool", 0.97), _process("/usr/bin/gcc", 1.0, name="gcc")]
    connections = [
        ConnectionSeen(10, "tool", "tcp", "151.101.0.223", 443, "ESTABLISHED"),
        ConnectionSeen(10, "tool", "tcp", "45.9.148.1", 8080, "SYN_SENT"),
    ]
    found = compare(baseline, processes, connections, root_pid=1)
    assert sorted(f.rule_id for f in found) == [
        "watch-cpu-above-baseline",
        "watch-new-destination",
    ]
    destination = next(f for f in found if f.rule_id == "watch-new-destination")
    assert "45.9.148.1:8080" in destination.message
    cpu = next(f for f in found if f.rule_id == "watch-cpu-above-baseline")
    assert "97%" in cpu.message and "10%" in cpu.message  # gcc (a build tool) is exempt
    # the command itself may peg a core
    assert compare(baseline, processes[:1], [], root_pid=10) == []


def test_record_and_read_round_trip(tmp_path: Path) -> None:
    processes = [_process("/usr/bin/tool", 0.5), _process("/tmp/x (deleted)", 1.0)]  # noqa: S108
    connections = [ConnectionSeen(10, "tool", "tcp", "::1", 8080, "ESTABLISHED")]
    baseline = record(processes, connections)
    assert baseline.executables == {"/usr/bin/tool"}  # a deleted file is no baseline entry
    path = tmp_path / "b.json"
    write_baseline(path, baseline, ("tool", "--flag"))
    again = read_baseline(path)
    assert again.executables == baseline.executables
    assert again.destinations == {"[::1]:8080"}
    assert again.peak_cpu == {"/usr/bin/tool": 0.5}
    assert again.command == ("tool", "--flag")
