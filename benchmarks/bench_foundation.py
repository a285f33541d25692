"""Figures for the foundation: input reading speed and a cold `bastion check`.

Run from the repository root with bastion installed:
    python benchmarks/bench_foundation.py
Package names come from ../shared/data/popularity/top-pypi-packages.json when it
is there (the real 15,000 most-downloaded names), else they are generated.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bastion._internal.inputs.requirements import parse_requirements
from bastion._internal.inputs.uv_lock import parse_uv_lock

REPO = Path(__file__).resolve().parent.parent
POPULAR = REPO.parent / "shared" / "data" / "popularity" / "top-pypi-packages.json"


def names(count: int) -> list[str]:
    if POPULAR.is_file():
        rows = json.loads(POPULAR.read_text())["rows"]
        found = [row["project"] for row in rows[:count]]
        if len(found) == count:
            return found
    return [f"package-{i}" for i in range(count)]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def requirements_file(folder: Path, lines: int) -> Path:
    out = []
    for name in names(lines):
        out.append(
            f"{name}==1.2.3 \\\n    --hash=sha256:{digest(name)} \\\n"
            f"    --hash=sha256:{digest(name + 'w')}\n    # via -r requirements.in"
        )
    path = folder / "requirements.txt"
    path.write_text("\n".join(out) + "\n")
    return path


def uv_lock(folder: Path, packages: int) -> Path:
    parts = ['version = 1\nrevision = 3\nrequires-python = ">=3.11"\n']
    all_names = names(packages)
    for i, name in enumerate(all_names):
        deps = "".join(f'    {{ name = "{d}" }},\n' for d in all_names[i + 1 : i + 4])
        wheels = "".join(
            f'    {{ url = "https://files.example/{name}-1.0-cp3{k}-abi3-manylinux.whl", '
            f'hash = "sha256:{digest(name + str(k))}", size = 1000, '
            f'upload-time = "2025-01-0{k}T00:00:00Z" }},\n'
            for k in range(1, 6)
        )
        parts.append(
            f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
            f'source = {{ registry = "https://pypi.org/simple" }}\n'
            f"dependencies = [\n{deps}]\n"
            f'sdist = {{ url = "https://files.example/{name}-1.0.tar.gz", '
            f'hash = "sha256:{digest(name)}", size = 1000, '
            f'upload-time = "2025-01-01T00:00:00Z" }}\n'
            f"wheels = [\n{wheels}]\n"
        )
    path = folder / "uv.lock"
    path.write_text("\n".join(parts))
    return path


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def cold_check(
    runs: int, project: Path = REPO / "examples" / "demo-project"
) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bastion", "check", str(project)],
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        req = requirements_file(folder, 5000)
        lock = uv_lock(folder, 1000)
        req_packages = len(parse_requirements(req).packages)
        lock_packages = len(parse_uv_lock(lock).packages)
        req_time = best_of(5, lambda: parse_requirements(req))
        lock_time = best_of(5, lambda: parse_uv_lock(lock))
        req_mb = req.stat().st_size / 1e6
        lock_mb = lock.stat().st_size / 1e6
        # every layer on the 1,000-package lock (advisories, names, cooldown, index confusion)
        (folder / "bastion.toml").write_text(
            "advisory-max-days = 36500\nadvisory-warn-days = 36500\n"
        )
        (folder / "requirements.txt").unlink()
        lock_check, lock_worst = cold_check(3, folder)
    median, worst = cold_check(7)
    print(
        f"requirements: {req_packages} hashed lines ({req_mb:.1f} MB): {req_time:.3f} s (best of 5)"
    )
    print(f"uv.lock: {lock_packages} packages ({lock_mb:.1f} MB): {lock_time:.3f} s")
    print("  (reading times are the best of 5)")
    spread = f"median {median:.3f} s, max {worst:.3f} s (7 runs)"
    print(f"bastion check examples/demo-project, cold process: {spread}")
    print(
        f"bastion check of the 1,000-package uv.lock, every layer, cold process: "
        f"median {lock_check:.3f} s, max {lock_worst:.3f} s (3 runs)"
    )


if __name__ == "__main__":
    main()
