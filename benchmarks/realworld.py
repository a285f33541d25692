"""Run ``bastion check`` on real repositories and print the docs/realworld.md table.

    python benchmarks/realworld.py DIR [DIR ...]   # each DIR a checked-out repository

Each repository is checked once, offline, in a fresh process with the JSON
report (the advisory data's age is accepted, as the bundled snapshot is old):
inputs read and skipped, exit code, wall time, findings per control.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

AGE_OK = "--advisory-max-days"


def check(repo: Path, config: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bastion",
            "check",
            str(repo),
            "--format",
            "json",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    elapsed = time.perf_counter() - started
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {
            "repo": repo.name,
            "exit": done.returncode,
            "seconds": elapsed,
            "error": done.stderr.strip().splitlines()[-1:],
        }
    per_control = Counter(f["control"] for f in report["findings"])
    status = {c["id"]: c["status"] for c in report["controls"]}
    return {
        "repo": repo.name,
        "exit": done.returncode,
        "seconds": elapsed,
        "inputs": len(report["sources"]),
        "packages": sum(s["packages"] for s in report["sources"]),
        "notes": report.get("notes", []),
        "findings": dict(per_control),
        "status": status,
        "total": len(report["findings"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("repos", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print the raw rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bastion.toml"
        config.write_text("advisory-max-days = 3650\nadvisory-warn-days = 3650\n")
        rows = [check(repo, config) for repo in args.repos]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| repository | inputs (packages) | skipped | exit | time | findings per control |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        if "error" in row:
            cells = (row["repo"], "—", "—", row["exit"], f"{row['seconds']:.2f} s", row["error"])
            print("| " + " | ".join(str(c) for c in cells) + " |")
            continue
        findings = ", ".join(f"{k} {v}" for k, v in sorted(row["findings"].items())) or "none"
        errors = [k for k, v in row["status"].items() if v == "error"]
        if errors:
            findings += f"; error: {', '.join(errors)}"
        skipped = sum(int(n.split()[0]) for n in row["notes"]) if row["notes"] else 0
        print(
            f"| {row['repo']} | {row['inputs']} ({row['packages']}) | {skipped} | {row['exit']} "
            f"| {row['seconds']:.2f} s | {findings} |"
        )


if __name__ == "__main__":
    main()
