"""Reading a 15,000-package, 22 MB uv.lock (issue 13.4): bastion beside uv and the TOML floor.

Run from the repository root with bastion installed:
    python benchmarks/bench_big_lock.py [--runs 3] [--packages 15000]

The lock is generated (a registry source, three dependencies, an sdist and
three wheels with hashes, sizes and upload times per package, as uv writes
them; plus the virtual root project depending on every package), so the
figure does not depend on a network. Each round runs, interleaved and each in
a fresh process (so start-up and imports count, as in a real run):

- ``bastion``: ``read_dependency_file`` on the lock (bastion's reader:
  bounded read, TOML, every entry validated into packages);
- ``tomllib``: ``tomllib.loads`` of the same text alone, the floor for any
  pure-Python reader of the file;
- ``uv``: ``uv export --frozen --offline`` (uv's own Rust reader of its lock,
  writing a requirements list), when uv is on PATH or in the venv.

Reported: the median wall time with min-max, and the peak resident memory of
the child (``wait4`` rusage).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASTION = (
    "import sys; from pathlib import Path\n"
    "from bastion._internal.inputs.discovery import read_dependency_file\n"
    "print(len(read_dependency_file(Path(sys.argv[1])).packages))\n"
)
TOMLLIB = (
    "import sys, tomllib; from pathlib import Path\n"
    "print(len(tomllib.loads(Path(sys.argv[1]).read_text())['package']))\n"
)


def big_uv_lock(packages: int) -> str:
    """A uv.lock shaped as uv writes it (revision 3), with a virtual root project."""
    parts = ['version = 1\nrevision = 3\nrequires-python = ">=3.11"\n']
    for i in range(packages):
        name = f"pkg-{i:05d}"
        file = name.replace("-", "_")
        digest = hashlib.sha256(name.encode()).hexdigest()
        url = f"https://files.pythonhosted.org/packages/{digest[:2]}/{digest[2:4]}/{digest[4:60]}"
        wheels = "".join(
            f'    {{ url = "{url}/{file}-1.{i % 7}.0-cp3{py}-cp3{py}-manylinux_2_17_x86_64.whl", '
            f'hash = "sha256:{digest}", size = {1000 + i}, '
            'upload-time = "2025-01-02T03:04:05.678Z" },\n'
            for py in (11, 12, 13)
        )
        deps = "".join(f'    {{ name = "pkg-{(i + k) % packages:05d}" }},\n' for k in (1, 2, 3))
        parts.append(
            f'\n[[package]]\nname = "{name}"\nversion = "1.{i % 7}.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            f"dependencies = [\n{deps}]\n"
            f'sdist = {{ url = "{url}/{file}-1.{i % 7}.0.tar.gz", hash = "sha256:{digest}", '
            f'size = {5000 + i}, upload-time = "2025-01-02T03:04:05.678Z" }}\n'
            f"wheels = [\n{wheels}]\n"
        )
    parts.append(
        '\n[[package]]\nname = "root"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        "dependencies = [\n"
        + "".join(f'    {{ name = "pkg-{i:05d}" }},\n' for i in range(packages))
        + "]\n"
    )
    return "".join(parts)


def measure(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and the first output line of one child process."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        first = out.read().decode(errors="replace").splitlines()[:1]
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): {first}")
    return elapsed, usage.ru_maxrss / 1024, first[0] if first else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--packages", type=int, default=15_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        lock = root / "uv.lock"
        lock.write_text(big_uv_lock(args.packages))
        (root / "pyproject.toml").write_text(
            '[project]\nname = "root"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        )
        size = lock.stat().st_size
        print(f"uv.lock: {args.packages:,} packages, {size / 1e6:.1f} MB ({size:,} bytes)")
        uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
        tools: dict[str, list[str]] = {
            "bastion": [sys.executable, "-c", BASTION, str(lock)],
            "tomllib": [sys.executable, "-c", TOMLLIB, str(lock)],
        }
        if Path(uv).exists():
            tools["uv export"] = [uv, "export", "--frozen", "--offline", "--no-hashes", "-q"]
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
        for _ in range(args.runs):
            for name, command in tools.items():  # interleaved: one of each per round
                elapsed, rss, _first = measure(command, root)
                results[name].append((elapsed, rss))
        print(f"{'reader':<10} {'median s':>9} {'min-max s':>13} {'peak RSS MiB':>13}")
        for name, runs in results.items():
            times = [t for t, _ in runs]
            rss = max(r for _, r in runs)
            spread = f"{min(times):.2f}-{max(times):.2f}"
            print(f"{name:<10} {statistics.median(times):>9.2f} {spread:>13} {rss:>13.0f}")


if __name__ == "__main__":
    main()
