"""A watched run renders in every report format (SARIF valid against the official schema)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import DATA
from tests.watch.conftest import Runner

SH = shutil.which("sh") or "/bin/sh"
SLEEP = shutil.which("sleep") or "/bin/sleep"


@pytest.fixture
def dropped(tmp_path: Path) -> tuple[str, ...]:
    """A command that drops a binary into the test's temporary folder and runs it."""
    return ("--", SH, "-c", f"cp {SLEEP} {tmp_path}/payload && {tmp_path}/payload 0.4")


def test_sarif_is_valid_and_names_the_rule(
    watch: Runner, tmp_path: Path, dropped: tuple[str, ...]
) -> None:
    out = tmp_path / "watch.sarif"
    done = watch("--format", "sarif", "-o", str(out), *dropped)
    assert done.code == 1, done.err
    log = json.loads(out.read_text())
    schema = json.loads((DATA / "schemas/sarif-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(log)
    (run,) = log["runs"]
    assert {r["ruleId"] for r in run["results"]} == {"watch-dropped-binary"}
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["watch-dropped-binary"]["helpUri"].endswith("docs/layers/watch.md")


def test_markdown_and_text_carry_the_evidence(
    watch: Runner, tmp_path: Path, dropped: tuple[str, ...]
) -> None:
    out = tmp_path / "watch.md"
    assert watch("--format", "markdown", "-o", str(out), *dropped).code == 1
    assert "watch-dropped-binary" in out.read_text() and "payload" in out.read_text()
    text = watch(*dropped)  # the text report on standard error, the summary last
    assert text.code == 1 and text.out == ""
    assert "watch-dropped-binary" in text.err
    assert "No lockfile" not in text.err  # the watch reads no dependency files
    assert text.err.strip().splitlines()[-1].startswith("bastion watch: ")


def test_hostile_command_lines_cannot_write_to_the_terminal(watch: Runner, tmp_path: Path) -> None:
    miner = tmp_path / "xmrig"
    shutil.copy(SH, miner)
    escape = "\x1b]0;owned\x07\x1b[2J"  # a title change and a screen clear
    done = watch("--", SH, "-c", f'{miner} -c "sleep 0.5; exit 0" "{escape}" --donate-level 1')
    assert done.code == 1
    assert "\x1b" not in done.err and "\x07" not in done.err
    assert "watch-miner" in done.err


def test_trace_records_every_process_with_its_parent(watch: Runner, tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    script = f"{SLEEP} 0.4 & {SLEEP} 0.5; wait"
    done = watch("--trace", str(trace), "--", SH, "-c", script)
    assert done.code == 0, done.err
    data = json.loads(trace.read_text())
    assert data["bastion-watch-trace"] == 1 and data["exit_code"] == 0
    assert data["command"] == [SH, "-c", script]
    processes = data["processes"]
    # a child sampled between fork and exec is an image of the shell that "ended_exec"
    (shell,) = [p for p in processes if p["cmdline"] == [SH, "-c", script] and not p["ended_exec"]]
    sleeps = [p for p in processes if p["name"] == "sleep" and not p["ended_exec"]]
    assert sorted(p["cmdline"][-1] for p in sleeps) == ["0.4", "0.5"]
    assert all(p["ppid"] == shell["pid"] and p["parent_name"] == "sh" for p in sleeps)
    assert all(p["exe"].endswith("/sleep") and p["started"] > 0 for p in sleeps)
    assert data["samples"] >= 3 and data["interval_seconds"] == 0.1
    assert 0 < data["watch_cpu_seconds"] < 60  # the watch's own CPU, start-up included
    assert data["connections"] == [] and data["findings"] == []
