"""The runtime-watch control: does CI run its install, test and build steps under ``bastion watch``?

``bastion watch -- CMD`` detects a payload while a step runs (a miner, a dropped
binary, a process left behind, an undeclared connection); it does not
prevent the install. So this control is listed in the rows of
``compromised-release`` and ``known-malicious`` but never counts as their
guard (``threats.DETECTS_ONLY``). Whether the wrapped steps can fail the
build is judged by the workflow audit's wiring, like every other control.
"""

from __future__ import annotations

import re
from pathlib import Path

from bastion._internal.controls.base import Project, not_configured
from bastion._internal.model import ControlResult, ControlStatus
from bastion._internal.safe_read import read_text

CONTROL = "watch"
THREATS: tuple[str, ...] = ("compromised-release", "known-malicious")
STEP_KINDS = {
    "install": re.compile(
        r"\b(pip3?|python3?\s+-m\s+pip|uv\s+pip)\s+install\b|\buv\s+sync\b|"
        r"\b(poetry|pdm|pipenv)\s+(install|sync)\b"
    ),
    "test": re.compile(r"\b(pytest|tox|nox|hatch\s+test)\b|\bpython3?\s+-m\s+(pytest|unittest)\b"),
    "build": re.compile(
        r"\bpython3?\s+-m\s+build\b|\b(uv|poetry|pdm|hatch|flit)\s+build\b|\bpip3?\s+wheel\b"
    ),
}


class WatchControl:
    """Counts the CI steps that run under the runtime watch (detects, does not prevent)."""

    id = CONTROL
    title = "Runtime watch of CI steps (detects, does not prevent)"
    threats: tuple[str, ...] = THREATS

    def run(self, project: Project) -> ControlResult:
        """``pass`` when a workflow wraps steps in ``bastion watch --``; which kinds, which not."""
        from bastion._internal.workflows.audit import find_repository

        repository = find_repository(project.root)
        if repository is None:
            return not_configured(
                self, "no CI workflows; run steps as 'bastion watch -- CMD' (detects only)"
            )
        watched, unwatched = watched_steps(repository)
        if not watched:
            return not_configured(
                self,
                "no CI step runs under 'bastion watch --' (it would detect a payload at run "
                "time, not prevent it)",
            )
        detail = f"CI runs {sum(watched.values())} command(s) under bastion watch"
        kinds = [k for k in STEP_KINDS if watched.get(k)]
        if kinds:
            detail += f" ({', '.join(kinds)})"
        missing = [k for k in STEP_KINDS if unwatched.get(k)]
        if missing:
            detail += "; not watched: " + ", ".join(f"{k} ({unwatched[k]})" for k in missing)
        detail += "; detects, does not prevent"
        return ControlResult(self.id, ControlStatus.PASS, self.threats, (), detail)


def watched_steps(repository: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Per step kind: how many workflow command lines run under the watch, and how many not.

    A wrapped command of no known kind counts under ``other``.
    """
    from bastion._internal.errors import InputError
    from bastion._internal.workflows.audit import workflow_files
    from bastion._internal.workflows.wiring import TOOLS

    command = next(t.command for t in TOOLS if t.name == "bastion watch")
    watched: dict[str, int] = {}
    unwatched: dict[str, int] = {}
    if command is None:  # pragma: no cover - the tool always has a pattern
        return watched, unwatched
    for path in workflow_files(repository):
        try:
            text = read_text(path)
        except InputError:
            continue
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            match = command.search(line)
            kinds = [k for k, pattern in STEP_KINDS.items() if pattern.search(line)]
            if match is not None:
                wrapped = line[match.end() - 1 :]
                kinds = [k for k, pattern in STEP_KINDS.items() if pattern.search(wrapped)]
                for kind in kinds or ["other"]:
                    watched[kind] = watched.get(kind, 0) + 1
            else:
                for kind in kinds:
                    unwatched[kind] = unwatched.get(kind, 0) + 1
    return watched, unwatched
