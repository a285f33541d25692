"""Overhead of ``bastion watch``: the same command with and without the watch, interleaved.

Run from the repository root in the test environment (bastion[watch] installed):
    python benchmarks/bench_watch.py [--rounds 5] [--interval 0.1]
        [--tests "tests/names tests/inputs"] [--skip-pip] [--skip-tests] [--spawn 10000]

Workloads:
- pip: a real ``pip install --no-index --find-links CACHE --require-hashes -r
  requirements/test.txt`` into a fresh virtualenv (made outside the timed part).
  The cache is filled once with ``pip download`` (the only network use, through
  pip itself); then nothing leaves the machine.
- tests: a slice of bastion's own test suite (``python -m pytest -q -p no:cacheprovider
  SLICE``).
Each round runs both variants back to back, alternating which goes first, so
that drift on a shared machine hits both alike. Reported: median, min-max,
and the added time of the watched median over the plain one; the watch's own
CPU seconds (from its trace, start-up included); and the CPU seconds of the
whole process tree (getrusage of reaped children), which a loaded machine
disturbs far less than wall time. The watched
time is the whole ``python -m bastion watch`` process (start-up, sampling,
report), as a CI step would pay it.

``--spawn N`` also times a command that starts N sleeping processes and exits:
the watch must see them, report them as outliving the command, stop them all,
and leave none behind (checked with psutil).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "bastion-bench-watch-wheels"
REQUIREMENTS = ROOT / "requirements" / "test.txt"


TRACE = Path(tempfile.gettempdir()) / f"bastion-bench-watch-trace-{os.getpid()}.json"


def _watch(interval: float) -> list[str]:
    return [
        *(sys.executable, "-m", "bastion", "watch"),
        *("--interval", str(interval), "--trace", str(TRACE), "--"),
    ]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the whole process tree (every descendant is reaped)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}): {shlex.join(command)[:200]}\n{done.stderr[-2000:]}"
        )
    return elapsed, _children_cpu() - cpu


def _fill_cache() -> None:
    if CACHE.is_dir() and any(CACHE.iterdir()):
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(CACHE), "-r", str(REQUIREMENTS)],
        check=True,
    )


def _pip_round(folder: Path, watched: bool, interval: float) -> tuple[float, float]:
    venv = folder / ("watched" if watched else "plain")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    install = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--no-index",
        "--find-links",
        str(CACHE),
        "--require-hashes",
        "-r",
        str(REQUIREMENTS),
    ]
    return _run((_watch(interval) if watched else []) + install)


def _tests_round(slice_: list[str], watched: bool, interval: float) -> tuple[float, float]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *slice_]
    return _run((_watch(interval) if watched else []) + command)


def _trace() -> tuple[int, int, float]:
    """Processes seen, samples taken and the watch's own CPU seconds of the last watched run."""
    data = json.loads(TRACE.read_text())
    return len(data["processes"]), data["samples"], float(data["watch_cpu_seconds"])


def _compare(name: str, rounds: int, one: Callable[[bool], tuple[float, float]]) -> str:
    plain: list[float] = []
    watched: list[float] = []
    own: list[float] = []
    cpu_of: dict[bool, list[float]] = {False: [], True: []}
    seen = (0, 0)
    for index in range(rounds):
        order = (False, True) if index % 2 == 0 else (True, False)
        for is_watched in order:
            elapsed, tree_cpu = one(is_watched)
            (watched if is_watched else plain).append(elapsed)
            cpu_of[is_watched].append(tree_cpu)
            if is_watched:
                processes, samples, cpu = _trace()
                own.append(cpu)
                seen = (processes, samples)
        print(
            f"  {name} round {index + 1}: plain {plain[-1]:.2f} s, watched {watched[-1]:.2f} s "
            f"(watch CPU {own[-1]:.2f} s; tree CPU {cpu_of[False][-1]:.2f} / "
            f"{cpu_of[True][-1]:.2f} s)",
            flush=True,
        )
    p, w, cpu = statistics.median(plain), statistics.median(watched), statistics.median(own)
    cp, cw = statistics.median(cpu_of[False]), statistics.median(cpu_of[True])
    return (
        f"| {name} | {p:.2f} s ({min(plain):.2f}-{max(plain):.2f}) | "
        f"{w:.2f} s ({min(watched):.2f}-{max(watched):.2f}) | {100 * (w - p) / p:+.1f} % | "
        f"{cpu:.2f} s ({100 * cpu / w:.1f} % of one core) | "
        f"{cp:.2f} s / {cw:.2f} s ({100 * (cw - cp) / cp:+.1f} %) | "
        f"{seen[0]} processes, {seen[1]} samples |"
    )


def _spawn(count: int, interval: float) -> str:
    import psutil  # type: ignore[import-untyped,unused-ignore]

    tag = f"bench-watch-{os.getpid()}"
    script = f"for i in $(seq {count}); do sleep 600 & done; exit 0"
    env = dict(os.environ, BASTION_BENCH_TAG=tag)
    start = time.perf_counter()
    done = subprocess.run(
        [*_watch(interval)[:-1], "--grace", "0", "--format", "json", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    left = 0
    for process in psutil.process_iter():
        try:
            if process.environ().get("BASTION_BENCH_TAG") == tag:
                left += 1
                process.kill()
        except psutil.Error:
            continue
    stopped = re.search(r"stopped (\d+) process", done.stderr)
    return (
        f"spawn {count}: exit {done.returncode} in {elapsed:.1f} s, "
        f"stopped {stopped.group(1) if stopped else '?'}, left behind {left}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--tests", default="tests/names tests/inputs")
    parser.add_argument("--skip-pip", action="store_true")
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--spawn", type=int, default=0)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; interval {args.interval} s")
    rows = []
    if not args.skip_pip:
        _fill_cache()
        with tempfile.TemporaryDirectory() as folder:
            rows.append(
                _compare(
                    "pip install -r requirements/test.txt (local wheels)",
                    args.rounds,
                    lambda w: _pip_round(Path(folder), w, args.interval),
                )
            )
    slice_ = args.tests.split()
    if not args.skip_tests:
        rows.append(
            _compare(
                f"pytest {' '.join(slice_)}",
                args.rounds,
                lambda w: _tests_round(slice_, w, args.interval),
            )
        )
    print()
    print(
        "| workload | plain: median (min-max) | watched: median (min-max) | added wall | "
        "watch's own CPU (median) | tree CPU plain / watched (median) | last watched run |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(row)
    if args.spawn:
        print()
        print(_spawn(args.spawn, args.interval))
    TRACE.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
