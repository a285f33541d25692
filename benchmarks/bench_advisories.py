"""Figures for the advisory layer, side by side with pip-audit, uv audit and pysentry-rs.

Run from the repository root with bastion (and its server extra) installed:
    python benchmarks/bench_advisories.py --peers /path/to/venv-with-peers/bin

The peers' directory must hold pip-audit and pysentry-rs (pip install pip-audit
pysentry-rs); uv is taken from the same directory or PATH. Everything runs
offline: the peers query `bastion db serve` on loopback, which serves the same
database bastion audits against, so the data is identical and any difference in
the findings comes from the tools' matching.

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
RUNS = 3


@dataclass
class Outcome:
    seconds: float
    max_rss_mb: float
    findings: set[tuple[str, str, str]]  # (package, version, id)
    note: str = ""


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
    """Wall time, max RSS (MB) of the process, stdout, stderr, exit code."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return (
            elapsed,
            usage.ru_maxrss / 1024,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            process.returncode,
        )


def run_tool(
    command: Sequence[str],
    cwd: Path,
    parse: Callable[[str], set[tuple[str, str, str]]],
    env: dict[str, str] | None = None,
) -> Outcome:
    times, rss = [], []
    stdout = stderr = ""
    for _ in range(RUNS):
        seconds, mb, stdout, stderr, _ = measure(command, cwd, env)
        times.append(seconds)
        rss.append(mb)
    try:
        findings = parse(stdout)
    except (ValueError, KeyError, TypeError) as exc:
        return Outcome(
            statistics.median(times), max(rss), set(), f"unparsable output: {exc}: {stderr[-300:]}"
        )
    return Outcome(statistics.median(times), max(rss), findings)


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
            env = {**os.environ, "NO_COLOR": "1", "BASTION_CACHE_DIR": str(root / "cache")}
            config = root / "bastion.toml"
            config.write_text("advisory-warn-days = 3650\nadvisory-max-days = 3650\n")

            def audit_command(*inputs: str) -> list[str]:
                options = ["--db", str(db), "--config", str(config), "--format", "json"]
                return [bastion, "audit", *inputs, *options]

            for size in [int(s) for s in args.sizes.split(",")]:
                folder = root / f"lock-{size}"
                write_inputs(folder, pins(size))
                tools: dict[str, tuple[list[str], Callable[[str], set[tuple[str, str, str]]]]] = {
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
                            "--no-cache",
                            "--format",
                            "json",
                            ".",
                        ],
                        parse_pysentry,
                    ),
                }
                results = {
                    name: run_tool(cmd, folder, parse, env) for name, (cmd, parse) in tools.items()
                }
                report(size, results, alias_map(db))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


def report(size: int, results: dict[str, Outcome], aliases: dict[str, str]) -> None:
    reference = results["bastion audit (uv.lock)"]

    def canon(found: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        return {(p, v, aliases.get(i, i)) for p, v, i in found}

    ref = canon(reference.findings)
    peers = [o for n, o in results.items() if not n.startswith("bastion") and o.findings]
    fastest = min((o.seconds for o in peers), default=float("nan"))
    print(f"\n### {size} pinned packages\n")
    print(
        "| tool | wall time (median of 3) | max RSS | findings "
        "| missing vs bastion | extra vs bastion |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, outcome in results.items():
        mine = canon(outcome.findings)
        note = f" ({outcome.note})" if outcome.note else ""
        print(
            f"| {name}{note} | {outcome.seconds:.3f} s | {outcome.max_rss_mb:.0f} MB "
            f"| {len(mine)} | "
            f"{len(ref - mine)} | {len(mine - ref)} |"
        )
        for item in sorted(ref - mine)[:5]:
            print(f"|  missing: {' '.join(item)} | | | | | |")
        for item in sorted(mine - ref)[:5]:
            print(f"|  extra: {' '.join(item)} | | | | | |")
    print(f"\nbastion vs the fastest peer: {fastest / reference.seconds:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
