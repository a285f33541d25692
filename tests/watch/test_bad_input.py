"""Bad input: a missing or non-executable command, a signal, closed or flooded output, many
processes, bad options and baselines. The watch never hangs, never leaves a process
behind (the ``watch`` fixture asserts it) and passes the exit code through.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.watch.baseline import read_baseline
from tests.watch.conftest import Runner, rules_in

SH = shutil.which("sh") or "/bin/sh"
SLEEP = shutil.which("sleep") or "/bin/sleep"


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_the_commands_exit_code_passes_through(watch: Runner, code: int) -> None:
    done = watch("--", SH, "-c", f"exit {code}")
    assert done.code == code, done.err
    assert f"exited {code}" in done.err


def test_standard_output_stays_the_commands_own(watch: Runner) -> None:
    done = watch("--", SH, "-c", "echo hello; echo oops >&2")
    assert done.code == 0
    assert done.out == "hello\n"  # the report and summary go to standard error
    assert "oops" in done.err and "bastion watch:" in done.err


def test_a_command_that_does_not_exist(watch: Runner) -> None:
    done = watch("--", "no-such-command-bastion-watch-test")
    assert done.code == 127
    assert done.err.strip().splitlines() == [
        "bastion: error: command not found: no-such-command-bastion-watch-test"
    ]


def test_a_command_that_is_not_executable(watch: Runner, tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    done = watch("--", str(script))
    assert done.code == 126
    assert "not executable" in done.err and "Traceback" not in done.err


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV])
def test_a_command_ended_by_a_signal(watch: Runner, sig: signal.Signals) -> None:
    done = watch("--", SH, "-c", f"kill -{int(sig)} $$")
    assert done.code == 128 + int(sig), done.err
    assert f"ended by signal {int(sig)}" in done.err


def test_a_command_that_closes_its_output(watch: Runner) -> None:
    done = watch("--", SH, "-c", "exec >&- 2>&-; sleep 0.3; exit 3")
    assert done.code == 3
    assert "exited 3" in done.err


def test_a_command_that_floods_standard_output(watch: Runner) -> None:
    size = 32 * 1024 * 1024
    code = f"import sys; sys.stdout.buffer.write(b'x' * {size})"
    done = watch("--", sys.executable, "-c", code, timeout=120)
    assert done.code == 0, done.err
    assert len(done.out) == size  # passed straight through, nothing held back or lost


def test_many_processes_are_seen_stopped_and_not_left_behind(watch: Runner, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    script = f"for i in $(seq 500); do {SLEEP} 120 & done; exit 0"
    started = time.monotonic()
    done = watch("--grace", "0", "--format", "json", "-o", str(out), "--", SH, "-c", script)
    assert time.monotonic() - started < 100
    assert done.code == 1, done.err
    data = json.loads(out.read_text())
    outlived = [f for f in data["findings"] if f["rule_id"] == "watch-outlived"]
    assert len(outlived) == 500
    assert "stopped 500 process(es)" in done.err


def test_past_the_process_limit_the_watch_is_incomplete(watch: Runner, tmp_path: Path) -> None:
    script = f"for i in $(seq 40); do {SLEEP} 0.5 & done; wait"
    done = watch("--max-processes", "10", "--fail-on", "critical", "--", SH, "-c", script)
    assert done.code == 2, done.err  # the command succeeded, but not all of it was seen
    assert "past the limit of 10" in done.err
    failing = watch("--max-processes", "10", "--", SH, "-c", script)
    assert failing.code == 1  # watch-incomplete is medium: at the default threshold it fails


def test_sigterm_to_the_watch_ends_the_command_and_its_tree(watch: Runner) -> None:
    running = watch.start("--", SH, "-c", f"{SLEEP} 60 & {SLEEP} 60; wait")
    time.sleep(1.0)
    running.send_signal(signal.SIGTERM)
    try:
        code = running.wait(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.stderr is not None
    err = running.stderr.read().decode()
    running.stderr.close()
    assert code == 128 + signal.SIGTERM, err  # the shell died of the forwarded SIGTERM
    assert "ended by signal 15" in err


@pytest.mark.parametrize(
    "args",
    [
        ("--",),
        (),
        ("--interval", "0", "--", "touch", "{marker}"),
        ("--allow-connect", "127.0.0.1:99999", "--", "touch", "{marker}"),
        ("--allow-connect", "a b", "--", "touch", "{marker}"),
        ("--fail-on", "severe", "--", "touch", "{marker}"),
    ],
)
def test_usage_errors_exit_3_and_run_nothing(
    watch: Runner, tmp_path: Path, args: tuple[str, ...]
) -> None:
    marker = tmp_path / "ran"
    done = watch(*(a.replace("{marker}", str(marker)) for a in args))
    assert done.code == 3, done.err
    assert "Traceback" not in done.err
    assert not marker.exists()


def test_record_into_a_missing_folder_runs_nothing(watch: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = watch("--record", str(tmp_path / "no" / "b.json"), "--", "touch", str(marker))
    assert done.code == 3 and "does not exist" in done.err
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"bastion-watch-baseline": 1,\n "executables": [1]}', 2, "'executables' must be"),
        ('{"bastion-watch-baseline": 1,\n\n "destinations": "x"}', 3, "'destinations' must"),
        ('{"bastion-watch-baseline": 2}', 1, "of version 1"),
        ("[1, 2]", 1, "expected a JSON object"),
        ('{"bastion-watch-baseline": 1,\n "executables": [}', 2, "invalid JSON"),
        ('{"bastion-watch-baseline": 1,\n "peak-cpu": {"/bin/x": -1}}', 2, "'peak-cpu' of"),
        ('{"bastion-watch-baseline": 1,\n "peak-cpu": {"/bin/x": true}}', 2, "'peak-cpu' of"),
    ],
)
def test_a_bad_baseline_names_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text(text)
    with pytest.raises(InputError) as caught:
        read_baseline(baseline)
    assert caught.value.path == baseline and caught.value.line == line
    assert message in caught.value.message


def test_a_bad_baseline_is_one_line_exit_3_and_nothing_runs(watch: Runner, tmp_path: Path) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text('{"bastion-watch-baseline": 1,\n "executables": [1]}')
    marker = tmp_path / "ran"
    done = watch("--baseline", str(baseline), "--", "touch", str(marker))
    assert done.code == 3, done.err
    (error,) = done.err.strip().splitlines()
    assert error.startswith(f"bastion: error: {baseline}:2: 'executables' must be")
    assert not marker.exists()


def test_a_baseline_that_is_not_a_file(watch: Runner, tmp_path: Path) -> None:
    done = watch("--baseline", "/dev/zero", "--", "true")
    assert done.code == 3 and "regular file" in done.err
    done = watch("--baseline", str(tmp_path / "missing.json"), "--", "true")
    assert done.code == 3 and "not found" in done.err


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        ["bastion-watch-baseline", "executables", "destinations", "peak-cpu", "x"]
                    ),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=12,
        ).map(json.dumps),
    )
)
def test_baseline_reader_fuzz(tmp_path: Path, text: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        baseline = read_baseline(path)
    except InputError as exc:
        assert exc.path == path and (exc.line is None or exc.line >= 1)
    else:
        assert all(isinstance(e, str) for e in baseline.executables)
        assert all(0 <= v <= 1024 for v in baseline.peak_cpu.values())


def test_rules_in_helper_reads_json_findings() -> None:
    assert rules_in([{"rule_id": "a"}, {"rule_id": "b"}]) == {"a", "b"}
