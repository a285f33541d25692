"""Start-up figures: ``bastion --help`` beside ``python -c pass``, and each command's imports.

Run from the repository root with bastion installed:
    python benchmarks/bench_startup.py [--runs 21]

Interleaved: every round runs each command once, in a rotated order, so a busy
moment hits all of them alike; medians and min-max of the wall time of whole
processes (interpreter start included). The same interpreter runs everything.
A second table counts the modules each command imports (``sys.modules`` after
the run), from the same probe as tests/test_lazy_imports.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = """
import sys
from bastion._internal.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
modules = sorted(sys.modules)
import json
sys.stderr.write("\\n@@" + json.dumps(modules))
"""


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def modules_of(argv: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=cwd, env=env, capture_output=True, text=True
    )
    return list(json.loads(done.stderr.rpartition("@@")[2]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    bastion = shutil.which("bastion") or "bastion"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "requirements.txt").write_text("idna==3.7\nrequests==2.19.0\n")
        (root / "bastion.toml").write_text("advisory-max-days = 3650\nadvisory-warn-days = 3650\n")
        # From bytecode, as after an install (PYTHONDONTWRITEBYTECODE would make every run
        # compile bastion's sources); the .pyc files go under the temporary folder.
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(root / "pycache"),
            "NO_COLOR": "1",
            "COLUMNS": "100",
            "BASTION_CACHE_DIR": str(root / "cache"),
        }
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import click'": [sys.executable, "-c", "import click"],
            "bastion --help": [bastion, "--help"],
            "bastion --version": [bastion, "--version"],
            "bastion audit (2 pins)": [bastion, "audit", "."],
            "bastion db status": [bastion, "db", "status"],
        }
        for command in commands.values():  # warm-up (and the advisory database's first import)
            timed(command, root, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_number in range(args.runs):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(timed(commands[name], root, env))
        print(f"\n| command | wall time, median of {args.runs} (min-max) |")
        print("|---|---:|")
        for name in names:
            values = [t * 1000 for t in times[name]]
            print(
                f"| {name} | {statistics.median(values):.0f} ms "
                f"({min(values):.0f}-{max(values):.0f}) |"
            )
        print("\n| command | modules imported | of them bastion's |")
        print("|---|---:|---:|")
        for argv in (["--help"], ["audit", "."], ["check", "."], ["db", "status"]):
            found = modules_of(argv, root, env)
            ours = [m for m in found if m.startswith("bastion")]
            print(f"| bastion {' '.join(argv)} | {len(found)} | {len(ours)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
