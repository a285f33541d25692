"""The workflow audit of a repository: every file, every rule, suppressions, and the CI wiring."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import SKIPPED_DIRS, is_excluded
from bastion._internal.model import Finding, Location, WaivedFinding
from bastion._internal.safe_read import read_text
from bastion._internal.workflows import (
    hygiene,
    injection,
    publishing,
    suppress,
    wiring,
    zizmor,
)
from bastion._internal.workflows.flow import JobRun, expand
from bastion._internal.workflows.injection import ExecutionPoint
from bastion._internal.workflows.model import Action, Job, Workflow
from bastion._internal.workflows.parse import MAX_WORKFLOW_BYTES, parse_action, parse_workflow
from bastion._internal.workflows.resolve import Resolver
from bastion._internal.workflows.rules import finding

_Parsed = TypeVar("_Parsed", Workflow, Action)
WORKFLOW_DIR = Path(".github") / "workflows"
MAX_WORKFLOW_FILES = 5_000
MAX_ACTION_FILES = 500
MAX_ACTION_DEPTH = 4


@dataclass(frozen=True, slots=True)
class WorkflowAudit:
    """What the audit of one repository found."""

    root: Path
    workflows: int
    actions: int  # action definitions audited (the repository's own and those followed)
    findings: tuple[Finding, ...]
    suppressed: tuple[WaivedFinding, ...] = ()
    enforcement: Mapping[str, bool] = field(default_factory=dict)
    download_errors: tuple[str, ...] = ()


def find_repository(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` with ``.github/workflows``, within its git tree."""
    current = start.resolve()
    for folder in (current, *current.parents):
        if (folder / WORKFLOW_DIR).is_dir():
            return folder
        if (folder / ".git").exists():
            return None
    return None


def workflow_files(root: Path) -> list[Path]:
    """The workflow files GitHub reads: ``.github/workflows/*.yml`` and ``*.yaml``."""
    folder = root / WORKFLOW_DIR
    if not folder.is_dir():
        return []
    files = sorted(
        (p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()),
        key=lambda p: p.name,  # siblings: the order of the paths, without comparing Paths
    )
    return files[:MAX_WORKFLOW_FILES]


def action_files(root: Path, exclude: Sequence[str] = ()) -> list[Path]:
    """The repository's own action definitions (``action.yml``), a few levels deep.

    The walk of ``inputs.discovery.find_files`` (names sorted, ``exclude`` globs and
    ``SKIPPED_DIRS`` honoured, symlinked folders not entered, at most
    ``MAX_ACTION_FILES``), over ``os.scandir`` entries: a workflows folder may hold
    a thousand files, and a ``Path`` made, made relative and stat-ed for each was
    a tenth of the audit's own time on 1,006 workflows.
    """
    found: list[Path] = []

    def walk(folder: str, relative: str, depth: int) -> None:
        if len(found) >= MAX_ACTION_FILES:
            return
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            name = entry.name
            if exclude and is_excluded(relative + name, exclude):
                continue
            if name in _ACTION_NAMES and _is(entry.is_file):
                found.append(Path(entry.path))
            elif (
                depth < MAX_ACTION_DEPTH
                and name not in SKIPPED_DIRS
                and _is(entry.is_dir)
                and not entry.is_symlink()
            ):
                walk(entry.path, relative + name + "/", depth + 1)

    walk(str(root), "", 0)
    return found[:MAX_ACTION_FILES]


_ACTION_NAMES = frozenset({"action.yml", "action.yaml"})


def _is(test: Callable[[], bool]) -> bool:
    """``DirEntry.is_file`` / ``is_dir``, false when the entry cannot be examined."""
    try:
        return test()
    except OSError:
        return False


def audit_repository(
    root: Path,
    *,
    actions_dirs: tuple[Path, ...] = (),
    cache_dir: Path | None = None,
    online: bool = False,
    ignores: Iterable[suppress.ConfiguredIgnore] = (),
    config_path: Path | None = None,
    exclude: Sequence[str] = (),
    zizmor_ignores: bool = True,
) -> WorkflowAudit:
    """Audit every workflow and action of the repository at ``root``.

    ``zizmor_ignores``: honour zizmor's ignore comments and configuration for the
    rules bastion shares with it (each such finding is reported as waived).
    """
    root = root.resolve()
    resolver = Resolver(root, actions_dirs, cache_dir, online)
    findings: list[Finding] = []
    texts: dict[Path, str] = {}
    runs: list[JobRun] = []
    parsed: list[tuple[Workflow, list[JobRun]]] = []
    for path in workflow_files(root):
        workflow = _read(path, parse_workflow, texts, findings)
        if workflow is None:
            continue
        own = list(expand(workflow, resolver, path))
        parsed.append((workflow, own))
        runs.extend(own)
        findings.extend(injection.dangerous_triggers(workflow))
    limited = hygiene.limited_by_callers([w for w, _ in parsed], root)
    for workflow, own in parsed:
        direct = [r for r in own if not r.via]
        findings.extend(hygiene.excessive_permissions(workflow, direct, workflow.path in limited))
    workflows = len(parsed)
    own_actions = 0
    for path in action_files(root, exclude):
        action = _read(path, parse_action, texts, findings)
        if action is None:
            continue
        own_actions += 1
        runs.extend(expand(_standalone(action), resolver, path))
    points: list[ExecutionPoint] = []
    invocations: list[wiring.Invocation] = []
    pinned_seen: set[tuple[str, int]] = set()
    unresolved_seen: set[tuple[str, int]] = set()
    for run in runs:
        injected, entry = injection.template_injection(run)
        pwned, checkout = injection.pwn_request(run)
        findings += injected + pwned
        points += entry + checkout
        findings += injection.github_env(run) + injection.bot_conditions(run)
        findings += hygiene.unpinned_uses(run, pinned_seen) + hygiene.artipacked(run)
        findings += hygiene.secrets_inherit(run) + hygiene.self_hosted_runner(run)
        findings += hygiene.download_execute(run) + hygiene.unanalysable(run, unresolved_seen)
        findings += publishing.trusted_publishing(run, root)
        findings += wiring.unhashed_installs(run, root)
        if run.caller.triggers:  # standalone actions are not CI runs of their own
            invocations += wiring.invocations(run)
    findings += publishing.cache_poisoning(runs, points)
    findings += wiring.fail_open(invocations)
    for error in resolver.errors:
        findings.append(_unreadable(error))
    zizmor_config = None
    if zizmor_ignores:
        try:
            zizmor_config = zizmor.load_config(root)
        except InputError as exc:
            findings.append(_unreadable(exc))
    prefix = root.as_posix().rstrip("/") + "/"
    shown = [_relative_messages(f, prefix) for f in _deduplicated(findings)]
    kept, waived = suppress.apply(
        shown, root, texts, ignores, config_path, zizmor_config, zizmor_ignores
    )
    followed = resolver.resolved_count()
    return WorkflowAudit(
        root=root,
        workflows=workflows,
        actions=own_actions + followed,
        findings=tuple(kept),
        suppressed=tuple(waived),
        enforcement=MappingProxyType(wiring.enforcement(invocations)),
        download_errors=tuple(resolver.download_errors),
    )


def _read(
    path: Path,
    parse: Callable[[Path, str | None], _Parsed],
    texts: dict[Path, str],
    findings: list[Finding],
) -> _Parsed | None:
    """Parse one file; a file that cannot be read becomes a finding, not an abort."""
    try:
        text = read_text(path, limit=MAX_WORKFLOW_BYTES)
        texts[path] = text
        parsed = parse(path, text)
    except InputError as exc:
        findings.append(_unreadable(exc))
        return None
    for key, line in parsed.unknown_keys:
        findings.append(
            finding("workflow-syntax", path, line, f"unknown key {key!r}: GitHub rejects it")
        )
    return parsed


def _standalone(action: Action) -> Workflow:
    """An action audited on its own: its steps as one job with no known trigger."""
    job = Job(file=action.path, id="(action)", line=1, steps=action.steps, permissions=None)
    return Workflow(action.path, MappingProxyType({}), 1, (job,))


def _unreadable(error: InputError) -> Finding:
    return finding(
        "workflow-unreadable",
        error.path,
        error.line,
        f"not audited: {error.message}",
    )


def _relative_messages(item: Finding, prefix: str) -> Finding:
    """Paths inside messages shown relative to the repository root (``prefix``: ``ROOT/``)."""
    if prefix not in item.message and not any(prefix in r for r in item.references):
        return item
    return replace(
        item,
        message=item.message.replace(prefix, ""),
        references=tuple(r.replace(prefix, "") for r in item.references),
    )


def _deduplicated(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and position (the most severe), in a stable order."""
    best: dict[tuple[str, str, int, int], Finding] = {}
    posix: dict[Path, str] = {}  # thousands of findings share a few hundred paths
    for item in findings:
        location = item.location or Location(Path())
        path = posix.get(location.path)
        if path is None:
            path = posix[location.path] = location.path.as_posix()
        key = (item.rule_id, path, location.line or 0, location.column or 0)
        if key not in best or item.severity > best[key].severity:
            best[key] = item
    ordered = sorted(
        best.items(),
        key=lambda entry: (entry[0][1] if entry[1].location else "", entry[0][2], entry[0][0]),
    )
    return [item for _, item in ordered]
