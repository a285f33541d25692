"""Helpers for the runtime-watch tests: run ``bastion watch`` as a real process, and prove
that no process a test started is left behind.

Every watched command gets a unique ``BASTION_WATCH_TEST_TAG`` in its
environment, which its children inherit. After each test the fixture looks
for processes carrying the tag: it kills any it finds (every process a test
starts is ended by the test) and fails the test, because the watch should
have stopped them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

TAG = "BASTION_WATCH_TEST_TAG"
TIMEOUT = 120  # seconds: generous for a loaded machine, never reached when the watch works


@dataclass(frozen=True)
class Watched:
    """One finished ``bastion watch`` run."""

    code: int
    out: str
    err: str


class Runner:
    """Runs ``python -m bastion watch ARGS`` with this test's tag."""

    def __init__(self, tag: str, cwd: Path) -> None:
        self.tag = tag
        self.cwd = cwd

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env[TAG] = self.tag
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PIP_NO_INPUT"] = "1"
        env.update(extra or {})
        return env

    def __call__(self, *args: str, timeout: float = TIMEOUT) -> Watched:
        completed = subprocess.run(
            [sys.executable, "-m", "bastion", "watch", *args],
            cwd=self.cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        return Watched(completed.returncode, completed.stdout, completed.stderr)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start ``bastion watch`` without waiting (the test must wait or kill it)."""
        return subprocess.Popen(
            [sys.executable, "-m", "bastion", "watch", *args],
            cwd=self.cwd,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )


def tagged(tag: str) -> list[psutil.Process]:
    """Processes of this user whose environment carries ``tag``."""
    found = []
    me = os.getuid()
    for process in psutil.process_iter(["uids"]):
        try:
            if process.info["uids"] is None or process.info["uids"].real != me:
                continue
            if process.environ().get(TAG) == tag:
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[Runner]:
    """A runner whose processes are all gone when the test ends (asserted)."""
    runner = Runner(uuid.uuid4().hex, tmp_path)
    yield runner
    left = [p for p in tagged(runner.tag) if _running(p)]
    for process in left:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(left, timeout=10)
    assert not left, f"processes left behind: {[(p.pid, _name(p)) for p in left]}"


def _running(process: psutil.Process) -> bool:
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _name(process: psutil.Process) -> str:
    try:
        return str(process.name())
    except psutil.Error:
        return "?"


def rules_in(findings: Sequence[dict[str, object]]) -> set[str]:
    """The rule ids of a JSON report's findings."""
    return {str(f["rule_id"]) for f in findings}
