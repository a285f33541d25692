"""False-positive rate of the typosquat check on the declared dependencies of real projects.

Run from the repository root with bastion installed:
    python benchmarks/bench_typosquat_fp.py [--approved FILE]

Corpus: tests/realworld/names/<project>/ holds each project's own files
(pyproject.toml, requirements files), copied unchanged (see its README.md).
Every distinct declared name of a project is judged with the default
settings (the bundled popularity corpus, report threshold 0.6); a
popular project's declared dependencies are real packages its maintainers
chose, so every name reported is counted as a false positive, and listed so
that a reader can check. ``--approved`` applies an approved-packages file
first, as the control does.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bastion._internal.config import Config
from bastion._internal.controls.names import REPORT_CONFIDENCE, typosquat_index
from bastion._internal.names.approved import read_approved

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "realworld" / "names"


def _requirement_names(items: object) -> set[str]:
    names: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, str):
            continue  # {include-group = ...}
        try:
            names.add(canonicalize_name(Requirement(item.replace("{{ version }}", "0")).name))
        except InvalidRequirement:
            continue
    return names


def pyproject_names(path: Path) -> set[str]:
    """Names in [project] dependencies, optional dependencies, dependency groups, Poetry."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    project = data.get("project", {})
    names = _requirement_names(project.get("dependencies"))
    for extra in project.get("optional-dependencies", {}).values():
        names |= _requirement_names(extra)
    for group in data.get("dependency-groups", {}).values():
        names |= _requirement_names(group)
    # Dependencies a build hook fills in (pydantic-ai's uv-dynamic-versioning hook).
    for hook in data.get("tool", {}).get("hatch", {}).get("metadata", {}).get("hooks", {}).values():
        names |= _requirement_names(hook.get("dependencies"))
        for extra in hook.get("optional-dependencies", {}).values():
            names |= _requirement_names(extra)
    poetry = data.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for table in tables:
        names |= {canonicalize_name(n) for n in table if n != "python"}
    return names - {canonicalize_name(project.get("name", ""))}


def requirements_names(path: Path) -> set[str]:
    """Names of the requirement lines (options, includes, URLs and comments skipped)."""
    names: set[str] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "http:", "https:", "git+")):
            continue
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return names


def declared(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(folder.rglob("*")):
        if path.name == "pyproject.toml":
            names |= pyproject_names(path)
        elif path.suffix == ".txt" and "requirements" in path.as_posix():
            names |= requirements_names(path)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approved", type=Path, help="An approved-packages file to apply.")
    args = parser.parse_args()
    approved = read_approved(args.approved) if args.approved else frozenset()
    index = typosquat_index(Config())
    total = flagged_total = 0
    print("| project | declared names | reported | names reported (imitating) |")
    print("|---|---:|---:|---|")
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        names = sorted(declared(folder) - approved)
        reported = []
        for name in names:
            found = index.judge(name)
            if found is not None and found.confidence >= REPORT_CONFIDENCE:
                reported.append(f"{name} ({found.imitates}, {found.confidence:.2f})")
        total += len(names)
        flagged_total += len(reported)
        print(f"| {folder.name} | {len(names)} | {len(reported)} | {', '.join(reported)} |")
    rate = flagged_total / total if total else 0.0
    print(f"| **all** | **{total}** | **{flagged_total}** | false-positive rate {rate:.1%} |")


if __name__ == "__main__":
    main()
