"""Figures for artifact inspection: recall, false alarms, speed; bastion beside GuardDog.

Run from the repository root (the tampered samples come from tests/inspect/samples.py):
    python benchmarks/bench_inspect.py --corpus /tmp/inspect-corpus/files \
        [--corpus /tmp/inspect-corpus/sdists] [--torch PATH.whl] [--runs 3] \
        [--guarddog /tmp/guarddog-venv/bin/guarddog] [--download]

--download fills the first corpus folder first: ``pip download --no-deps`` of the latest
release of the 100 most downloaded projects (shared/data/popularity), a file over 300 MB
removed. Everything else is offline: GuardDog runs inside an empty network namespace
(``unshare -n``), so neither tool can reach anything.

1. Recall: every tampered sample (an honest wheel changed as a real attack did) through
   both tools; caught = bastion reports the expected rule at medium or above / GuardDog
   reports any threat-* rule.
2. False alarms: every artifact of the corpus; an alarm is a medium-or-above finding
   (bastion) or any threat-* rule (GuardDog); both lists are printed.
3. Speed: the corpus in one bastion process (wall time), and the torch wheel, each run
   --runs times interleaved with GuardDog (median and min-max wall time, peak RSS).
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
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
POPULARITY = Path("/work/shared/data/popularity/top-pypi-packages.json")
MAX_BYTES = 300 * 1024 * 1024
BASTION = [sys.executable, "-m", "bastion", "inspect"]


def timed(command: list[str], timeout: float = 900) -> tuple[float, int, str, int]:
    """(wall seconds, exit code, stdout, peak RSS in KiB) of one cold process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        # a neutral folder: no bastion.toml or [tool.bastion] of this repository applies
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir()
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return elapsed, os.waitstatus_to_exitcode(status), text, usage.ru_maxrss


def download(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    names = [r["project"] for r in json.loads(POPULARITY.read_text())["rows"][:100]]
    for name in names:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), name],
            check=False,
            timeout=600,
        )
    for path in folder.iterdir():
        if path.stat().st_size > MAX_BYTES:
            path.unlink()


def bastion_alarms(files: list[Path]) -> tuple[float, dict[str, list[str]], int]:
    """Wall time of one bastion run over ``files`` and the medium+ rules per artifact."""
    elapsed, code, out, _ = timed([*BASTION, *map(str, files), "--format", "json"])
    if code not in (0, 1):
        raise SystemExit(f"bastion exited {code}")
    alarms: dict[str, list[str]] = defaultdict(list)
    names = sorted((f.name for f in files), key=len, reverse=True)
    for finding in json.loads(out)["findings"]:
        if finding["severity"] in ("medium", "high", "critical"):
            path = finding["location"]["path"]
            artifact = next((n for n in names if f"/{n}/" in f"/{path}"), path)
            alarms[artifact].append(f"{finding['rule_id']} {path.split(artifact + '/')[-1]}")
    return elapsed, alarms, code


def guarddog(
    executable: str | None, path: Path, timeout: float = 120
) -> tuple[float, list[str] | None]:
    """Wall time and GuardDog's threat-* rules for one artifact (None: not run or failed)."""
    if executable is None:
        return 0.0, None
    command = ["unshare", "-n", executable, "pypi", "scan", str(path), "--output-format", "json"]
    elapsed, _, out, _ = timed(command, timeout=timeout)
    try:
        results = json.loads(out)["results"]
    except (ValueError, KeyError, TypeError):
        return elapsed, None
    return elapsed, sorted(k for k, v in results.items() if k.startswith("threat-") and v)


def recall(executable: str | None) -> None:
    from tests.inspect.samples import (
        HONEST,
        TAMPERED_SDISTS,
        TAMPERED_WHEELS,
        package_files,
        write_sdist,
        write_wheel,
    )

    print("\n## Recall: tampered samples\n")
    print("| sample | expected rule | bastion | GuardDog |")
    print("|---|---|---|---|")
    caught = [0, 0]
    with tempfile.TemporaryDirectory() as temp:
        honest = write_wheel(Path(temp) / "honest", package_files())
        samples = [("honest build (must be clean)", honest, "")]
        for index, (label, changes, rule) in enumerate(TAMPERED_WHEELS):
            files = package_files()
            for name, data in changes.items():
                files[name] = data.encode() if isinstance(data, str) else data
            samples.append((label, write_wheel(Path(temp) / str(index), files), rule))
        samples.append(("honest sdist (must be clean)", write_sdist(Path(temp) / "s", HONEST), ""))
        for index, (label, changes, rule) in enumerate(TAMPERED_SDISTS):
            sdist = write_sdist(Path(temp) / f"s{index}", {**HONEST, **changes})
            samples.append((label, sdist, rule))
        for label, path, rule in samples:
            _, alarms, _ = bastion_alarms([path])
            found = [a.split()[0] for a in alarms.get(path.name, [])]
            ours = (rule in found) if rule else not found
            _, theirs = guarddog(executable, path)
            gd = "n/a" if theirs is None else (", ".join(theirs) or "-")
            gd_ok = theirs is not None and (bool(theirs) if rule else not theirs)
            caught[0] += ours and bool(rule)
            caught[1] += gd_ok and bool(rule)
            mark = "caught" if rule else "clean"
            ours_text = mark if ours else ("missed" if rule else "false alarm: " + ", ".join(found))
            print(f"| {label} | {rule or '-'} | {ours_text} | {gd} |")
    total = len(TAMPERED_WHEELS) + len(TAMPERED_SDISTS)
    print(f"\nbastion caught {caught[0]}/{total}; GuardDog flagged {caught[1]}/{total}.")


def corpus(folders: list[Path], executable: str | None, runs: int) -> None:
    files = sorted(p for f in folders for p in f.iterdir() if p.is_file())
    print(f"\n## False alarms: {len(files)} artifacts from {', '.join(map(str, folders))}\n")
    times = []
    alarms: dict[str, list[str]] = {}
    for _ in range(runs):
        elapsed, alarms, _ = bastion_alarms(files)
        times.append(elapsed)
    gd_alarms: dict[str, list[str]] = {}
    gd_time = 0.0
    gd_failed = 0
    if executable is not None:
        for path in files:
            elapsed, theirs = guarddog(executable, path)
            gd_time += elapsed
            if theirs is None:
                gd_failed += 1
            elif theirs:
                gd_alarms[path.name] = theirs
    share = 100 * len(alarms) / len(files)
    print(
        f"bastion: {len(alarms)} of {len(files)} artifacts ({share:.1f} %) with a medium+ finding"
    )
    for name, found in sorted(alarms.items()):
        print(f"  {name}: {'; '.join(found[:5])}")
    median = statistics.median(times)
    print(
        f"bastion wall time, all artifacts in one process: median {median:.1f} s "
        f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs)"
    )
    if executable is not None:
        share = 100 * len(gd_alarms) / len(files)
        print(
            f"GuardDog: {len(gd_alarms)} of {len(files)} artifacts ({share:.1f} %) with a "
            f"threat-* rule; {gd_failed} not scanned; {gd_time:.1f} s in total (one process "
            "per artifact, as its CLI scans one; at most 120 s each)"
        )
        for name, found in sorted(gd_alarms.items()):
            print(f"  {name}: {', '.join(found)}")


def big_wheel(path: Path, executable: str | None, runs: int) -> None:
    size = path.stat().st_size / 2**20
    print(f"\n## Speed: {path.name} ({size:.0f} MiB)\n")
    ours: list[float] = []
    rss: list[int] = []
    theirs: list[float] = []
    for _ in range(runs):  # interleaved
        elapsed, code, _, peak = timed([*BASTION, str(path), "--format", "json"])
        ours.append(elapsed)
        rss.append(peak)
        if executable is not None:
            theirs.append(guarddog(executable, path)[0])
    print(
        f"bastion: median {statistics.median(ours):.1f} s (min {min(ours):.1f}, max "
        f"{max(ours):.1f}), peak RSS {max(rss) / 1024:.0f} MiB, exit code {code}"
    )
    if theirs:
        print(
            f"GuardDog: median {statistics.median(theirs):.1f} s (min {min(theirs):.1f}, "
            f"max {max(theirs):.1f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", default=[])
    parser.add_argument("--torch", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--guarddog", help="GuardDog's executable (in a throwaway venv)")
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--skip-recall", action="store_true")
    args = parser.parse_args()
    executable = args.guarddog
    if executable is not None and shutil.which("unshare") is None:
        raise SystemExit("unshare is needed to keep GuardDog offline")
    print(f"# bastion inspect figures ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    if args.download and args.corpus:
        download(args.corpus[0])
    if not args.skip_recall:
        recall(executable)
    if args.corpus:
        corpus(args.corpus, executable, args.runs)
    if args.torch:
        big_wheel(args.torch, executable, args.runs)


if __name__ == "__main__":
    main()
