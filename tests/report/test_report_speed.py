"""Report speed-ups keep the report's meaning (issue 19)."""

from __future__ import annotations

import gc
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.cli.common import GC_THRESHOLDS
from bastion._internal.model import ControlResult, ControlStatus, Finding, Report, Severity
from tests.conftest import OLD_DATA_OK


def _finding(rule: str, severity: Severity, package: str) -> Finding:
    message = f"{package} {rule}"
    return Finding(rule, severity, "tampering", "pinning", message, None, "fix", package=package)


def _report(*results: ControlResult) -> Report:
    return Report(Path(), (), results, (), (), Severity.MEDIUM, datetime(2026, 1, 1, tzinfo=UTC))


def test_findings_are_sorted_once_and_follow_replace() -> None:
    low = _finding("a", Severity.LOW, "x")
    high = _finding("b", Severity.HIGH, "y")
    result = ControlResult("pinning", ControlStatus.FAIL, ("tampering",), (low, high), "")
    report = _report(result)
    assert report.findings == (high, low)  # most severe first
    assert report.findings is report.findings  # computed once, not re-sorted per access
    critical = _finding("c", Severity.CRITICAL, "z")
    more = replace(result, findings=(low, critical))
    changed = replace(report, results=(result, more))
    assert changed.findings == (critical, high, low, low)
    assert report.findings == (high, low)  # the original is untouched
    assert changed == replace(report, results=(result, more))  # the cache is not compared
    assert "_findings" not in repr(report)


def test_relaxing_the_collector_still_collects_cycles() -> None:
    code = (
        "import gc, weakref\n"
        "from bastion._internal.cli.common import GC_THRESHOLDS, relax_garbage_collection\n"
        "relax_garbage_collection()\n"
        "assert gc.get_threshold() == GC_THRESHOLDS, gc.get_threshold()\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 0\n"
        "class Node: pass\n"
        "a = Node(); a.self = a; ref = weakref.ref(a); del a\n"
        "gc.collect()\n"
        "assert ref() is None\n"  # cycles are still collected
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


_THRESHOLDS_AT_EXIT = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: sys.stderr.write(f'@@{{gc.get_threshold()[0]}}@@'))\n"
    "from bastion._internal.cli import {entry}\n"
    "{entry}({argv})\n"
)


def _threshold_after(entry: str, argv: str, project: Path) -> int:
    code = _THRESHOLDS_AT_EXIT.format(entry=entry, argv=argv)
    done = subprocess.run(
        [sys.executable, "-c", code, "audit", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return int(done.stderr.rsplit("@@", 2)[-2])


def test_only_the_console_script_tunes_the_collector(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("idna==3.7\n")
    (tmp_path / "bastion.toml").write_text(OLD_DATA_OK)
    # run() owns the process: thresholds raised for the report run.
    assert _threshold_after("run", "", tmp_path) == GC_THRESHOLDS[0]
    # main() called in someone else's process leaves the collector as it was.
    default = gc.get_threshold()[0]
    called = _threshold_after("main", f"['audit', {str(tmp_path)!r}]", tmp_path)
    assert called == default != GC_THRESHOLDS[0]
