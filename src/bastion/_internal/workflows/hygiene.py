"""Rules about what a job is given and what it trusts: permissions, pins, credentials, runners."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bastion._internal.model import Confidence, Finding, Severity
from bastion._internal.workflows.flow import JobRun, Site
from bastion._internal.workflows.model import PULL_REQUEST_TRIGGERS, Text, Workflow, parse_uses
from bastion._internal.workflows.rules import finding, raised

FIRST_PARTY_OWNERS = frozenset({"actions", "github"})
_BRANCH_LIKE = re.compile(r"^(main|master|develop|dev|trunk|latest|head|stable|release)$", re.I)
_DOWNLOAD_EXECUTE = re.compile(
    r"\b(curl|wget|iwr|invoke-webrequest)\b[^\n|;&]*\|\s*(sudo\s+)?(-\S+\s+)*"
    r"(ba|z|da|k)?sh\b|"
    r"\b(curl|wget|iwr|invoke-webrequest)\b[^\n|;&]*\|\s*(sudo\s+)?(python3?|perl|ruby|node|iex)\b|"
    r"\b(ba|z)?sh\s+<\(\s*(curl|wget)\b|"
    r"\b(ba|z)?sh\s+-c\s+[\"']?\$\(\s*(curl|wget)\b",
    re.I,
)


def limited_by_callers(workflows: list[Workflow], root: Path) -> frozenset[Path]:
    """Reusable workflows (``workflow_call`` only) whose every local caller sets permissions.

    A called workflow's token can hold no more than its caller's, so default
    permissions in it are no finding when each caller already limits them.
    """
    callers: dict[Path, list[bool]] = {}
    for workflow in workflows:
        for job in workflow.jobs:
            uses = parse_uses(job.uses.value) if job.uses is not None else None
            if uses is None or uses.kind != "local":
                continue
            target = (root / uses.subpath).resolve()
            limited = (job.permissions or workflow.permissions) is not None
            callers.setdefault(target, []).append(limited)
    return frozenset(
        w.path
        for w in workflows
        if set(w.triggers) == {"workflow_call"} and all(callers.get(w.path.resolve(), [False]))
    )


def excessive_permissions(
    workflow: Workflow, runs: list[JobRun], caller_limited: bool = False
) -> list[Finding]:
    """``write-all``, default token permissions, and write scopes given to every job.

    ``caller_limited``: a reusable workflow whose every caller sets permissions.
    """
    findings: list[Finding] = []
    privileged = bool(workflow.privileged_triggers)
    top = workflow.permissions
    inheriting = [job for job in workflow.jobs if job.permissions is None]
    if not inheriting:
        top = None  # every job sets its own: the workflow-level block is not used
    if top is not None and top.preset == "write-all":
        findings.append(
            finding(
                "excessive-permissions",
                workflow.path,
                top.line,
                "the workflow gives every job a token that can write everything (write-all)",
                severity=raised(Severity.HIGH, privileged),
            )
        )
    elif top is not None and top.writes() and len(inheriting) > 1:
        findings.append(
            finding(
                "excessive-permissions",
                workflow.path,
                top.line,
                f"workflow-level permissions grant {', '.join(top.writes())}: write to "
                f"{len(inheriting)} jobs; grant them on the job that needs them",
                severity=raised(Severity.MEDIUM, privileged),
                confidence=Confidence.MEDIUM,
            )
        )
    for run in runs:
        job = run.job
        if job.permissions is not None and job.permissions.preset == "write-all":
            findings.append(
                finding(
                    "excessive-permissions",
                    workflow.path,
                    job.permissions.line,
                    f"job {job.id!r} gets a token that can write everything (write-all)",
                    severity=raised(Severity.HIGH, privileged),
                )
            )
        elif workflow.permissions is None and job.permissions is None and not caller_limited:
            findings.append(
                finding(
                    "excessive-permissions",
                    workflow.path,
                    job.line,
                    f"job {job.id!r} runs with the repository's default token permissions "
                    "(write to contents, packages and more in older repositories)",
                    severity=raised(Severity.MEDIUM, privileged),
                    confidence=Confidence.MEDIUM,
                    remediation="add 'permissions: {}' at the top of the workflow and grant "
                    "this job only the scopes it uses (e.g. contents: read)",
                )
            )
    return findings


def unpinned_uses(run: JobRun, seen: set[tuple[str, int]]) -> list[Finding]:
    """Actions, reusable workflows and images that are not pinned to a SHA or a digest."""
    findings = []
    texts: list[tuple[Text, Site | None]] = [(s.step.uses, s) for s in run.sites if s.step.uses]
    for extra in (run.job.uses, run.job.container, *run.job.services):
        if extra is not None:
            texts.append((extra, None))
    for text, site in texts:
        display = site.display if site is not None else run.display
        key = (display.as_posix(), text.line)
        if key in seen:
            continue
        seen.add(key)
        found = _unpinned(text, display, text is run.job.container or text in run.job.services)
        if found is not None:
            findings.append(found)
    return findings


def _unpinned(text: Text, display: Path, image: bool) -> Finding | None:
    value = text.value.strip()
    if image:
        return _unpinned_image(text, display)
    if value.startswith("docker://"):
        if "${{" in value or "@sha256:" in value:
            return None
        return finding(
            "unpinned-uses",
            display,
            text.line,
            f"image {value!r} is not pinned to a digest (@sha256:...)",
            column=text.column,
            remediation="pin the image by digest: image@sha256:<digest>",
        )
    uses = parse_uses(value)
    if uses is None or uses.kind != "remote" or uses.pinned:
        return None
    ref = uses.ref
    branch = _BRANCH_LIKE.match(ref) is not None or "/" in ref or not any(c.isdigit() for c in ref)
    if branch:
        severity = Severity.HIGH
        kind = "a branch"
    elif uses.owner.lower() in FIRST_PARTY_OWNERS:
        severity, kind = Severity.LOW, "a tag of GitHub's own actions"
    else:
        severity, kind = Severity.MEDIUM, "a tag"
    return finding(
        "unpinned-uses",
        display,
        text.line,
        f"{value!r} follows {kind} ({uses.ref}): whoever can push to {uses.slug} changes "
        "what runs here",
        column=text.column,
        severity=severity,
    )


def _unpinned_image(text: Text, display: Path) -> Finding | None:
    """``container:``/``services:`` images: a digest pins them, a tag can be re-pushed."""
    value = text.value.strip()
    if not value or "${{" in value or "@sha256:" in value:
        return None
    name = value.rsplit("/", 1)[-1]
    tag = name.partition(":")[2]
    if not tag or tag == "latest":
        severity, kind = Severity.HIGH, "no tag" if not tag else "the latest tag"
    else:
        severity, kind = Severity.MEDIUM, f"the tag {tag!r}"
    return finding(
        "unpinned-images",
        display,
        text.line,
        f"image {value!r} follows {kind}: whoever can push to its registry changes what "
        "runs in this job",
        column=text.column,
        severity=severity,
    )


def artipacked(run: JobRun) -> list[Finding]:
    """``actions/checkout`` without ``persist-credentials: false``."""
    findings = []
    uploads_workspace = any(_uploads_workspace(s) for s in run.sites)
    for site in run.sites:
        uses = site.step.uses_ref
        if uses is None or uses.slug != "actions/checkout":
            continue
        persist = site.step.with_.get("persist-credentials")
        if persist is not None and persist.value.strip().lower() == "false":
            continue
        if persist is not None and persist.true and _pushes(run):
            continue  # kept on purpose: the job pushes with it
        severity = Severity.HIGH if uploads_workspace else Severity.MEDIUM
        extra = " and the job uploads the workspace as an artifact" if uploads_workspace else ""
        findings.append(
            finding(
                "artipacked",
                site.display,
                site.step.line,
                f"{site.step.label} keeps the job's token in .git/config{extra}; any later "
                "step (or artifact) can read it",
                severity=severity,
                confidence=Confidence.MEDIUM if not uploads_workspace else Confidence.HIGH,
            )
        )
    return findings


_PUSH = re.compile(r"\bgit\s+(push|tag\s+-a|commit)\b|\bgh\s+pr\s+(create|merge)\b")


def _pushes(run: JobRun) -> bool:
    """A later step pushes (or commits for a push) with the credentials the checkout kept."""
    return any(s.step.run is not None and _PUSH.search(s.step.run.value) for s in run.sites)


def _uploads_workspace(site: Site) -> bool:
    uses = site.step.uses_ref
    if uses is None or uses.slug != "actions/upload-artifact":
        return False
    path = site.step.with_.get("path")
    if path is None:
        return False
    lines = [p.strip() for p in path.value.splitlines() if p.strip()]
    return any(p in (".", "./", "${{ github.workspace }}") for p in lines)


def secrets_inherit(run: JobRun) -> list[Finding]:
    """``secrets: inherit`` hands every secret to the called workflow."""
    text = run.job.secrets_inherit
    if text is None or run.via:
        return []
    return [
        finding(
            "secrets-inherit",
            run.display,
            text.line,
            f"job {run.job.id!r} passes every repository secret to "
            f"{run.job.uses.value if run.job.uses else 'the called workflow'}",
            column=text.column,
        )
    ]


def self_hosted_runner(run: JobRun) -> list[Finding]:
    """A self-hosted runner in a workflow that pull requests start."""
    triggers = sorted(t for t in run.triggers if t in PULL_REQUEST_TRIGGERS)
    if not triggers:
        return []
    for label in run.job.runs_on:
        if label.value.strip().lower() == "self-hosted":
            return [
                finding(
                    "self-hosted-runner",
                    run.display,
                    label.line,
                    f"job {run.job.id!r} runs on a self-hosted runner and the workflow is "
                    f"started by {', '.join(triggers)}: pull request code can persist on the "
                    "machine",
                    column=label.column,
                    confidence=Confidence.MEDIUM,
                )
            ]
    return []


_DOWNLOAD_START = re.compile(r"\b(?:curl|wget|iwr|invoke-webrequest|bash|zsh|sh)\b", re.I)
_SEGMENT_END = re.compile(r"[\n|;&]")


def download_execute_matches(script: str) -> Iterator[re.Match[str]]:
    """``_DOWNLOAD_EXECUTE.finditer(script)``, in linear time.

    The regex retried from every ``curl`` of a long line, each retry scanning to
    the line's end (40,000 characters of ``curl curl ...`` took 2 s, 4 MiB would
    take hours). A download that is not piped to a shell fails the same way for
    every later download up to the next ``\\n | ; &``, so those are skipped.
    """
    resume = skip_downloads_until = 0
    for candidate in _DOWNLOAD_START.finditer(script):
        start = candidate.start()
        is_shell = candidate.group(0).lower() in ("sh", "bash", "zsh")
        if start < resume or (not is_shell and start < skip_downloads_until):
            continue
        match = _DOWNLOAD_EXECUTE.match(script, start)
        if match is not None:
            yield match
            resume = match.end()
        elif not is_shell:
            end = _SEGMENT_END.search(script, candidate.end())
            skip_downloads_until = end.start() if end is not None else len(script)


def download_execute(run: JobRun) -> list[Finding]:
    """``curl ... | sh`` and its cousins."""
    findings = []
    for site in run.sites:
        if site.step.run is None:
            continue
        for match in download_execute_matches(site.step.run.value):
            line, column = site.step.run.position(match.start())
            findings.append(
                finding(
                    "download-execute",
                    site.display,
                    line,
                    f"{site.step.label} runs a script straight from the network "
                    f"({match.group(0).strip()[:80]})",
                    column=column,
                )
            )
    return findings


def unanalysable(run: JobRun, seen: set[tuple[str, int]]) -> list[Finding]:
    """Remote actions on a mutable ref that no source could provide."""
    findings = []
    for item in run.unresolved:
        if item.uses.pinned:
            continue
        key = (item.display.as_posix(), item.text.line)
        if key in seen:
            continue
        seen.add(key)
        privileged = bool(run.privileged)
        findings.append(
            finding(
                "unanalysable-action",
                item.display,
                item.text.line,
                f"{item.uses.raw!r} was not audited: it is on a mutable ref and neither "
                "--actions-dir nor the --online cache has it"
                + (f"; it runs under {', '.join(run.privileged)}" if privileged else ""),
                column=item.text.column,
                severity=Severity.MEDIUM if privileged else Severity.LOW,
                confidence=Confidence.MEDIUM,
            )
        )
    return findings
