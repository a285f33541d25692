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
- ``tomllib``: ``tomllib.loads`` of the same text alone (the standard
  library's pure-Python parser, which bastion used before issue 19);
- ``tomli``: ``tomli.loads`` alone (the mypyc-compiled parser bastion uses
  now for what is not in uv's own layout, see inputs/uv_lock_layout.py);
- ``uv``: ``uv export --frozen --offline`` (uv's own Rust reader of its lock,
  writing a requirements list), when uv is on PATH or in the venv.

Every Python child runs from bytecode (PYTHONDONTWRITEBYTECODE unset, the .pyc
files under a temporary PYTHONPYCACHEPREFIX, warmed by a first round that is
not counted), as an installed bastion runs. Rounds are interleaved and the
order rotates each round. Reported: the median wall time with min-max, and
the peak resident memory of the child (GNU time's %M when /usr/bin/time
exists, else ``wait4`` rusage).
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
TOMLI = TOMLLIB.replace("tomllib", "tomli")
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""


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


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and the first output line of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile() as peak:
        if TIME:
            command = [TIME, "-q", "-f", "%M", "-o", peak.name, *command]
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        first = out.read().decode(errors="replace").splitlines()[:1]
        reported = peak.read().decode().split()
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): {first}")
    mib = int(reported[-1]) / 1024 if reported else usage.ru_maxrss / 1024
    return elapsed, mib, first[0] if first else ""


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
            "tomli": [sys.executable, "-c", TOMLI, str(lock)],
        }
        if Path(uv).exists():
            tools["uv export"] = [uv, "export", "--frozen", "--offline", "--no-hashes", "-q"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(root / "pyc")
        outputs = {name: measure(command, root, env)[2] for name, command in tools.items()}
        print("packages read:", ", ".join(f"{k} {v}" for k, v in outputs.items()))
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
        order = list(tools)
        for round_number in range(args.runs):
            shift = round_number % len(order)  # interleaved, in a rotating order
            for name in order[shift:] + order[:shift]:
                elapsed, rss, _first = measure(tools[name], root, env)
                results[name].append((elapsed, rss))
        print(f"{'reader':<10} {'median s':>9} {'min-max s':>13} {'peak RSS MiB':>13}")
        for name, runs in results.items():
            times = [t for t, _ in runs]
            rss = max(r for _, r in runs)
            spread = f"{min(times):.2f}-{max(times):.2f}"
            print(f"{name:<10} {statistics.median(times):>9.2f} {spread:>13} {rss:>13.0f}")


if __name__ == "__main__":
    main()
