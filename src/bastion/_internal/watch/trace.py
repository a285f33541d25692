"""``--trace FILE``: everything the watch saw, for the record (what harden-runner keeps for
paying customers): every process with its parent, executable, command line, start time
and CPU, every connection, and how the command ended."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bastion._internal.safe_write import write_atomically
from bastion._internal.version import VERSION
from bastion._internal.watch.model import WatchRun

TRACE_VERSION = 1


def trace_document(run: WatchRun) -> dict[str, Any]:
    """The run as a JSON-ready document."""
    return {
        "bastion-watch-trace": TRACE_VERSION,
        "tool": {"name": "bastion", "version": VERSION},
        "command": list(run.command),
        "exit_code": run.end.exit_code,
        "signal": run.end.signal,
        "killed_by_watch": run.end.killed_by_watch,
        "duration_seconds": round(run.duration, 3),
        "interval_seconds": run.interval,
        "samples": run.samples,
        "watch_cpu_seconds": run.watch_cpu_seconds,
        "stopped": run.stopped,
        "incomplete": list(run.incomplete),
        "processes": [{**asdict(p), "cmdline": list(p.cmdline)} for p in run.processes],
        "connections": [{**asdict(c), "destination": c.destination} for c in run.connections],
        "findings": [
            {"rule_id": f.rule_id, "severity": f.severity.label, "message": f.message}
            for f in run.findings
        ],
    }


def write_trace(path: Path, run: WatchRun) -> None:
    """Write the trace atomically (non-ASCII and control characters escaped)."""
    write_atomically(path, json.dumps(trace_document(run), indent=1) + "\n")
