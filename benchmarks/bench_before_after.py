"""bastion against an earlier bastion, row by row of issue 19, with the findings compared.

Run from the repository root:
    git archive <commit> src | tar -x -C /tmp/bastion-before
    python benchmarks/bench_before_after.py --baseline /tmp/bastion-before/src [--runs 5]

Both trees run with this interpreter and its site-packages (PYTHONPATH points at
each tree's ``src``), from bytecode (each tree's .pyc under a temporary folder),
a BASTION_CACHE_DIR per tree (warm: the advisory database imported and the
typosquat tables built by a warm-up run; one per tree since a newer bastion
migrates the database to its schema, which an older one refuses). Timing: one
warm-up run of each, then --runs rounds, each running both trees in
alternating order; median and min-max of wall time, peak RSS from GNU time.
Each row also compares the JSON reports of the two trees (``generated_at``
and the cache folder's path aside): "same" means byte-for-byte
equal documents, so equal finding sets.

Rows (inputs generated here, deterministic):
- ``--help``;
- ``audit`` of 300 and 1,000 pins (benchmarks/bench_advisories.py's pins, uv.lock);
- ``check`` of a 5,000-package uv.lock (benchmarks/bench_foundation.py's generator);
- ``names scan`` of 100,000 names (benchmarks/bench_typosquat.py's list);
- ``workflows`` of 1,006 files (benchmarks/bench_workflows.py's corpus).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_advisories  # noqa: E402
import bench_foundation  # noqa: E402
import bench_workflows  # noqa: E402

CURRENT = HERE.parent / "src"
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""
RUN = "import sys\nfrom bastion._internal.cli import run\nrun()\n"


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (GNU time), stdout."""
    with tempfile.NamedTemporaryFile() as peak:
        command = [sys.executable, "-c", RUN, *argv]
        if TIME:
            command = [TIME, "-q", "-f", "%M", "-o", peak.name, *command]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        lines = peak.read().decode().split()
        mb = int(lines[-1]) / 1024 if lines else float("nan")
    return elapsed, mb, done.stdout.decode(errors="replace")


def comparable(output: str, env: dict[str, str]) -> object:
    output = output.replace(env["BASTION_CACHE_DIR"], "<cache>")  # notes name the database
    try:
        document = json.loads(output)
    except ValueError:
        return output
    if isinstance(document, dict):
        document.pop("generated_at", None)
    return document


def names_file(path: Path) -> Path:
    rows = json.loads(bench_foundation.POPULAR.read_text())["rows"]
    names = [row["project"] for row in rows[:15000]]
    suffix = 0
    while len(names) < 100_000:
        names.append(f"{names[suffix % 15000]}-x{suffix}")
        suffix += 1
    path.write_text("\n".join(names[:100_000]) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="src/ of the earlier tree")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", default="help,audit300,audit1000,check5000,names,workflows")
    args = parser.parse_args()
    trees = {"before": args.baseline.resolve(), "after": CURRENT}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = "advisory-warn-days = 3650\nadvisory-max-days = 3650\n"
        for size in (300, 1000):
            bench_advisories.write_inputs(root / f"a{size}", bench_advisories.pins(size))
            (root / f"a{size}" / "bastion.toml").write_text(config)
        check = root / "check5000"
        check.mkdir()
        bench_foundation.uv_lock(check, 5000)
        (check / "bastion.toml").write_text(config)
        names = names_file(root / "names.txt")
        bench_workflows.build_corpus(root / "workflows", 1000)
        rows = {
            "help": (["--help"], root),
            "audit300": (["audit", "--lock", "uv.lock", "--format", "json"], root / "a300"),
            "audit1000": (["audit", "--lock", "uv.lock", "--format", "json"], root / "a1000"),
            "check5000": (["check", ".", "--format", "json"], check),
            "names": (["names", "scan", str(names), "--format", "json"], root),
            "workflows": (["workflows", str(root / "workflows"), "--format", "json"], root),
        }
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base |= {"NO_COLOR": "1", "COLUMNS": "100"}
        # A cache per tree: each tree's database in its own schema (a newer bastion migrates
        # an older database when it opens it; the older one refuses the newer schema).
        envs = {
            name: {
                **base,
                "PYTHONPATH": str(src),
                "PYTHONPYCACHEPREFIX": str(root / f"pyc-{name}"),
                "BASTION_CACHE_DIR": str(root / f"cache-{name}"),
            }
            for name, src in trees.items()
        }
        print("| row | before: median (min-max), peak RSS | after | after/before | same JSON |")
        print("|---|---:|---:|---:|---|")
        for row in args.rows.split(","):
            argv, cwd = rows[row]
            outputs = {name: measure(argv, cwd, envs[name])[2] for name in trees}  # warm-up
            times: dict[str, list[float]] = {name: [] for name in trees}
            peaks: dict[str, list[float]] = {name: [] for name in trees}
            order = list(trees)
            for round_number in range(args.runs):
                for name in order if round_number % 2 else order[::-1]:
                    seconds, mb, outputs[name] = measure(argv, cwd, envs[name])
                    times[name].append(seconds)
                    peaks[name].append(mb)
            same = comparable(outputs["before"], envs["before"]) == comparable(
                outputs["after"], envs["after"]
            )
            cells = []
            for name in trees:
                values = times[name]
                cells.append(
                    f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f}), "
                    f"{max(peaks[name]):.0f} MB"
                )
            ratio = statistics.median(times["after"]) / statistics.median(times["before"])
            print(f"| {row} | {cells[0]} | {cells[1]} | {ratio:.2f} | {'yes' if same else 'NO'} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
