"""Figures for the workflow audit: bastion beside zizmor on the same corpus.

Run from the repository root with bastion and zizmor installed
(pip install zizmor):
    python benchmarks/bench_workflows.py [--files 1000] [--runs 5]

Corpus: one repository holding bastion's own workflow fixtures (the
Ultralytics-shaped vulnerable and fixed projects, the example project's
workflows) plus N generated workflow files. The generator draws, with a fixed
seed, the shapes the rules are about: privileged and ordinary triggers,
permissions blocks, checkouts of the base or the pull request, caches in
release jobs, expressions from attacker-controlled, structured and fixed
contexts (in run:, in env:), installs with and without hashes, curl | sh,
publishing with a token or trusted publishing, self-hosted runners, bot
conditions, secrets: inherit, writes to GITHUB_ENV.

Timing: wall time of one cold process per tool (``bastion workflows DIR
--format json``; ``zizmor --offline --format json DIR``): one warm-up run each,
then the runs interleaved (each round runs both, the order alternating), median
and min-max; the CPU time (user + system of the process and its threads, from
``getrusage``) beside it, which a loaded machine disturbs less than the wall
time. bastion runs from bytecode, as after an install.
Comparison: for each rule id both tools use, the (file, rule) pairs only one
of them reports; then the rules only one tool has.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "data" / "workflows" / "ultralytics"
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
ATTACKER = [
    "github.head_ref",
    "github.event.pull_request.title",
    "github.event.issue.body",
    "github.event.comment.body",
    "github.event.head_commit.message",
]
HARMLESS = ["github.sha", "github.event.pull_request.number", "matrix.python", "github.run_id"]
TRIGGERS = [
    "push",
    "pull_request",
    "pull_request_target",
    "issues",
    "issue_comment",
    "workflow_run",
    "release",
]


def _step(rng: random.Random) -> str:
    kind = rng.randrange(12)
    pin = SHA if rng.random() < 0.4 else rng.choice(["v4", "main", "v4.2.1"])
    if kind == 0:
        ref = "${{ github.event.pull_request.head.sha }}" if rng.random() < 0.3 else ""
        lines = [f"      - uses: actions/checkout@{pin}"]
        withs = []
        if ref:
            withs.append(f"          ref: {ref}")
        if rng.random() < 0.5:
            withs.append("          persist-credentials: false")
        if withs:
            lines += ["        with:", *withs]
        return "\n".join(lines)
    if kind == 1:
        cache = "\n          cache: pip" if rng.random() < 0.5 else ""
        return (
            f"      - uses: actions/setup-python@{pin}\n        with:\n"
            f'          python-version: "3.12"{cache}'
        )
    if kind == 2:
        context = rng.choice(ATTACKER + HARMLESS)
        if rng.random() < 0.5:
            return f'      - run: echo "${{{{ {context} }}}}"'
        return f'      - env:\n          VALUE: ${{{{ {context} }}}}\n        run: echo "$VALUE"'
    if kind == 3:
        return rng.choice(
            [
                "      - run: pip install -r requirements.txt",
                "      - run: pip install --require-hashes -r requirements.txt",
                "      - run: uv sync --locked",
                "      - run: uv sync",
            ]
        )
    if kind == 4:
        return "      - run: curl -sSfL https://example.com/install.sh | bash"
    if kind == 5:
        if rng.random() < 0.5:
            return (
                f"      - uses: pypa/gh-action-pypi-publish@{pin}\n        with:\n"
                "          password: ${{ secrets.PYPI_API_TOKEN }}"
            )
        return f"      - uses: pypa/gh-action-pypi-publish@{pin}"
    if kind == 6:
        return "      - run: python -m build"
    if kind == 7:
        return '      - run: echo "X=1" >> "$GITHUB_ENV"'
    if kind == 8:
        return f"      - uses: some-org/some-action@{pin}"
    if kind == 9:
        return (
            f"      - uses: actions/cache@{pin}\n        with:\n"
            "          path: ~/.cache/pip\n          key: pip"
        )
    if kind == 10:
        return "      - run: pip-audit -r requirements.txt || true"
    return "      - run: make test"


def _workflow(rng: random.Random, number: int) -> str:
    trigger = rng.choice(TRIGGERS)
    head = [f"name: generated {number}", f"on: {trigger}"]
    permissions = rng.choice(
        ["", "permissions: {}", "permissions: write-all", "permissions:\n  contents: read"]
    )
    if permissions:
        head.append(permissions)
    head.append("jobs:")
    for job in range(rng.randint(1, 3)):
        runner = "[self-hosted, linux]" if rng.random() < 0.05 else "ubuntu-latest"
        head.append(f"  job{job}:")
        head.append(f"    runs-on: {runner}")
        if rng.random() < 0.1:
            head.append("    if: github.actor == 'dependabot[bot]'")
        if rng.random() < 0.3:
            head.append("    permissions:\n      id-token: write\n      contents: read")
        head.append("    steps:")
        for _ in range(rng.randint(2, 8)):
            head.append(_step(rng))
    if rng.random() < 0.05:
        head.append(
            f"  call:\n    uses: some-org/workflows/.github/workflows/ci.yml@{SHA}\n"
            "    secrets: inherit"
        )
    return "\n".join(head) + "\n"


def build_corpus(target: Path, files: int) -> None:
    workflows = target / ".github" / "workflows"
    workflows.mkdir(parents=True)
    sources = [
        FIXTURES / "vulnerable" / "repo" / ".github" / "workflows",
        FIXTURES / "fixed" / "repo" / ".github" / "workflows",
        REPO / "examples" / "demo-project" / ".github" / "workflows",
    ]
    for index, folder in enumerate(sources):
        for path in sorted(folder.glob("*.yml")):
            shutil.copy(path, workflows / f"fixture{index}-{path.name}")
    rng = random.Random(20261121)  # noqa: S311 - a reproducible corpus, not a secret
    for number in range(files):
        (workflows / f"gen-{number:04d}.yml").write_text(_workflow(rng, number), encoding="utf-8")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _once(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system, every thread) and the output of one run."""
    cpu = _children_cpu()
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if completed.returncode not in (0, 1, 11, 12, 13, 14):
        raise SystemExit(f"{command[0]} failed ({completed.returncode}): {completed.stderr[:500]}")
    return elapsed, cpu, completed.stdout


def interleaved(
    commands: dict[str, list[str]], runs: int, env: dict[str, str]
) -> dict[str, tuple[float, float, float, float, str]]:
    """Per tool: median, min and max wall time, median CPU time, the last output.

    One warm-up run each, then rounds that run every tool, the order alternating.
    """
    outputs = {name: _once(command, env)[2] for name, command in commands.items()}
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for round_number in range(runs):
        for name in names if round_number % 2 == 0 else names[::-1]:
            elapsed, cpu, outputs[name] = _once(commands[name], env)
            times[name].append(elapsed)
            cpus[name].append(cpu)
    return {
        n: (statistics.median(t), min(t), max(t), statistics.median(cpus[n]), outputs[n])
        for n, t in times.items()
    }


def bastion_pairs(output: str) -> Counter[tuple[str, str]]:
    data = json.loads(output)
    pairs: Counter[tuple[str, str]] = Counter()
    for finding in data["findings"] + data["waived"]:
        location = finding["location"] or {}
        pairs[(Path(location.get("path", "")).name, finding["rule_id"])] += 1
    return pairs


def zizmor_pairs(output: str) -> Counter[tuple[str, str]]:
    pairs: Counter[tuple[str, str]] = Counter()
    for finding in json.loads(output):
        key = finding["locations"][0]["symbolic"]["key"]
        path = next(iter(key.values())).get("verbatim_path") or next(iter(key.values())).get(
            "given_path", ""
        )
        pairs[(Path(path).name, finding["ident"])] += 1
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    zizmor = shutil.which("zizmor")
    if zizmor is None:
        print("zizmor is not installed: pip install zizmor", file=sys.stderr)
        return 2
    bastion = [sys.executable, "-m", "bastion"]
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        build_corpus(corpus, args.files)
        count = len(list((corpus / ".github" / "workflows").glob("*.yml")))
        version = subprocess.run(
            [zizmor, "--version"], capture_output=True, text=True
        ).stdout.strip()
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache"),
        }
        timed = interleaved(
            {
                "bastion": [*bastion, "workflows", str(corpus), "--format", "json"],
                "zizmor": [zizmor, "--offline", "--format", "json", str(corpus)],
            },
            args.runs,
            env,
        )
        b_time, b_fast, b_slow, b_cpu, b_out = timed["bastion"]
        z_time, z_fast, z_slow, z_cpu, z_out = timed["zizmor"]
    ours, theirs = bastion_pairs(b_out), zizmor_pairs(z_out)
    print(
        f"corpus: {count} workflow files ({args.files} generated); {version}; median of {args.runs}"
    )
    print(
        f"bastion workflows: {b_time:.2f} s ({b_fast:.2f}-{b_slow:.2f})   "
        f"zizmor --offline: {z_time:.2f} s ({z_fast:.2f}-{z_slow:.2f})   "
        f"ratio {b_time / z_time:.2f}"
    )
    print(
        f"CPU time (user + system, median): bastion {b_cpu:.2f} s   zizmor {z_cpu:.2f} s   "
        f"ratio {b_cpu / z_cpu:.2f}   (load: {os.getloadavg()[0]:.1f})"
    )
    print()
    our_rules = {rule for _, rule in ours}
    their_rules = {rule for _, rule in theirs}
    print("| rule | bastion | zizmor | files only bastion flags | files only zizmor flags |")
    print("|---|---:|---:|---:|---:|")
    for rule in sorted(our_rules & their_rules):
        our_files = {f for f, r in ours if r == rule}
        their_files = {f for f, r in theirs if r == rule}
        print(
            f"| {rule} | {sum(n for (f, r), n in ours.items() if r == rule)} "
            f"| {sum(n for (f, r), n in theirs.items() if r == rule)} "
            f"| {len(our_files - their_files)} | {len(their_files - our_files)} |"
        )
    print()
    print(
        "only bastion has: "
        + ", ".join(
            f"{rule} ({sum(n for (f, r), n in ours.items() if r == rule)})"
            for rule in sorted(our_rules - their_rules)
        )
    )
    print(
        "only zizmor has: "
        + ", ".join(
            f"{rule} ({sum(n for (f, r), n in theirs.items() if r == rule)})"
            for rule in sorted(their_rules - our_rules)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
