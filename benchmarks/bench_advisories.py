"""Figures for the advisory layer, side by side with pip-audit, uv audit and pysentry-rs.

Run from the repository root with bastion (and its server extra) installed:
    python benchmarks/bench_advisories.py --peers /path/to/venv-with-peers/bin

The peers' directory must hold pip-audit and pysentry-rs (pip install pip-audit
pysentry-rs); uv is taken from the same directory or PATH. Everything runs
offline: the peers query `bastion db serve` on loopback, which serves the same
database bastion audits against, so the data is identical and any difference in
the findings comes from the tools' matching. pysentry-rs runs with
--no-maintenance-check (else it asks PyPI) and a warm cache of its own; uv audit
cannot run offline (it asks PyPI for the packages' pages), so it runs only with
--uv-audit. Running the peers against a warm local server flatters them: their
matching runs in a server that has been up all along, bastion's in a cold
process that opens the database itself.

Timing: one warm-up run of each tool, then --runs rounds, each running every
tool once in a rotated order (interleaved); medians and min-max of wall time,
peak RSS from GNU time. Every tool runs from bytecode (see the env below).
The same rounds time the floor of any CPython tool with bastion's dependencies
(``python -c 'import click, packaging.version, sqlite3, json'``), and each size
ends with issue 19's goals for it, met or not.

Inputs: the N most-downloaded PyPI names (../shared/data/popularity), each pinned
to a version that some PYSEC record lists as affected when the package has one
(so that every tool has real work), else to 1.0.0. The same pins are written as
a requirements file (pip-audit, bastion) and as a uv.lock (uv audit, pysentry-rs,
bastion).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POPULAR = REPO.parent / "shared" / "data" / "popularity" / "top-pypi-packages.json"
SNAPSHOT = REPO / "src" / "bastion" / "data" / "osv-pypi.zip"
RUNS = 5
# Issue 19's goals for the bastion audit of a uv.lock: seconds (median), and ahead of pysentry-rs;
# at 1,000 pins also at least 10x pip-audit.
GOALS = {300: 0.12, 1000: 0.20}
FLOOR = "floor: python -c 'import click, packaging.version, sqlite3, json'"
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""


@dataclass
class Outcome:
    seconds: float  # median
    max_rss_mb: float
    findings: set[tuple[str, str, str]]  # (package, version, id)
    note: str = ""
    fastest: float = 0.0
    slowest: float = 0.0


def popular(count: int) -> list[str]:
    rows = json.loads(POPULAR.read_text())["rows"]
    return [row["project"].lower().replace("_", "-").replace(".", "-") for row in rows[:count]]


def affected_versions() -> dict[str, str]:
    """For each package with a PYSEC record, one version that record lists as affected."""
    chosen: dict[str, tuple[str, str]] = {}
    with zipfile.ZipFile(SNAPSHOT) as archive:
        for name in sorted(archive.namelist()):
            if not name.startswith("PYSEC-"):
                continue
            record = json.loads(archive.read(name))
            for entry in record.get("affected", []):
                package = entry["package"]["name"].lower().replace("_", "-").replace(".", "-")
                versions = [v for v in entry.get("versions", []) if v.replace(".", "").isdigit()]
                if versions and package not in chosen:
                    chosen[package] = (record["id"], versions[-1])
    return {package: version for package, (_, version) in chosen.items()}


def pins(count: int) -> list[tuple[str, str]]:
    vulnerable = affected_versions()
    return [(name, vulnerable.get(name, "1.0.0")) for name in popular(count)]


def write_inputs(folder: Path, pinned: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in pinned))
    deps = ",\n".join(f'    "{n}=={v}"' for n, v in pinned)
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "bench-app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [\n{deps},\n]\n"
    )
    lock = ['version = 1\nrevision = 3\nrequires-python = ">=3.11"\n']
    lock.append(
        '\n[[package]]\nname = "bench-app"\nversion = "0.1.0"\n'
        'source = { virtual = "." }\ndependencies = [\n'
        + "".join(f'    {{ name = "{n}" }},\n' for n, _ in pinned)
        + "]\n"
    )
    for name, version in pinned:
        lock.append(
            f'\n[[package]]\nname = "{name}"\nversion = "{version}"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
        )
    (folder / "uv.lock").write_text("".join(lock))


def measure(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, str, str, int]:
    """Wall time, max RSS (MB) of the process, stdout, stderr, exit code.

    The peak RSS comes from GNU time (``-f %M``): the rusage ``wait4`` returns for a
    child forked from this benchmark starts at the benchmark's own high-water mark
    (Linux keeps it across fork and exec), which made every tool look alike.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile() as peak,
    ):
        wrapped = [TIME, "-q", "-f", "%M", "-o", peak.name, *command] if TIME else list(command)
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        kilobytes = peak.read().decode().strip().splitlines()[-1:] if TIME else []
        return (
            elapsed,
            int(kilobytes[0]) / 1024 if kilobytes else usage.ru_maxrss / 1024,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            process.returncode,
        )


Tools = dict[str, tuple[list[str], Callable[[str], set[tuple[str, str, str]]]]]


def run_interleaved(tools: Tools, cwd: Path, env: dict[str, str], runs: int) -> dict[str, Outcome]:
    """One warm-up run of each tool, then ``runs`` rounds, each running every tool once (the
    order rotated each round), so that a slower or busier moment hits every tool alike."""
    names = list(tools)
    times: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, list[float]] = {n: [] for n in names}
    last: dict[str, tuple[str, str]] = {}
    for name in names:  # warm-up: caches filled, pages in memory; not counted
        _, _, stdout, stderr, _ = measure(tools[name][0], cwd, env)
        last[name] = (stdout, stderr)
    for round_number in range(runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, mb, stdout, stderr, _ = measure(tools[name][0], cwd, env)
            times[name].append(seconds)
            rss[name].append(mb)
            last[name] = (stdout, stderr)
    outcomes = {}
    for name in names:
        stdout, stderr = last[name]
        median, fastest, slowest = statistics.median(times[name]), *_span(times[name])
        try:
            findings = tools[name][1](stdout)
            note = ""
        except (ValueError, KeyError, TypeError) as exc:
            findings, note = set(), f"unparsable output: {exc}: {stderr[-300:]}"
        outcomes[name] = Outcome(median, max(rss[name]), findings, note, fastest, slowest)
    return outcomes


def _span(values: list[float]) -> tuple[float, float]:
    return min(values), max(values)


def parse_bastion(text: str) -> set[tuple[str, str, str]]:
    data = json.loads(text)
    return {
        (f["package"], f["version"], f["aliases"][0])
        for f in data["findings"]
        if f["rule_id"] in ("known-vulnerable", "known-malicious")
    }


def parse_pip_audit(text: str) -> set[tuple[str, str, str]]:
    data = json.loads(text)
    return {
        (d["name"].lower(), d["version"], v["id"])
        for d in data["dependencies"]
        for v in d.get("vulns", [])
    }


def parse_uv_audit(text: str) -> set[tuple[str, str, str]]:
    data = json.loads(text)
    found = set()
    for item in data.get("vulnerabilities", data.get("findings", [])):
        package = item.get("package") or item.get("dependency") or {}
        name = package.get("name") if isinstance(package, dict) else item.get("name")
        version = package.get("version") if isinstance(package, dict) else item.get("version")
        found.add((str(name).lower(), str(version), str(item.get("id"))))
    return found


def parse_pysentry(text: str) -> set[tuple[str, str, str]]:
    start = text.index("{")
    data = json.loads(text[start:])
    return {
        (v["package_name"].lower(), v["installed_version"], v["id"])
        for v in data["vulnerabilities"]
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alias_map(db: Path) -> dict[str, str]:
    """Every id and alias to bastion's display id, to compare ids across tools."""
    import sqlite3

    connection = sqlite3.connect(db)
    mapping: dict[str, str] = {}
    for advisory_id, alias in connection.execute("SELECT advisory_id, alias FROM alias"):
        mapping.setdefault(alias, advisory_id)
    connection.close()
    return mapping


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--peers", type=Path, required=True, help="bin/ with pip-audit, pysentry-rs"
    )
    parser.add_argument("--sizes", default="300,1000")
    parser.add_argument("--runs", type=int, default=RUNS, help="interleaved rounds")
    parser.add_argument(
        "--uv-audit",
        action="store_true",
        help="also run uv audit (it cannot run offline: it asks PyPI; left out by default)",
    )
    args = parser.parse_args()
    peers: Path = args.peers
    uv = shutil.which("uv", path=f"{peers}:{os.environ.get('PATH', '')}") or "uv"
    bastion = shutil.which("bastion") or "bastion"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = root / "advisories.sqlite3"
        seconds, mb, out, err, _ = measure(
            [bastion, "db", "update", "--from", str(SNAPSHOT), "--db", str(db)], root
        )
        print(
            f"import of the bundled snapshot: {seconds:.2f} s, max RSS {mb:.0f} MB "
            f"({out.strip() or err.strip()})"
        )
        port = free_port()
        server = subprocess.Popen(
            [bastion, "db", "serve", "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            # Every tool runs from bytecode, as after an install (pip writes .pyc files):
            # PYTHONDONTWRITEBYTECODE in the environment would make bastion compile its
            # sources on every run (about 0.1 s); the .pyc files go under the temporary folder.
            env = {
                **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                "PYTHONPYCACHEPREFIX": str(root / "pycache"),
                "NO_COLOR": "1",
                "BASTION_CACHE_DIR": str(root / "cache"),
            }
            config = root / "bastion.toml"
            config.write_text("advisory-warn-days = 3650\nadvisory-max-days = 3650\n")

            def audit_command(*inputs: str) -> list[str]:
                options = ["--db", str(db), "--config", str(config), "--format", "json"]
                return [bastion, "audit", *inputs, *options]

            for size in [int(s) for s in args.sizes.split(",")]:
                folder = root / f"lock-{size}"
                write_inputs(folder, pins(size))
                tools: Tools = {
                    "bastion audit (uv.lock)": (audit_command("--lock", "uv.lock"), parse_bastion),
                    "bastion audit (requirements)": (
                        audit_command("-r", "requirements.txt"),
                        parse_bastion,
                    ),
                    "pip-audit": (
                        [
                            str(peers / "pip-audit"),
                            "-s",
                            "osv",
                            "--osv-url",
                            f"http://127.0.0.1:{port}/v1/query",
                            "--disable-pip",
                            "--no-deps",
                            "-r",
                            "requirements.txt",
                            "-f",
                            "json",
                            "--progress-spinner",
                            "off",
                        ],
                        parse_pip_audit,
                    ),
                    "uv audit": (
                        [
                            uv,
                            "audit",
                            "--frozen",
                            "--service-url",
                            f"http://127.0.0.1:{port}/",
                            "--output-format",
                            "json",
                        ],
                        parse_uv_audit,
                    ),
                    "pysentry-rs": (
                        [
                            str(peers / "pysentry-rs"),
                            "--sources",
                            "osv",
                            "--service-url",
                            f"http://127.0.0.1:{port}/v1",
                            "--no-maintenance-check",
                            "--cache-dir",
                            str(root / "pysentry-cache"),
                            "--format",
                            "json",
                            ".",
                        ],
                        parse_pysentry,
                    ),
                }
                if not args.uv_audit:
                    del tools["uv audit"]
                # What any CPython tool with bastion's dependencies pays before its first line
                # of work (interpreter start and these imports), measured in the same rounds.
                floor = "import click, packaging.version, sqlite3, json"
                tools[FLOOR] = ([sys.executable, "-c", floor], lambda _: set())
                results = run_interleaved(tools, folder, env, args.runs)
                report(size, results, alias_map(db), args.runs)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


def report(size: int, results: dict[str, Outcome], aliases: dict[str, str], runs: int) -> None:
    reference = results["bastion audit (uv.lock)"]

    def canon(found: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        return {(p, v, aliases.get(i, i)) for p, v, i in found}

    ref = canon(reference.findings)
    peers = [
        o for n, o in results.items() if not n.startswith("bastion") and n != FLOOR and o.findings
    ]
    fastest = min((o.seconds for o in peers), default=float("nan"))
    print(f"\n### {size} pinned packages\n")
    print(
        f"| tool | wall time, median of {runs} (min-max) | max RSS | findings "
        "| missing vs bastion | extra vs bastion |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, outcome in results.items():
        if name == FLOOR:
            print(
                f"| {name} | {outcome.seconds:.3f} s ({outcome.fastest:.3f}-"
                f"{outcome.slowest:.3f}) | {outcome.max_rss_mb:.0f} MB | - | - | - |"
            )
            continue
        mine = canon(outcome.findings)
        note = f" ({outcome.note})" if outcome.note else ""
        print(
            f"| {name}{note} | {outcome.seconds:.3f} s ({outcome.fastest:.3f}-"
            f"{outcome.slowest:.3f}) | {outcome.max_rss_mb:.0f} MB "
            f"| {len(mine)} | "
            f"{len(ref - mine)} | {len(mine - ref)} |"
        )
        for item in sorted(ref - mine)[:5]:
            print(f"|  missing: {' '.join(item)} | | | | | |")
        for item in sorted(mine - ref)[:5]:
            print(f"|  extra: {' '.join(item)} | | | | | |")
    print(f"\nbastion vs the fastest peer: {fastest / reference.seconds:.1f}x")
    goal = GOALS.get(size)
    if goal is not None:
        pysentry = results.get("pysentry-rs")
        pip_audit = results.get("pip-audit")
        checks = [f"median {reference.seconds:.3f} s <= {goal} s: {reference.seconds <= goal}"]
        if pysentry is not None and pysentry.findings:
            ahead = reference.seconds < pysentry.seconds
            checks.append(f"ahead of pysentry-rs ({pysentry.seconds:.3f} s): {ahead}")
        if size >= 1000 and pip_audit is not None and pip_audit.findings:
            ratio = pip_audit.seconds / reference.seconds
            checks.append(f"{ratio:.1f}x pip-audit (goal 10x): {ratio >= 10}")
        print(f"goal (issue 19, bastion audit of the uv.lock): {'; '.join(checks)}")


if __name__ == "__main__":
    sys.exit(main())
