"""Report speed-ups keep the report's meaning (issue 19)."""

from __future__ import annotations

import gc
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.model import ControlResult, ControlStatus, Finding, Report, Severity


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


def test_report_run_relaxes_the_collector_but_still_collects() -> None:
    code = (
        "import gc, sys\n"
        "from bastion._internal.cli.common import GC_THRESHOLDS, relax_garbage_collection\n"
        "relax_garbage_collection()\n"
        "assert gc.get_threshold() == GC_THRESHOLDS, gc.get_threshold()\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 0\n"
        "class Node: pass\n"
        "import weakref\n"
        "a = Node(); a.self = a; ref = weakref.ref(a); del a\n"
        "gc.collect()\n"
        "assert ref() is None\n"  # cycles are still collected
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert gc.get_threshold()[0] < 100_000  # this process (the test runner) is untouched
