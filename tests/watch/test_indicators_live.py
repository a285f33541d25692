"""Each indicator on real, inert processes: a miner look-alike, a dropped binary, a
connection to a listener the test opens on 127.0.0.1, a double fork, a CPU burner.

Nothing leaves the machine; every process is ended (the ``watch`` fixture asserts it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.watch.conftest import Runner, rules_in

SH = shutil.which("sh") or "/bin/sh"
SLEEP = shutil.which("sleep") or "/bin/sleep"
MINER_ARGS = "--donate-level 1 -o stratum+tcp://127.0.0.1:3333"


def report(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def findings(path: Path) -> list[dict[str, object]]:
    found = report(path)["findings"]
    assert isinstance(found, list)
    return found


def test_a_miner_lookalike_is_critical_and_fails_the_run(watch: Runner, tmp_path: Path) -> None:
    miner = tmp_path / "xmrig"
    shutil.copy(SH, miner)  # an inert shell under a miner's name, placed an hour ago
    os.utime(miner, (time.time() - 3600, time.time() - 3600))
    out = tmp_path / "r.json"
    script = f'{miner} -c "sleep 1.5; exit 0" xmrig {MINER_ARGS}; exit 0'
    done = watch("--format", "json", "-o", str(out), "--", SH, "-c", script)
    assert done.code == 1, done.err
    found = findings(out)
    miners = [f for f in found if f["rule_id"] == "watch-miner"]
    assert miners and all(f["severity"] == "critical" for f in miners)
    named = next(f for f in miners if "named xmrig" in str(f["message"]))
    assert "--donate-level" in str(named["message"]) and "stratum+tcp://" in str(named["message"])
    assert str(miner) in str(named["message"])  # the executable's path as evidence
    # copied before the run: executed from a temporary place, not dropped during it
    assert "watch-temp-exec" in rules_in(found)
    assert "exit code 1" in done.err


def test_kill_on_critical_stops_the_tree_at_once(watch: Runner, tmp_path: Path) -> None:
    miner = tmp_path / "xmrig"
    shutil.copy(SH, miner)
    marker = tmp_path / "survived"
    script = f'{miner} -c "sleep 30; touch {marker}" xmrig {MINER_ARGS}; touch {marker}'
    started = time.monotonic()
    done = watch("--kill-on", "critical", "--", SH, "-c", script)
    elapsed = time.monotonic() - started
    assert done.code == 1, done.err
    assert "stopped by --kill-on" in done.err
    assert elapsed < 25  # the 30 s sleep never finished
    time.sleep(0.2)
    assert not marker.exists()  # nothing of the tree ran on after the kill


def test_kill_on_does_not_fire_below_its_severity(watch: Runner, tmp_path: Path) -> None:
    runner = tmp_path / "tool"
    shutil.copy(SLEEP, runner)  # a medium finding (executed from a temporary place)
    done = watch("--kill-on", "critical", "--fail-on", "high", "--", str(runner), "0.5")
    assert done.code == 0, done.err
    assert "exited 0" in done.err and "1 medium" in done.err


def test_a_binary_written_then_executed_by_a_child(watch: Runner, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    out = tmp_path / "r.json"
    # the first Ultralytics wave: save a binary under /tmp and run it
    script = f"cp {SLEEP} {drop}/ultralytics_runner && {drop}/ultralytics_runner 1"
    done = watch("--format", "json", "-o", str(out), "--", SH, "-c", script)
    assert done.code == 1, done.err
    (dropped,) = [f for f in findings(out) if f["rule_id"] == "watch-dropped-binary"]
    assert dropped["severity"] == "high"
    assert "written during the run" in str(dropped["message"])
    assert "ultralytics_runner" in str(dropped["message"])


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 (connections complete in its backlog)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server
    server.close()


def _connect_script(port: int) -> str:
    return (
        "import socket, time\n"
        f"s = socket.create_connection(('127.0.0.1', {port}))\n"
        "time.sleep(1.0)\n"
        "s.close()\n"
    )


def test_an_undeclared_step_lists_its_destinations_without_findings(
    watch: Runner, tmp_path: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    out, trace = tmp_path / "r.json", tmp_path / "t.json"
    args = ("--format", "json", "-o", str(out), "--trace", str(trace))
    done = watch(*args, "--", sys.executable, "-c", _connect_script(port))
    assert done.code == 0, done.err
    assert findings(out) == []  # nothing was declared, so nothing is undeclared
    assert f"1 destination(s) (127.0.0.1:{port})" in done.err
    (seen,) = json.loads(trace.read_text())["connections"]
    assert seen["destination"] == f"127.0.0.1:{port}" and seen["protocol"] == "tcp"
    assert seen["process"].startswith("python") and seen["status"] == "ESTABLISHED"


def test_a_connection_in_a_step_declared_offline_fails(
    watch: Runner, tmp_path: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    out = tmp_path / "r.json"
    args = ("--format", "json", "-o", str(out))
    done = watch(*args, "--no-network", "--", sys.executable, "-c", _connect_script(port))
    assert done.code == 1, done.err
    (undeclared,) = [f for f in findings(out) if f["rule_id"] == "watch-undeclared-connection"]
    assert undeclared["severity"] == "high" and f"127.0.0.1:{port}" in str(undeclared["message"])
    declared = watch(
        *args,
        "--allow-connect",
        f"127.0.0.1:{port}",
        "--",
        sys.executable,
        "-c",
        _connect_script(port),
    )
    assert declared.code == 0, declared.err
    assert "watch-undeclared-connection" not in rules_in(findings(out))
    other = watch(
        *args, "--allow-connect", "127.0.0.1:1", "--", sys.executable, "-c", _connect_script(port)
    )
    assert other.code == 1, other.err
    assert "watch-undeclared-connection" in rules_in(findings(out))


@pytest.mark.parametrize(
    "script",
    [
        f"( {SLEEP} 60 & ) ; exit 0",  # a double fork: the sleeper's parent exits at once
        f"nohup {SLEEP} 60 >/dev/null 2>&1 & exit 0",
    ],
    ids=["double-fork", "nohup"],
)
def test_a_process_that_outlives_the_command_is_reported_and_stopped(
    watch: Runner, tmp_path: Path, script: str
) -> None:
    out = tmp_path / "r.json"
    started = time.monotonic()
    done = watch("--grace", "0.3", "--format", "json", "-o", str(out), "--", SH, "-c", script)
    assert time.monotonic() - started < 30
    assert done.code == 1, done.err
    (left,) = [f for f in findings(out) if f["rule_id"] == "watch-outlived"]
    assert left["severity"] == "high" and "sleep" in str(left["message"])
    assert "stopped 1 process(es)" in done.err
    # the fixture asserts that no process of the run is left


def test_sustained_cpu_outside_build_tools(watch: Runner, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    burner = f"{SH} -c 'while :; do :; done' & b=$!; sleep 2.5; kill $b; exit 0"
    # a low threshold: on a loaded machine a busy loop may get well under a full core
    args = ("--cpu-window", "1", "--cpu-threshold", "10", "--format", "json", "-o", str(out))
    done = watch(*args, "--", SH, "-c", burner)
    assert done.code == 1, done.err
    (cpu,) = [f for f in findings(out) if f["rule_id"] == "watch-sustained-cpu"]
    assert "of a core for" in str(cpu["message"]) and "while :" in str(cpu["message"])
    exempt = watch(*args, "--build-tool", Path(SH).resolve().name, "--", SH, "-c", burner)
    assert exempt.code == 0, exempt.err
    assert "watch-sustained-cpu" not in rules_in(findings(out))


def test_the_command_itself_may_keep_a_core_busy(watch: Runner, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ("--cpu-window", "1", "--cpu-threshold", "40", "--format", "json", "-o", str(out))
    done = watch(
        *args, "--", SH, "-c", "end=$(($(date +%s)+2)); while [ $(date +%s) -lt $end ]; do :; done"
    )
    assert done.code == 0, done.err
    assert "watch-sustained-cpu" not in rules_in(findings(out))


def test_a_process_that_execs_a_miner_later_is_seen_again(watch: Runner, tmp_path: Path) -> None:
    miner = tmp_path / "xmrig"
    shutil.copy(SH, miner)
    out = tmp_path / "r.json"
    # the command itself is a shell for half a second (sampled as sh), then becomes the miner
    script = f'sleep 0.5; exec {miner} -c "sleep 1; exit 0" xmrig {MINER_ARGS}'
    done = watch("--format", "json", "-o", str(out), "--", SH, "-c", script)
    assert done.code == 1, done.err
    named = [f for f in findings(out) if "named xmrig" in str(f["message"])]
    assert named and named[0]["severity"] == "critical"
