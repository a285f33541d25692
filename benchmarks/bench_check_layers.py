"""Where a `bastion check` of a 5,000-package uv.lock spends its CPU time and memory, by layer.

Run from the repository root:
    python benchmarks/bench_check_layers.py [--runs 5] [--baseline /tmp/bastion-before/src]

The project is benchmarks/bench_foundation.py's 5,000-package uv.lock (the lock
of bench_before_after.py's ``check5000`` row) with the same bastion.toml. Each
run is a fresh interpreter from bytecode (PYTHONDONTWRITEBYTECODE unset, .pyc
under a temporary PYTHONPYCACHEPREFIX, one uncounted warm-up run that also
fills the advisory database and the typosquat cache of a private
BASTION_CACHE_DIR). Inside it, a small driver times, with ``time.process_time``
(CPU seconds, which a loaded machine stretches far less than wall time), the
imports, the discovery of the inputs, each control and the JSON report, and
reads the resident set after each step and the peak so far (``VmHWM``: unlike
``ru_maxrss`` it does not start at the size of the process that forked it). The whole
process's CPU (user + system, from ``wait4``) is reported beside its wall time.
Medians over --runs runs; with --baseline, the earlier tree's ``src`` is run the
same way, interleaved.
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
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_foundation  # noqa: E402

DRIVER = r"""
import contextlib, io, json, resource, sys, time
started = time.process_time()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
steps = []
def peak():  # VmHWM: unlike ru_maxrss, it starts again at exec (not at the parent's size)
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
def note(name, since):
    steps.append((name, time.process_time() - since, rss(), peak()))
from pathlib import Path
from bastion._internal.cli.common import emit, relax_garbage_collection
import bastion._internal.engine as engine
note("imports", started)
relax_garbage_collection()
discover, run_one = engine.discover, engine._run_one
def timed_discover(*args, **kwargs):
    since = time.process_time()
    found = discover(*args, **kwargs)
    note("discover (read the uv.lock)", since)
    return found
def timed_run_one(control, project, config):
    since = time.process_time()
    result = run_one(control, project, config)
    note(control.id, since)
    return result
engine.discover, engine._run_one = timed_discover, timed_run_one
since = time.process_time()
report = engine.run_check(Path(sys.argv[1]))
total = time.process_time() - since
inner = sum(step[1] for step in steps if step[0] != "imports")
steps.append(("engine (controls' imports, waivers, coverage)", total - inner, rss(), peak()))
since = time.process_time()
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    emit(report, "json", None)
note("JSON report", since)
print(json.dumps({"steps": steps, "peak": peak(), "findings": len(report.findings)}))
"""


def run(src: Path, project: Path, env: dict[str, str]) -> tuple[Any, float, float]:
    """The driver's answer, the wall seconds and the CPU seconds of one fresh process."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(project)],
        env={**env, "PYTHONPATH": str(src)},
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = os.times()  # the child is reaped: its CPU is in the children's times
    cpu = after.children_user - before.children_user
    cpu += after.children_system - before.children_system
    if done.returncode != 0:
        raise SystemExit(f"driver failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(done.stdout), wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="src/ of an earlier tree, run beside")
    args = parser.parse_args()
    trees = {"now": HERE.parent / "src"}
    if args.baseline:
        trees = {"before": args.baseline.resolve(), **trees}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = root / "check5000"
        project.mkdir()
        bench_foundation.uv_lock(project, 5000)
        (project / "bastion.toml").write_text(
            "advisory-warn-days = 3650\nadvisory-max-days = 3650\n"
        )
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        envs = {
            name: {
                **base,
                "NO_COLOR": "1",
                "PYTHONPYCACHEPREFIX": str(root / f"pyc-{name}"),
                "BASTION_CACHE_DIR": str(root / f"cache-{name}"),
            }
            for name in trees
        }
        for name, src in trees.items():
            run(src, project, envs[name])  # warm-up: bytecode, advisory database, caches
        answers: dict[str, list[Any]] = {name: [] for name in trees}
        walls: dict[str, list[float]] = {name: [] for name in trees}
        cpus: dict[str, list[float]] = {name: [] for name in trees}
        order = list(trees)
        for round_number in range(args.runs):
            for name in order if round_number % 2 == 0 else order[::-1]:
                answer, wall, cpu = run(trees[name], project, envs[name])
                answers[name].append(answer)
                walls[name].append(wall)
                cpus[name].append(cpu)
        for name in trees:
            print(f"\n{name} ({trees[name]}), {args.runs} runs, medians:")
            wall = walls[name]
            print(
                f"  whole process: {statistics.median(wall):.3f} s wall "
                f"({min(wall):.3f}-{max(wall):.3f}), "
                f"{statistics.median(cpus[name]):.3f} s CPU (user + system), "
                f"peak RSS {max(a['peak'] for a in answers[name]):.0f} MB, "
                f"{answers[name][0]['findings']} findings"
            )
            print(f"  {'step':<48} {'CPU s':>7} {'RSS after, MB':>14} {'peak so far':>12}")
            steps = [a["steps"] for a in answers[name]]
            for index, (step, *_) in enumerate(steps[0]):
                seconds = statistics.median(s[index][1] for s in steps)
                mb = statistics.median(s[index][2] for s in steps)
                high = statistics.median(s[index][3] for s in steps)
                print(f"  {step:<48} {seconds:>7.3f} {mb:>14.1f} {high:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
