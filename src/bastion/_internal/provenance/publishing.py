"""How the project publishes itself, read (never changed) through the workflow layer.

A release job that uploads to PyPI with trusted publishing (``id-token:
write``, ``pypa/gh-action-pypi-publish`` without a password) gets PEP 740
attestations from that action unless ``attestations: false``. A long-lived
token anywhere beside it is the door the second Ultralytics wave came
through: the attested workflow keeps publishing, and so does whoever holds
the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bastion._internal.errors import InputError
from bastion._internal.model import Finding
from bastion._internal.workflows.model import PULL_REQUEST_TRIGGERS

if TYPE_CHECKING:
    from bastion._internal.workflows.flow import JobRun

PUBLISH_TOOLS = ("twine", "uv publish", "poetry publish", "flit publish", "hatch publish")


@dataclass(frozen=True, slots=True)
class PublishJob:
    """One job that uploads a release to a package index."""

    workflow: Path
    job: str
    line: int
    trusted_publishing: bool  # OIDC (id-token: write) and no token handed to the upload
    attestations: bool  # the publish action makes PEP 740 attestations
    hosted: bool  # not on a self-hosted runner
    builds_in_job: bool  # the build runs in the job that holds the signing identity
    pull_request_triggers: tuple[str, ...]  # events from pull requests that start it


@dataclass(frozen=True, slots=True)
class OwnPublishing:
    """The project's release jobs and the long-lived tokens found in its workflows."""

    repository: Path | None
    jobs: tuple[PublishJob, ...]
    tokens: tuple[Finding, ...]  # use-trusted-publishing findings of the workflow layer

    @property
    def trusted(self) -> bool:
        """Some release job publishes with trusted publishing."""
        return any(j.trusted_publishing for j in self.jobs)

    def verdict(self) -> str:
        """One sentence for reports."""
        if not self.jobs:
            return "no workflow publishes a release to PyPI"
        attested = any(j.attestations for j in self.jobs)
        text = (
            "publishes with trusted publishing"
            + (" and PEP 740 attestations" if attested else ", attestations switched off")
            if self.trusted
            else "publishes with a long-lived token (no trusted publishing, no attestations)"
        )
        if self.tokens:
            where = ", ".join(
                f"{f.location.display()}" for f in self.tokens[:3] if f.location is not None
            )
            text += f"; {len(self.tokens)} long-lived token use(s) remain ({where})"
            if self.trusted:
                text += ": the wave-2 door, a token publishes unattested beside the workflow"
        return text


def own_publishing(root: Path) -> OwnPublishing:
    """The release jobs of the repository holding ``root`` (none without workflows)."""
    from bastion._internal.safe_read import read_text
    from bastion._internal.workflows.audit import find_repository, workflow_files
    from bastion._internal.workflows.flow import expand
    from bastion._internal.workflows.parse import MAX_WORKFLOW_BYTES, parse_workflow
    from bastion._internal.workflows.publishing import trusted_publishing
    from bastion._internal.workflows.resolve import Resolver

    repository = find_repository(root)
    if repository is None:
        return OwnPublishing(None, (), ())
    resolver = Resolver(repository)
    jobs: list[PublishJob] = []
    tokens: list[Finding] = []
    for path in workflow_files(repository):
        try:
            workflow = parse_workflow(path, read_text(path, limit=MAX_WORKFLOW_BYTES))
        except InputError:
            continue  # the workflow audit reports unreadable files
        for run in expand(workflow, resolver, path):
            found = trusted_publishing(run, repository)
            tokens.extend(found)
            job = _publish_job(run, bool(found))
            if job is not None:
                jobs.append(job)
    return OwnPublishing(repository, tuple(jobs), tuple(tokens))


def _publish_job(run: JobRun, token: bool) -> PublishJob | None:
    from bastion._internal.workflows.publishing import (
        BUILD_COMMAND,
        PUBLISH_COMMAND,
        PYPI_PUBLISH_ACTION,
    )

    action = None
    uploads = False
    for site in run.sites:
        uses = site.step.uses_ref
        if uses is not None and uses.slug == PYPI_PUBLISH_ACTION:
            action = site.step
        command = site.step.run.value if site.step.run is not None else ""
        match = PUBLISH_COMMAND.search(command)
        if match is not None and match.group(1).startswith(PUBLISH_TOOLS):
            uploads = True
    if action is None and not uploads:
        return None
    permissions = run.permissions
    oidc = permissions is not None and permissions.grants("id-token")
    trusted = oidc and not token and action is not None and "password" not in action.with_
    switched_off = action is not None and action.with_.get("attestations") is not None
    if switched_off and action is not None:
        switched_off = action.with_["attestations"].value.strip().lower() == "false"
    hosted = not any(label.value.strip().lower() == "self-hosted" for label in run.job.runs_on)
    builds = any(
        site.step.run is not None and BUILD_COMMAND.search(site.step.run.value)
        for site in run.sites
    )
    return PublishJob(
        workflow=run.display,
        job=run.job.id,
        line=run.job.line,
        trusted_publishing=trusted,
        attestations=trusted and not switched_off,
        hosted=hosted,
        builds_in_job=builds,
        pull_request_triggers=tuple(sorted(t for t in run.triggers if t in PULL_REQUEST_TRIGGERS)),
    )
