"""Figures for SBOM generation: bastion beside cyclonedx-py on the same virtualenv.

Run from the repository root with bastion[sbom] and cyclonedx-bom installed
(pip install cyclonedx-bom):
    python benchmarks/bench_sbom.py [VENV] [--runs 5]

VENV defaults to the running interpreter's environment. Both tools run as
cold processes writing a CycloneDX 1.6 JSON file; the median wall time is
reported, then each output is checked for the NTIA minimum elements and
CISA's 2025 additions by ``bastion sbom check`` (per element: how many
components carry it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{command[0]} failed: {done.stderr[:400]}")
    return statistics.median(times)


def _elements(path: Path) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "sbom", "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(done.stdout)
    return {e["element"]: f"{e['passing']}/{e['total']}" for e in data["elements"]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("venv", nargs="?", default=sys.prefix)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cyclonedx_py = shutil.which("cyclonedx-py") or str(Path(sys.executable).parent / "cyclonedx-py")
    python = str(Path(args.venv) / "bin" / "python")
    with tempfile.TemporaryDirectory() as folder:
        ours, theirs = Path(folder) / "bastion.json", Path(folder) / "cyclonedx-py.json"
        ours_time = _time(
            [sys.executable, "-m", "bastion", "sbom", "--env", args.venv, "-o", str(ours)],
            args.runs,
        )
        their_time = _time(
            [cyclonedx_py, "environment", python, "--of", "JSON", "--sv", "1.6", "-o", str(theirs)],
            args.runs,
        )
        count = len(json.loads(ours.read_text())["components"])
        our_elements, their_elements = _elements(ours), _elements(theirs)
    print(f"virtualenv {args.venv}: {count} components; median of {args.runs} cold runs")
    print(f"bastion sbom --env: {ours_time:.3f} s   cyclonedx-py environment: {their_time:.3f} s")
    print(f"speed-up: {their_time / ours_time:.1f}x")
    print()
    print("| element | bastion | cyclonedx-py |")
    print("|---|---|---|")
    for element, value in our_elements.items():
        print(f"| {element} | {value} | {their_elements.get(element, '?')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
