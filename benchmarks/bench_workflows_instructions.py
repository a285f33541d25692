"""Instructions executed by ``bastion workflows``, this tree beside an earlier one (callgrind).

Run from the repository root with valgrind installed:
    git archive <commit> src | tar -x -C /tmp/bastion-before
    python benchmarks/bench_workflows_instructions.py --baseline /tmp/bastion-before/src

Wall and CPU times swing with the load of a shared machine; the number of
instructions a run executes does not. For each tree (PYTHONPATH at its
``src``, warm bytecode in a temporary folder) and each workload (the
1,006-file corpus of bench_workflows.py, and one real repository,
``Textualize__rich``), one warm-up run, then one run under
``valgrind --tool=callgrind`` (about 50 times slower than a plain run);
the total it collected is printed, with the two trees' JSON reports
compared (``generated_at`` aside).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_workflows  # noqa: E402

REPO = HERE.parent
REAL = REPO / "tests" / "data" / "workflows" / "real"
_COLLECTED = re.compile(r"Collected : (\d+)")


def _run(src: Path, pyc: Path, args: list[str], callgrind: Path | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(src), PYTHONPYCACHEPREFIX=str(pyc))
    command = [sys.executable, "-m", "bastion", *args]
    if callgrind is not None:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={callgrind}", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if not done.stdout.startswith("{"):
        raise SystemExit(f"bastion failed ({src}): {done.stderr[-500:]}")
    if callgrind is None:
        return "\n".join(line for line in done.stdout.splitlines() if "generated_at" not in line)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"no callgrind total: {done.stderr[-500:]}")
    return found.group(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True, help="src/ of the earlier tree")
    args = parser.parse_args()
    trees = {"before": args.baseline.resolve(), "after": REPO / "src"}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        bench_workflows.build_corpus(root / "corpus", 1000)
        workloads = {
            "1,006 workflow files": ["workflows", str(root / "corpus"), "--format", "json"],
            "Textualize__rich": [
                "workflows",
                str(REAL / "Textualize__rich"),
                "--actions-dir",
                str(REAL / "_actions" / "default"),
                "--format",
                "json",
            ],
        }
        print("| run | before | after | after/before | same JSON |")
        print("|---|---:|---:|---:|---|")
        for name, command in workloads.items():
            counts: dict[str, int] = {}
            reports: dict[str, str] = {}
            for tree, src in trees.items():
                pyc = root / f"pyc-{tree}"
                reports[tree] = _run(src, pyc, command, None)  # warm-up, writes the bytecode
                counts[tree] = int(_run(src, pyc, command, root / f"cg-{tree}.out"))
            same = "yes" if reports["before"] == reports["after"] else "NO"
            print(
                f"| {name} | {counts['before'] / 1e6:,.0f} M | {counts['after'] / 1e6:,.0f} M "
                f"| {counts['after'] / counts['before']:.2f} | {same} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
