"""How an outsider gets code to run: injected expressions, checked-out pull requests, bot checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.model import Confidence, Finding, Severity
from bastion._internal.workflows import expressions
from bastion._internal.workflows.contexts import Control
from bastion._internal.workflows.events import Gate, gate, holds_value, parse_condition
from bastion._internal.workflows.execution import (
    Tree,
    commands,
    executes,
    installed_from_index,
    runs_code,
    tree_of,
)
from bastion._internal.workflows.flow import JobRun, Site, Taint
from bastion._internal.workflows.model import PRIVILEGED_TRIGGERS, Text, Workflow
from bastion._internal.workflows.rules import finding, raised

DANGEROUS_TRIGGERS = ("pull_request_target", "workflow_run")
# Contexts that name the pull request's (or the triggering run's) own code.
PR_HEAD_CONTEXTS = frozenset(
    {
        "github.head_ref",
        "github.event.pull_request.head.sha",
        "github.event.pull_request.head.ref",
        "github.event.pull_request.merge_commit_sha",
        "github.event.pull_request.head.repo.full_name",
        "github.event.pull_request.number",
        "github.event.number",
        "github.event.issue.number",
        "github.event.workflow_run.head_sha",
        "github.event.workflow_run.head_branch",
        "github.event.workflow_run.head_repository.full_name",
    }
)
_GIT_FETCH = re.compile(r"\b(gh\s+pr\s+checkout|git\s+(fetch|pull|checkout|switch|merge|reset)\b)")
_ENV_FILE_WRITE = re.compile(r"(>>?|\btee\b(\s+-a)?)\s*[\"']?(\$\{?|\$env:)GITHUB_(ENV|PATH)\b")
_BOT_ACTORS = ("github.actor", "github.triggering_actor")


@dataclass(frozen=True, slots=True)
class ExecutionPoint:
    """Where outside input becomes code in a privileged job (the first link of a chain)."""

    site: Site
    line: int
    what: str
    triggers: tuple[str, ...] = ()  # the privileged triggers under which it happens


def script_texts(site: Site) -> Iterator[tuple[str, Text]]:
    """The texts of a step that a shell or a script interpreter runs."""
    step = site.step
    if step.run is not None:
        yield "run", step.run
    uses = step.uses_ref
    if uses is not None and uses.slug == "actions/github-script" and "script" in step.with_:
        yield "script", step.with_["script"]


def site_gate(run: JobRun, site: Site) -> Gate:
    """The events a step runs under (its job's and its own ``if:`` applied) and their gates."""
    return gate(run.triggers, (run.job.if_, *site.gates, site.step.if_))


def privileged_events(events: frozenset[str] | None) -> tuple[str, ...]:
    """The privileged triggers among ``events``."""
    return tuple(sorted(e for e in events or () if e in PRIVILEGED_TRIGGERS))


def template_injection(run: JobRun) -> tuple[list[Finding], list[ExecutionPoint]]:
    """Attacker-controlled contexts expanded into run: and github-script script: texts."""
    findings: list[Finding] = []
    points: list[ExecutionPoint] = []
    for site in run.sites:
        scripts = list(script_texts(site))
        if not any("${{" in text.value for _, text in scripts):
            continue  # no expression (nor a broken one) to find: the gate is not needed
        site_gate_ = site_gate(run, site)
        events = site_gate_.events
        if events is not None and not events:
            continue  # no trigger passes the conditions
        for key, text in scripts:
            for part, parsed in _expressions(site, text, findings):
                taints = site.taint_expression(parsed)
                attacker = [
                    t
                    for t in taints
                    if t.control is Control.ATTACKER and holds_value(t.path, events)
                ]
                unknown = [
                    t
                    for t in taints
                    if t.control is Control.UNKNOWN
                    and t.path.startswith("github.event.")
                    and holds_value(t.path, events)
                ]
                line, column = text.position(part.start)
                shown = "${{" + part.source + "}}"
                if attacker and site_gate_.trusted_only is None:
                    names = ", ".join(t.describe() for t in attacker)
                    privileged = tuple(
                        e
                        for e in privileged_events(events)
                        if any(holds_value(t.path, frozenset({e})) for t in attacker)
                    )
                    severity = Severity.CRITICAL if privileged else Severity.HIGH
                    note = ""
                    if privileged and site_gate_.approval is not None:
                        severity = Severity.HIGH
                        note = f" once a maintainer approves ({site_gate_.approval})"
                    trigger = _trigger_note(privileged)
                    findings.append(
                        finding(
                            "template-injection",
                            site.display,
                            line,
                            f"{shown} expands attacker-controlled text ({names}) into the "
                            f"{key}: of {site.step.label}{trigger}{note}{_via(site)}",
                            column=column,
                            severity=severity,
                            remediation=_env_fix(attacker[0], key),
                        )
                    )
                    if privileged:
                        points.append(ExecutionPoint(site, line, f"{shown} in {key}:", privileged))
                elif unknown:
                    names = ", ".join(t.describe() for t in unknown)
                    findings.append(
                        finding(
                            "template-injection",
                            site.display,
                            line,
                            f"{shown} expands event data bastion cannot classify ({names}) into "
                            f"the {key}: of {site.step.label}{_via(site)}",
                            column=column,
                            severity=Severity.LOW,
                            confidence=Confidence.LOW,
                            remediation=_env_fix(unknown[0], key),
                        )
                    )
    return findings, points


def _expressions(
    site: Site, text: Text, findings: list[Finding]
) -> Iterator[tuple[expressions.Embedded, expressions.Expr]]:
    """Each embedded expression of ``text`` with its tree; syntax errors become findings."""
    try:
        parts = list(expressions.embedded(text.value))
    except expressions.ExpressionError as exc:
        line, column = text.position(exc.offset)
        findings.append(_syntax(site, line, column, str(exc)))
        return
    for part in parts:
        try:
            yield part, expressions.parse(part.source)
        except expressions.ExpressionError as exc:
            line, column = text.position(part.start + 3 + exc.offset)
            findings.append(_syntax(site, line, column, str(exc)))


def _syntax(site: Site, line: int, column: int, problem: str) -> Finding:
    return finding(
        "workflow-syntax",
        site.display,
        line,
        f"expression does not parse: {problem} ({site.step.label})",
        column=column,
        confidence=Confidence.HIGH,
    )


def _env_fix(taint: Taint, key: str) -> str:
    source = taint.route[0] if taint.route else taint.path
    variable = re.sub(r"[^A-Za-z0-9]+", "_", source.rsplit(".", 1)[-1]).upper() or "VALUE"
    if key == "script":
        return (
            f"set env: {variable}: ${{{{ {source} }}}} on the step and read "
            f"process.env.{variable} in the script"
        )
    return f'set env: {variable}: ${{{{ {source} }}}} on the step and use "${variable}" in run:'


def _trigger_note(privileged: tuple[str, ...]) -> str:
    if privileged:
        triggers = ", ".join(privileged)
        return f" under {triggers} (runs with the base repository's token and secrets)"
    return ""


def _via(site: Site) -> str:
    if not site.via:
        return ""
    return "; called through " + " -> ".join(site.via)


def pwn_request(run: JobRun) -> tuple[list[Finding], list[ExecutionPoint]]:
    """A privileged job that fetches the pull request's code and then a step runs it."""
    if not run.privileged:
        return [], []
    for index, site in enumerate(run.sites):
        if not _may_fetch_pr_code(site):
            continue  # _fetches_pr_code finds nothing under any events: no gate needed
        fetch_gate = site_gate(run, site)
        privileged = privileged_events(fetch_gate.events)
        if not privileged or fetch_gate.trusted_only is not None:
            continue
        fetched = _fetches_pr_code(site, frozenset(privileged))
        if fetched is None:
            continue
        line, what, rest, tree = fetched
        privileged = tuple(e for e in privileged if _fetches_pr_code(site, frozenset({e})))
        if rest:
            then = f"the rest of the script ({rest[:60]})"
        else:
            runner = _first_runner(run, index, tree, frozenset(privileged))
            if runner is None:
                continue
            then = f"{runner.step.label} ({runner.display.as_posix()}:{runner.step.line})"
        severity = Severity.CRITICAL
        note = ""
        if fetch_gate.approval is not None:
            severity = Severity.HIGH
            note = f", once a maintainer approves ({fetch_gate.approval})"
        message = (
            f"{', '.join(privileged)} job {run.job.id!r} {what} and then runs "
            f"{then} with the base repository's token and secrets{note}{_via(site)}"
        )
        point = ExecutionPoint(site, line, what, privileged)
        return [finding("pwn-request", site.display, line, message, severity=severity)], [point]
    return [], []


def _first_runner(run: JobRun, index: int, tree: Tree, privileged: frozenset[str]) -> Site | None:
    """The first later step that runs code of ``tree`` under one of the privileged events."""
    sites = run.sites
    installed = installed_from_index(s.step.run.value for s in sites if s.step.run is not None)
    for position in range(index + 1, len(sites)):
        later = sites[position]
        events = site_gate(run, later).events
        if events is not None and not events & privileged:
            continue
        expanded = position + 1 < len(sites) and len(sites[position + 1].via) > len(later.via)
        if executes(later, tree, expanded, installed):
            return later
    return None


def _pr_context(site: Site, text: str, events: frozenset[str]) -> bool:
    return any(t.path in PR_HEAD_CONTEXTS and holds_value(t.path, events) for t in site.taint(text))


def _may_fetch_pr_code(site: Site) -> bool:
    """False when ``_fetches_pr_code`` returns ``None`` whatever the events."""
    step = site.step
    uses = step.uses_ref
    checkout = uses is not None and uses.slug == "actions/checkout"
    if checkout and ("ref" in step.with_ or "repository" in step.with_):
        return True
    return step.run is not None and _GIT_FETCH.search(step.run.value) is not None


def _fetches_pr_code(site: Site, events: frozenset[str]) -> tuple[int, str, str, Tree] | None:
    """Where and how the step fetches PR code, the script's next command, and the tree."""
    step = site.step
    uses = step.uses_ref
    if uses is not None and uses.slug == "actions/checkout":
        for key in ("ref", "repository"):
            text = step.with_.get(key)
            if text is None:
                continue
            literal = "refs/pull/" in text.value and "${{" not in text.value
            if literal or _pr_context(site, text.value, events):
                what = f"checks out the pull request ({key}: {text.value.strip()})"
                return text.line, what, "", tree_of(site)
    if step.run is not None:
        for match in _GIT_FETCH.finditer(step.run.value):
            line_end = step.run.value.find("\n", match.start())
            command = step.run.value[match.start() : line_end if line_end != -1 else None]
            head = match.group(0).startswith("gh") or "pull/" in command
            if head or _pr_context(site, command, events):
                line, _ = step.run.position(match.start())
                after = step.run.value[line_end:] if line_end != -1 else ""
                rest = [words[0] for words in commands(after) if runs_code(words)]
                what = f"fetches the pull request's code ({command.strip()[:80]})"
                return line, what, rest[0] if rest else "", Tree("")
    return None


def dangerous_triggers(workflow: Workflow) -> list[Finding]:
    """``pull_request_target`` and ``workflow_run``: secrets on outside input."""
    found = [t for t in DANGEROUS_TRIGGERS if t in workflow.triggers]
    if not found:
        return []
    return [
        finding(
            "dangerous-triggers",
            workflow.path,
            workflow.triggers_line,
            f"triggered by {', '.join(found)}: runs with a write token and the repository's "
            "secrets on events an outsider can cause",
            confidence=Confidence.MEDIUM,
        )
    ]


def github_env(run: JobRun) -> list[Finding]:
    """Writes of values an outsider may control to ``$GITHUB_ENV``/``$GITHUB_PATH``."""
    if not run.privileged:
        return []
    findings = []
    for site in run.sites:
        if site.step.run is None:
            continue
        script = site.step.run.value
        match = _ENV_FILE_WRITE.search(script)
        if match is None:
            continue
        privileged = privileged_events(site_gate(run, site).events)
        if not privileged:
            continue
        writes = [m for m in _ENV_FILE_WRITE.finditer(script) if not _fixed_value(site, script, m)]
        if not writes:
            continue  # every value written is GitHub's or the maintainers'
        match = writes[0]
        line, column = site.step.run.position(match.start())
        findings.append(
            finding(
                "github-env",
                site.display,
                line,
                f"{site.step.label} writes to GITHUB_{match.group(4)} under "
                f"{', '.join(privileged)}: a value from the event can set LD_PRELOAD, "
                f"PATH or BASH_ENV for every later step{_via(site)}",
                column=column,
                confidence=Confidence.MEDIUM,
            )
        )
    return findings


# variables the runner sets; nobody outside the repository chooses them
_RUNNER_VARIABLE = re.compile(r"^(GITHUB_[A-Z_]+|RUNNER_[A-Z_]+|HOME|PATH|PWD|CI)$")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_WRITTEN_FIXED = (Control.FIXED, Control.STRUCTURED)


def _fixed_value(site: Site, script: str, write: re.Match[str]) -> bool:
    """The command that writes holds only literals, fixed contexts and runner variables."""
    start = script.rfind("\n", 0, write.start()) + 1
    command = script[start : write.start()]
    if "$(" in command or "`" in command or "<<" in command:
        return False
    if any(t.control not in _WRITTEN_FIXED for t in site.taint(command)):
        return False
    for name in _VARIABLE.findall(command):
        if _RUNNER_VARIABLE.match(name):
            continue
        text = site.env_text(name)
        if text is None or any(t.control not in _WRITTEN_FIXED for t in site.taint(text.value)):
            return False
    return True


def bot_conditions(run: JobRun) -> list[Finding]:
    """``if: github.actor == 'dependabot[bot]'``: anyone can make a bot act last on their PR."""
    findings = []
    candidates: list[tuple[Text, str]] = []
    if run.job.if_ is not None:
        candidates.append((run.job.if_, f"job {run.job.id!r}"))
    candidates.extend((s.step.if_, s.step.label) for s in run.sites if s.step.if_ is not None)
    for text, owner in candidates:
        parsed = parse_condition(text)
        if parsed is None:
            continue
        actor = _bot_actor(parsed)
        if actor is None:
            continue
        findings.append(
            finding(
                "bot-conditions",
                run.display if text is run.job.if_ else _site_of(run, text),
                text.line,
                f"{owner} trusts {actor} to be a bot: it is whoever acted last, and an "
                "attacker can make a bot act last on their own pull request",
                column=text.column,
                severity=raised(Severity.MEDIUM, bool(run.privileged)),
            )
        )
    return findings


def _site_of(run: JobRun, text: Text) -> Path:
    for site in run.sites:
        if site.step.if_ is text:
            return site.display
    return run.display


def _bot_actor(expr: expressions.Expr) -> str | None:
    if isinstance(expr, expressions.Binary):
        sides = (expr.left, expr.right)
        if expr.op == "==":  # '!=' only keeps the bot out of a step
            names = [s.path for s in sides if isinstance(s, expressions.Context)]
            literals = [
                s.value
                for s in sides
                if isinstance(s, expressions.Literal) and isinstance(s.value, str)
            ]
            for name in names:
                if name in _BOT_ACTORS and any("[bot]" in v for v in literals):
                    return name
        return _bot_actor(expr.left) or _bot_actor(expr.right)
    if isinstance(expr, expressions.Unary):
        return None  # a negated check keeps bots out; it grants them nothing
    if isinstance(expr, expressions.Call):
        if expr.name in ("contains", "startswith", "endswith") and len(expr.args) == 2:
            first, second = expr.args
            if (
                isinstance(first, expressions.Context)
                and first.path in _BOT_ACTORS
                and isinstance(second, expressions.Literal)
                and "bot" in str(second.value)
            ):
                return first.path
        for arg in expr.args:
            found = _bot_actor(arg)
            if found:
                return found
    return None
