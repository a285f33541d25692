"""Ruff S findings on a real project: plain ``ruff check --select S`` beside bastion's control.

Run from the repository root with bastion installed:
    python benchmarks/bench_ruff_noise.py PROJECT_DIR [--runs 5]

PROJECT_DIR is a checkout (or an export of its Python files and pyproject.toml).
Both sides run the same ruff binary on the same tree, interleaved, ``--runs``
times each; the table gives the findings (identical every run), the most
frequent codes, and the median and min-max wall time. Plain ruff reads the
project's own configuration; bastion runs it isolated with the project's
validated settings and the test-folder ignores it applies when the project
does not select S (docs/layers/ruff-security.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

from bastion._internal.config import Config
from bastion._internal.controls.base import Project
from bastion._internal.controls.ruff_security import RuffSecurityControl, find_ruff
from bastion._internal.inputs.discovery import ProjectInputs


def plain(ruff: Path, root: Path) -> list[str]:
    """Codes ``ruff check --select S`` reports with the project's own configuration."""
    argv = [str(ruff), "check", "--select", "S", "--no-cache", "--exit-zero"]
    argv += ["--output-format", "json", "."]
    done = subprocess.run(argv, cwd=root, capture_output=True, check=True)
    return [d["code"] for d in json.loads(done.stdout)]


def bastion(root: Path) -> tuple[list[str], str]:
    """Codes the ruff-security control reports, and its detail."""
    project = Project(root, ProjectInputs(root, (), ()), Config())
    result = RuffSecurityControl().run(project)
    return [f.rule_id for f in result.findings], result.detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = args.project.resolve()
    ruff = find_ruff()
    assert ruff is not None, "ruff is not installed"  # noqa: S101 - a benchmark precondition
    times: dict[str, list[float]] = {"ruff check --select S": [], "bastion ruff-security": []}
    found: dict[str, list[str]] = {}
    detail = ""
    for _ in range(args.runs):
        started = time.perf_counter()
        found["ruff check --select S"] = plain(ruff, root)
        times["ruff check --select S"].append(time.perf_counter() - started)
        started = time.perf_counter()
        found["bastion ruff-security"], detail = bastion(root)
        times["bastion ruff-security"].append(time.perf_counter() - started)
    print("| run | findings | most frequent | wall median (min-max) |")
    print("|---|---:|---|---|")
    for name, codes in found.items():
        top = ", ".join(f"{code} {n}" for code, n in Counter(codes).most_common(3))
        spent = times[name]
        print(
            f"| {name} | {len(codes)} | {top} | {statistics.median(spent):.2f} s "
            f"({min(spent):.2f}-{max(spent):.2f}) |"
        )
    print(f"\nbastion: {detail}")


if __name__ == "__main__":
    main()
