"""Jobs as they run: composite actions and reusable workflows expanded in the caller's context.

A step that calls a composite action runs that action's steps inside the
caller's job, with the caller's triggers, token and secrets: the Ultralytics
injection sat in such a remote action. A job that calls a reusable workflow
runs that workflow's jobs with the caller's triggers. ``expand`` flattens
both (to a bounded depth) so that every rule sees each step in the context
where it really runs, and ``taint`` says where the value of an expression
comes from, following ``env.*`` and ``inputs.*`` back to what set them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bastion._internal.workflows import expressions
from bastion._internal.workflows.contexts import Control, classify
from bastion._internal.workflows.model import (
    Action,
    Job,
    Permissions,
    Step,
    Text,
    Uses,
    Workflow,
    parse_uses,
)
from bastion._internal.workflows.resolve import Resolver

MAX_CALL_DEPTH = 6
MAX_TAINT_DEPTH = 8
# Actions whose behaviour the rules model themselves: not "unanalysable" when absent.
MODELLED_OWNERS = frozenset({"actions", "github", "pypa", "astral-sh", "docker", "softprops"})


@dataclass(frozen=True, slots=True)
class Taint:
    """One context that can flow into a value, how bastion classed it, and the way it came."""

    path: str
    control: Control
    route: tuple[str, ...] = ()  # e.g. ("inputs.ref", "env.REF"): the names it went through

    def describe(self) -> str:
        """``github.head_ref`` or ``inputs.ref <- github.head_ref``."""
        return " <- ".join((*self.route, self.path))


@dataclass(frozen=True, slots=True)
class Site:
    """A step where it runs: its job, the file it is written in, and its inputs."""

    step: Step
    job: Job
    workflow: Workflow  # the file that defines the job (for env: lookups)
    display: Path  # the file to report (a remote action shows as owner/repo@ref/action.yml)
    action: Action | None = None  # the composite action the step belongs to
    via: tuple[str, ...] = ()  # the calls that led here, outermost first
    inputs: Mapping[str, tuple[Taint, ...]] = field(default_factory=dict)
    scope: tuple[Step, ...] = ()  # the steps beside it (its job's, or its action's)
    gates: tuple[Text, ...] = ()  # the if: of the calls that led here (calling job, step)

    def env_text(self, name: str) -> Text | None:
        """The ``env:`` value a step sees for ``name`` (step, then job, then workflow)."""
        wanted = name.lower()  # contexts are case-insensitive
        for scope in (self.step.env, self.job.env, self.workflow.env):
            for key, value in scope.items():
                if key.lower() == wanted:
                    return value
        return None

    def taint(self, text: str) -> tuple[Taint, ...]:
        """Every context that can flow into ``text`` (its ``${{ }}`` parts); bad ones skipped."""
        return _taint_text(self, text, 0)

    def taint_expression(self, tree: expressions.Expr) -> tuple[Taint, ...]:
        """Every context that can flow into the result of a parsed expression."""
        return _taint_tree(self, tree, 0)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A ``uses:`` bastion could not read: what was called, and from where."""

    uses: Uses
    text: Text
    display: Path


@dataclass(frozen=True, slots=True)
class JobRun:
    """A job as started by the triggers of ``caller`` (its own workflow unless reusable)."""

    job: Job
    workflow: Workflow  # the file that defines the job
    caller: Workflow  # whose triggers start it
    display: Path
    via: tuple[str, ...] = ()
    inputs: Mapping[str, tuple[Taint, ...]] = field(default_factory=dict)
    ceiling: Permissions | None = None  # the calling job's permissions, for reusable workflows
    sites: tuple[Site, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def triggers(self) -> Mapping[str, object]:
        """The events that start this job."""
        return self.caller.triggers

    @property
    def privileged(self) -> tuple[str, ...]:
        """The privileged triggers among them."""
        return self.caller.privileged_triggers

    @property
    def permissions(self) -> Permissions | None:
        """The permissions the job's token gets (``None``: the repository default)."""
        own = self.job.permissions or self.workflow.permissions
        return own if own is not None else self.ceiling


def expand(workflow: Workflow, resolver: Resolver, display: Path) -> Iterator[JobRun]:
    """Every job of ``workflow``, reusable workflows' jobs included, with their steps."""
    yield from _expand_workflow(workflow, workflow, resolver, display, (), {}, None, 0, ())


def _expand_workflow(
    workflow: Workflow,
    caller: Workflow,
    resolver: Resolver,
    display: Path,
    via: tuple[str, ...],
    inputs: Mapping[str, tuple[Taint, ...]],
    ceiling: Permissions | None,
    depth: int,
    gates: tuple[Text, ...],
) -> Iterator[JobRun]:
    for job in workflow.jobs:
        frozen_inputs = MappingProxyType(dict(inputs))
        sites: list[Site] = []
        unresolved: list[Unresolved] = []
        for step in job.steps:
            site = Site(step, job, workflow, display, None, via, frozen_inputs, job.steps, gates)
            _expand_step(site, resolver, sites, unresolved, depth)
        uses = parse_uses(job.uses.value) if job.uses is not None else None
        called = None
        if job.uses is not None and uses is not None and depth < MAX_CALL_DEPTH:
            called = resolver.workflow(uses)
            if called is None and uses.kind == "remote":
                unresolved.append(Unresolved(uses, job.uses, display))
        run = JobRun(
            job,
            workflow,
            caller,
            display,
            via,
            frozen_inputs,
            ceiling,
            tuple(sites),
            tuple(unresolved),
        )
        yield run
        if job.uses is None or uses is None or called is None:
            continue
        caller_site = Site(Step(job.file, -1, job.line), job, workflow, display, None, via)
        call_inputs = {
            name.lower(): caller_site.taint(text.value) for name, text in job.with_.items()
        }
        where = f"{job.uses.value} (job {job.id!r} at {display.as_posix()}:{job.line})"
        yield from _expand_workflow(
            called,
            caller,
            resolver,
            resolver.display(uses, called.path),
            (*via, where),
            call_inputs,
            run.permissions,
            depth + 1,
            (*gates, job.if_) if job.if_ is not None else gates,
        )


def _expand_step(
    site: Site,
    resolver: Resolver,
    sites: list[Site],
    unresolved: list[Unresolved],
    depth: int,
) -> None:
    sites.append(site)
    step = site.step
    if step.uses is None or depth >= MAX_CALL_DEPTH:
        return
    uses = parse_uses(step.uses.value)
    if uses is None or uses.kind == "docker":
        return
    action = resolver.action(uses)
    if action is None:
        if uses.kind == "remote" and uses.owner.lower() not in MODELLED_OWNERS:
            unresolved.append(Unresolved(uses, step.uses, site.display))
        return
    if action.using != "composite":
        return
    caller_inputs = {name.lower(): site.taint(text.value) for name, text in step.with_.items()}
    display = resolver.display(uses, action.path)
    where = f"{step.uses.value} ({site.display.as_posix()}:{step.line})"
    inner_inputs: dict[str, tuple[Taint, ...]] = {}
    for name, default in action.inputs.items():
        if name in caller_inputs:
            inner_inputs[name] = caller_inputs[name]
        elif default is not None:
            probe = Site(step, site.job, site.workflow, display, action, site.via)
            inner_inputs[name] = probe.taint(default.value)
    gates = (*site.gates, step.if_) if step.if_ is not None else site.gates
    for inner in action.steps:
        child = Site(
            inner,
            site.job,
            site.workflow,
            display,
            action,
            (*site.via, where),
            MappingProxyType(inner_inputs),
            action.steps,
            gates,
        )
        _expand_step(child, resolver, sites, unresolved, depth + 1)


def _taint_text(site: Site, text: str, depth: int) -> tuple[Taint, ...]:
    if "${{" not in text or depth > MAX_TAINT_DEPTH:
        return ()
    found: list[Taint] = []
    try:
        for part in expressions.embedded(text):
            try:
                parsed = expressions.parse(part.source)
            except expressions.ExpressionError:
                continue
            found.extend(_taint_tree(site, parsed, depth))
    except expressions.ExpressionError:
        return tuple(found)
    return tuple(found)


def _taint_tree(site: Site, tree: expressions.Expr, depth: int) -> tuple[Taint, ...]:
    return tuple(t for c in expressions.flows(tree) for t in _taint_context(site, c.path, depth))


def _taint_context(site: Site, path: str, depth: int) -> tuple[Taint, ...]:
    head, _, rest = path.partition(".")
    if head == "env" and rest and "." not in rest:
        text = site.env_text(rest)
        if text is None:
            return (Taint(path, Control.UNKNOWN),)
        return tuple(
            Taint(t.path, t.control, (path, *t.route))
            for t in _taint_text(site, text.value, depth + 1)
        )
    if head == "inputs" and rest:
        name = rest.split(".")[0]
        if name in site.inputs:
            return tuple(Taint(t.path, t.control, (path, *t.route)) for t in site.inputs[name])
        return (Taint(path, Control.UNKNOWN),)
    if head in ("steps", "needs"):
        parts = rest.split(".")
        if len(parts) == 3 and parts[1] == "outputs":
            traced = (step_output if head == "steps" else job_output)(
                site, parts[0], parts[2], depth + 1
            )
            if traced is not None:
                return tuple(Taint(t.path, t.control, (path, *t.route)) for t in traced)
        return (Taint(path, classify(path)),)
    return (Taint(path, classify(path)),)


# actions whose outputs are some of their inputs: output -> the inputs it passes on
PASS_THROUGH_OUTPUTS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "haya14busa/action-cond": {"value": ("if_true", "if_false")},
        "actions/github-script": {},
    }
)
_OUTPUT_LINE = re.compile(r"[\"']?([A-Za-z0-9_-]+)=([^\n]*?)[\"']?\s*>>\s*[\"']?\$\{?GITHUB_OUTPUT")
MAX_OUTPUT_LINE = 2_000  # longer lines are not traced (the regex would be slow on them)
_SHELL_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def step_output(site: Site, step_id: str, name: str, depth: int) -> tuple[Taint, ...] | None:
    """What can flow into ``steps.STEP_ID.outputs.NAME`` (``None``: not traced)."""
    if depth > MAX_TAINT_DEPTH:
        return None
    wanted = step_id.lower()
    step = next((s for s in site.scope if s.id is not None and s.id.lower() == wanted), None)
    if step is None:
        return None
    origin = Site(
        step, site.job, site.workflow, site.display, site.action, site.via, site.inputs, site.scope
    )
    uses = step.uses_ref
    if uses is not None:
        passed = PASS_THROUGH_OUTPUTS.get(uses.slug, {}).get(name.lower())
        if passed is None:
            return None
        found: list[Taint] = []
        for key, text in step.with_.items():
            if key.lower() in passed:
                found.extend(_taint_text(origin, text.value, depth))
        return tuple(found)
    if step.run is None:
        return None
    found = []
    traced = False
    lines = [
        line
        for line in step.run.value.splitlines()
        if "GITHUB_OUTPUT" in line and len(line) <= MAX_OUTPUT_LINE
    ]
    for match in (m for line in lines for m in _OUTPUT_LINE.finditer(line)):
        if match.group(1).lower() != name.lower():
            continue
        traced = True
        value = match.group(2)
        if "$(" in value or "`" in value:
            found.append(Taint(f"steps.{step_id}.outputs.{name}", Control.UNKNOWN))
        found.extend(_taint_text(origin, value, depth))
        for variable in _SHELL_VARIABLE.findall(value):
            env_value = origin.env_text(variable)
            if env_value is not None:
                found.extend(
                    Taint(t.path, t.control, (f"env.{variable}", *t.route))
                    for t in _taint_text(origin, env_value.value, depth + 1)
                )
            elif not variable.startswith(("GITHUB_", "RUNNER_")):
                found.append(Taint(f"steps.{step_id}.outputs.{name}", Control.UNKNOWN))
    return tuple(found) if traced else None


def job_output(site: Site, job_id: str, name: str, depth: int) -> tuple[Taint, ...] | None:
    """What can flow into ``needs.JOB_ID.outputs.NAME`` (``None``: not traced)."""
    if depth > MAX_TAINT_DEPTH:
        return None
    job = next((j for j in site.workflow.jobs if j.id == job_id), None)
    if job is None:
        return None
    wanted = name.lower()
    text = next((v for k, v in job.outputs.items() if k.lower() == wanted), None)
    if text is None:
        return None
    origin = Site(
        Step(job.file, -1, job.line),
        job,
        site.workflow,
        site.display,
        None,
        site.via,
        site.inputs,
        job.steps,
    )
    return _taint_text(origin, text.value, depth)
