"""The workflow audit on real repositories: bastion beside zizmor, and the historical attack paths.

Run from the repository root with bastion installed and zizmor in a throwaway
venv (``python3 -m venv /tmp/zz && /tmp/zz/bin/pip install zizmor``):
    python benchmarks/bench_workflows_real.py [--zizmor /tmp/zz/bin/zizmor] [--runs 5]

Corpus: ``tests/data/workflows/real/`` (unchanged copies of real workflow files,
see each ATTRIBUTION.md). bastion follows ``uses: ultralytics/actions@main``
into ``_actions/`` (``--actions-dir``, see its README); zizmor runs ``--offline`` on the same
folders (it does not follow remote composite actions). Timing: one cold process
per tool per repository, the two tools interleaved repository by repository
(which goes first alternating by round), the whole corpus per run; medians and
min-max over the runs, then each repository's median per tool (wall and CPU
time, the CPU from ``getrusage``) and the median repository. bastion runs from
bytecode kept in a temporary folder, as after an install. Then per rule the
findings of each tool, and for each historical attack path whether each tool
reports it (the evidence it gives).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "workflows" / "real"
ACTIONS = CORPUS / "_actions"

Found = list[tuple[str, str, int, str, str]]  # (rule, file, line, severity, message)
# bastion runs from bytecode, as after an install (this environment sets PYTHONDONTWRITEBYTECODE)
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "bench-workflows-real-pyc"),
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def repositories() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and p.name != "_actions")


def run_bastion(folder: Path) -> tuple[float, Found]:
    command = [sys.executable, "-m", "bastion", "workflows", str(folder), "--format", "json"]
    own = ACTIONS / folder.name
    command += ["--actions-dir", str(own if own.is_dir() else ACTIONS / "default")]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    if not done.stdout.startswith("{"):
        raise SystemExit(f"bastion failed on {folder}: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    found: Found = []
    for item in report["findings"]:
        location = item.get("location") or {}
        path = str(location.get("path", ""))
        found.append(
            (item["rule_id"], path, location.get("line") or 0, item["severity"], item["message"])
        )
    return elapsed, found


def run_zizmor(zizmor: str, folder: Path) -> tuple[float, Found]:
    command = [zizmor, "--offline", "--format", "json", "--no-progress", str(folder)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    found: Found = []
    for item in json.loads(done.stdout or "[]"):
        primary = next(
            (x for x in item["locations"] if x["symbolic"]["kind"] == "Primary"),
            item["locations"][0],
        )
        key = primary["symbolic"]["key"]
        path = next(iter(key.values()))["verbatim_path"] if isinstance(key, dict) else str(key)
        line = primary["concrete"]["location"]["start_point"]["row"] + 1
        severity = item["determinations"]["severity"].lower()
        found.append((item["ident"], path, line, severity, item["desc"]))
    return elapsed, found


@dataclass(frozen=True)
class AttackPath:
    """A historical case: which repository, what happened, and how to recognise a report of it."""

    repository: str
    path: str
    bastion: Callable[[Found], list[str]]
    zizmor: Callable[[Found], list[str]]


def _where(
    rules: tuple[str, ...], file_part: str, severities: tuple[str, ...] = ()
) -> Callable[[Found], list[str]]:
    def match(found: Found) -> list[str]:
        return [
            f"{rule} {severity} {Path(path).name}:{line}"
            for rule, path, line, severity, _ in found
            if rule in rules and file_part in path and (not severities or severity in severities)
        ]

    return match


PATHS = (
    AttackPath(
        "ultralytics__ultralytics__chain",
        "branch name injected into `git pull` in ultralytics/actions@main under "
        "pull_request_target",
        _where(("template-injection",), "action.yml", ("critical",)),
        _where(("template-injection",), "action.yml"),
    ),
    AttackPath(
        "ultralytics__ultralytics__chain",
        "that job can write the Actions cache; publish.yml restores it (setup-python pip) "
        "and publishes",
        _where(("cache-poisoning",), "publish.yml", ("critical",)),
        _where(("cache-poisoning",), "publish.yml"),
    ),
    AttackPath(
        "ultralytics__yolov5__before-e62a31b6",
        "yolov5 format.yml under pull_request_target runs the injectable action",
        _where(("template-injection", "pwn-request"), "action.yml", ("critical",)),
        _where(("template-injection", "pwn-request"), "action.yml"),
    ),
    AttackPath(
        "ultralytics__yolov5__e62a31b6",
        "(false alarm to avoid) yolov5 after the move to pull_request: nothing critical",
        _where(("template-injection", "pwn-request", "cache-poisoning"), "", ("critical",)),
        _where(("template-injection", "pwn-request", "dangerous-triggers"), "", ("high",)),
    ),
    AttackPath(
        "spotbugs__sonar-findbugs__eb3982eb",
        "sonarqube.yml checks out refs/pull/N/merge via action-cond's output under "
        "pull_request_target and runs ./mvnw with secrets (tj-actions root)",
        _where(("pwn-request",), "sonarqube.yml"),
        _where(("pwn-request", "template-injection", "artipacked"), "sonarqube.yml"),
    ),
    AttackPath(
        "spotbugs__sonar-findbugs__eb3982eb",
        "the same job writes the maven cache that build.yml's release job restores",
        _where(("cache-poisoning",), "build.yml", ("critical",)),
        _where(("cache-poisoning",), "build.yml"),
    ),
    AttackPath(
        "encode__httpx",
        "a PyPI token handed to scripts/publish (no extension)",
        _where(("use-trusted-publishing",), "publish.yml"),
        _where(("use-trusted-publishing",), "publish.yml"),
    ),
    AttackPath(
        "aio-libs__aiohttp",
        "a cache restored in gen-llhttp reaches the tag-gated deploy job through artifacts",
        _where(("cache-poisoning",), "ci-cd.yml"),
        _where(("cache-poisoning",), "ci-cd.yml"),
    ),
    AttackPath(
        "python-poetry__poetry",
        "(false alarm to avoid) docs.yaml:47 sparse checkout of docs under pull_request_target",
        _where(("pwn-request",), "docs.yaml"),
        _where(("pwn-request",), "docs.yaml"),
    ),
    AttackPath(
        "pydantic__pydantic-ai",
        "(false alarm to avoid) bots.yml:252 PR head in a subfolder, read with gh api only",
        _where(("pwn-request",), "bots.yml"),
        _where(("pwn-request",), "bots.yml"),
    ),
)


def _in_process(folders: list[Path], runs: int) -> list[float]:
    """The audit itself: every repository of the corpus in this process, per run."""
    from bastion._internal.workflows.audit import audit_repository

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for folder in folders:
            own = ACTIONS / folder.name
            audit_repository(folder, actions_dirs=(own if own.is_dir() else ACTIONS / "default",))
        times.append(time.perf_counter() - start)
    return times


def _per_repository(
    per_repo: dict[str, dict[str, list[float]]], cpu: dict[str, dict[str, list[float]]]
) -> None:
    """Each repository's median per tool; the median repository; how often bastion is ahead."""
    names = sorted(per_repo["zizmor"], key=lambda n: statistics.median(per_repo["zizmor"][n]))
    print("\nper repository (median wall ms; median CPU ms), ordered by zizmor's time:")
    ahead = 0
    for name in names:
        b = statistics.median(per_repo["bastion"][name])
        z = statistics.median(per_repo["zizmor"][name])
        ahead += b < z
        b_cpu = statistics.median(cpu["bastion"][name])
        z_cpu = statistics.median(cpu["zizmor"][name])
        print(
            f"  {name}: bastion {b * 1000:.0f} ({b_cpu * 1000:.0f})"
            f"  zizmor {z * 1000:.0f} ({z_cpu * 1000:.0f})"
        )
    middle = names[len(names) // 2]
    b_all = [statistics.median(v) for v in per_repo["bastion"].values()]
    z_all = [statistics.median(v) for v in per_repo["zizmor"].values()]
    print(
        f"median repository (by zizmor's time): {middle}: bastion "
        f"{statistics.median(per_repo['bastion'][middle]) * 1000:.0f} ms, zizmor "
        f"{statistics.median(per_repo['zizmor'][middle]) * 1000:.0f} ms"
    )
    print(
        f"median over the repositories: bastion {statistics.median(b_all) * 1000:.0f} ms, "
        f"zizmor {statistics.median(z_all) * 1000:.0f} ms; bastion ahead on {ahead} of "
        f"{len(names)} (load {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zizmor", default="/tmp/zz/bin/zizmor")  # noqa: S108 (a throwaway venv)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folders = repositories()
    times: dict[str, list[float]] = {"bastion": [], "zizmor": []}
    results: dict[str, dict[str, Found]] = {"bastion": {}, "zizmor": {}}
    per_repo: dict[str, dict[str, list[float]]] = {"bastion": {}, "zizmor": {}}
    cpu: dict[str, dict[str, list[float]]] = {"bastion": {}, "zizmor": {}}
    run_bastion(folders[0])  # warm-up: writes the bytecode
    for round_number in range(args.runs):
        total = {"bastion": 0.0, "zizmor": 0.0}
        for folder in folders:  # interleaved, repository by repository, the order alternating
            tools = ("bastion", "zizmor") if round_number % 2 == 0 else ("zizmor", "bastion")
            for tool in tools:
                before = _children_cpu()
                if tool == "bastion":
                    elapsed, found = run_bastion(folder)
                else:
                    elapsed, found = run_zizmor(args.zizmor, folder)
                cpu[tool].setdefault(folder.name, []).append(_children_cpu() - before)
                total[tool] += elapsed
                results[tool][folder.name] = found
                per_repo[tool].setdefault(folder.name, []).append(elapsed)
        for tool, value in total.items():
            times[tool].append(value)
    in_process = _in_process(folders, args.runs)
    files = sum(1 for f in folders for p in (f / ".github" / "workflows").glob("*.y*ml"))
    print(f"{len(folders)} repositories, {files} workflow files, {args.runs} runs")
    for tool, values in times.items():
        print(
            f"{tool}: median {statistics.median(values):.2f} s "
            f"(min {min(values):.2f}, max {max(values):.2f}) for the corpus, one process "
            "per repository"
        )
    print(
        f"bastion in one process (audit_repository per repository, no CLI start-up): median "
        f"{statistics.median(in_process):.2f} s (min {min(in_process):.2f}, "
        f"max {max(in_process):.2f})"
    )
    _per_repository(per_repo, cpu)
    print("\nfindings per rule (bastion / zizmor):")
    counts = {tool: Counter(r for f in results[tool].values() for r, *_ in f) for tool in results}
    for rule in sorted(set(counts["bastion"]) | set(counts["zizmor"])):
        print(f"  {rule}: {counts['bastion'][rule]} / {counts['zizmor'][rule]}")
    print("\nattack paths:")
    for case in PATHS:
        bastion = case.bastion(results["bastion"][case.repository])
        zizmor = case.zizmor(results["zizmor"][case.repository])
        print(f"- {case.repository}: {case.path}")
        print(f"    bastion: {'; '.join(bastion[:3]) or '-'}")
        print(f"    zizmor:  {'; '.join(zizmor[:3]) or '-'}")


if __name__ == "__main__":
    main()
