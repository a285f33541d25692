"""Baselines: what a clean run did, written with ``--record`` and compared with ``--baseline``.

The file is JSON: the executables started (by path), the destinations
connected to (``address:port`` as seen, no DNS), and the peak CPU share of
each executable. A baseline is input like any other: bounded, checked
field by field, and a bad one stops the watch before the command runs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError
from bastion._internal.model import Finding, Severity
from bastion._internal.safe_read import parse_json, read_text
from bastion._internal.safe_write import write_atomically
from bastion._internal.watch import indicators
from bastion._internal.watch.model import Baseline, ConnectionSeen, ProcessSeen
from bastion._internal.watch.rules import RULES

VERSION = 1
MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 100_000
MAX_ENTRY_CHARS = 4096
PEGGED = 0.9  # a share of one core that counts as pegged
QUIET = 0.5  # a baseline peak below this means the executable did not peg a core


def record(processes: Iterable[ProcessSeen], connections: Iterable[ConnectionSeen]) -> Baseline:
    """The baseline of one run."""
    peak: dict[str, float] = {}
    for process in processes:
        if not process.exe or process.exe.endswith(" (deleted)"):
            continue
        peak[process.exe] = max(peak.get(process.exe, 0.0), process.peak_cpu)
    return Baseline(
        executables=frozenset(peak),
        destinations=frozenset(c.destination for c in connections),
        peak_cpu=peak,
    )


def merge(first: Baseline, second: Baseline) -> Baseline:
    """Both runs' executables and destinations, the higher peak of each executable."""
    peak = dict(first.peak_cpu)
    for exe, value in second.peak_cpu.items():
        peak[exe] = max(peak.get(exe, 0.0), value)
    return Baseline(
        first.executables | second.executables, first.destinations | second.destinations, peak
    )


def write_baseline(path: Path, baseline: Baseline, command: tuple[str, ...]) -> None:
    """Write the baseline atomically (sorted, so that two clean runs diff cleanly)."""
    document = {
        "bastion-watch-baseline": VERSION,
        "command": list(command),
        "executables": sorted(baseline.executables),
        "destinations": sorted(baseline.destinations),
        "peak-cpu": {exe: round(baseline.peak_cpu[exe], 2) for exe in sorted(baseline.peak_cpu)},
    }
    write_atomically(path, json.dumps(document, indent=2) + "\n")


def read_baseline(path: Path) -> Baseline:
    """Read and check a baseline file; ``InputError`` (with the line) when it is not one."""
    text = read_text(path, limit=MAX_BYTES)
    data = parse_json(path, text)
    lines = text.splitlines()
    if not isinstance(data, dict):
        raise InputError(path, "not a bastion watch baseline (expected a JSON object)", 1)
    version = data.get("bastion-watch-baseline")
    if version != VERSION:
        raise InputError(
            path,
            f"not a bastion watch baseline of version {VERSION} "
            f"('bastion-watch-baseline' is {version!r})",
            _line(lines, "bastion-watch-baseline"),
        )
    executables = _strings(path, lines, data, "executables")
    destinations = _strings(path, lines, data, "destinations")
    command = _strings(path, lines, data, "command")
    peak_raw = data.get("peak-cpu", {})
    if not isinstance(peak_raw, dict) or len(peak_raw) > MAX_ENTRIES:
        raise InputError(path, "'peak-cpu' must be an object of numbers", _line(lines, "peak-cpu"))
    peak: dict[str, float] = {}
    for exe, value in peak_raw.items():
        number = _number(value)
        if number is None or len(exe) > MAX_ENTRY_CHARS:
            raise InputError(
                path,
                f"'peak-cpu' of {exe[:80]!r} must be a number from 0 to 1024",
                _line(lines, exe),
            )
        peak[exe] = number
    return Baseline(frozenset(executables), frozenset(destinations), peak, tuple(command))


def compare(
    baseline: Baseline,
    processes: Iterable[ProcessSeen],
    connections: Iterable[ConnectionSeen],
    *,
    root_pid: int,
    build_tools: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Everything this run did that the baseline run did not."""
    findings = []
    reported: set[str] = set()
    for process in processes:
        exe = process.exe
        if not exe:
            continue
        if exe not in baseline.executables and exe not in reported:
            reported.add(exe)
            rule = RULES["watch-new-executable"]
            message = f"executable not in the baseline: {process.shown}"
            severity = None
            if process.samples < 2:  # sampling may well have missed it in the clean run
                severity = Severity.LOW
                message += " (short-lived: seen in one sample only)"
            if process.cmdline:
                message += f"; command line: {process.command_text}"
            findings.append(rule.finding(message, None, rule.help, severity=severity))
            continue
        before = baseline.peak_cpu.get(exe)
        if (
            before is not None
            and before < QUIET
            and process.peak_cpu >= PEGGED
            and process.pid != root_pid
            and not indicators.is_build_tool(process, build_tools)
            and exe + "#cpu" not in reported
        ):
            reported.add(exe + "#cpu")
            rule = RULES["watch-cpu-above-baseline"]
            message = (
                f"{process.shown} peaked at {process.peak_cpu:.0%} of a core; the baseline "
                f"run's peak was {before:.0%}"
            )
            findings.append(rule.finding(message, None, rule.help))
    for connection in connections:
        destination = connection.destination
        if destination in baseline.destinations or destination in reported:
            continue
        reported.add(destination)
        rule = RULES["watch-new-destination"]
        message = (
            f"destination not in the baseline: {connection.protocol} {destination} from pid "
            f"{connection.pid} {connection.process}"
        )
        findings.append(rule.finding(message, None, rule.help))
    return findings


def _strings(path: Path, lines: list[str], data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if (
        not isinstance(value, list)
        or len(value) > MAX_ENTRIES
        or not all(isinstance(v, str) and len(v) <= MAX_ENTRY_CHARS for v in value)
    ):
        raise InputError(
            path,
            f"'{key}' must be a list of at most {MAX_ENTRIES} strings "
            f"of at most {MAX_ENTRY_CHARS} characters",
            _line(lines, key),
        )
    return value


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= 1024:
        return None
    return number


def _line(lines: list[str], key: str) -> int:
    """The 1-based line where the JSON key ``key`` first appears (1 when it does not)."""
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    for number, line in enumerate(lines, start=1):
        if pattern.search(line):
            return number
    return 1
