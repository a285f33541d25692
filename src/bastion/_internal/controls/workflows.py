"""The ``ci-compromise`` control: the GitHub Actions audit, and what CI enforces.

Besides its own findings, the result carries the CI wiring (``enforces``):
which controls CI runs fail-closed. The engine marks those results
``enforced``, which is what turns a threat's verdict from ``local`` into
``covered`` in the coverage matrix.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from bastion._internal.controls.base import Project, not_configured
from bastion._internal.model import ControlResult, ControlStatus
from bastion._internal.workflows.audit import audit_repository, find_repository
from bastion._internal.workflows.rules import CONTROL, THREAT


class WorkflowControl:
    """Audits ``.github/workflows`` (and the actions they call) of the project's repository."""

    id = CONTROL
    title = "CI workflow audit"
    threats: tuple[str, ...] = (THREAT,)

    def __init__(
        self,
        actions_dirs: tuple[Path, ...] = (),
        *,
        online: bool = False,
        cache_dir: Path | None = None,
        zizmor_ignores: bool = True,
    ) -> None:
        self.actions_dirs = actions_dirs
        self.online = online
        self.cache_dir = cache_dir
        self.zizmor_ignores = zizmor_ignores

    def run(self, project: Project) -> ControlResult:
        """Audit the workflows; ``not-configured`` when the repository has none."""
        repository = find_repository(project.root)
        if repository is None:
            return not_configured(self, "no .github/workflows in the project or above it")
        cache_dir = self.cache_dir
        if cache_dir is None and self.online:
            from bastion._internal.user_cache import cache_dir as user_cache_dir

            cache_dir = user_cache_dir()
        audit = audit_repository(
            repository,
            actions_dirs=self.actions_dirs,
            cache_dir=cache_dir,
            online=self.online,
            ignores=project.config.workflow_ignores,
            config_path=project.config.path,
            exclude=project.config.exclude,
            zizmor_ignores=self.zizmor_ignores,
        )
        detail = f"{audit.workflows} workflow(s), {audit.actions} action(s) audited"
        if audit.suppressed:
            detail += f", {len(audit.suppressed)} finding(s) suppressed"
        enforced = audit.enforcement.get(CONTROL)
        if audit.enforcement.get("*"):
            enforced = True
        status = ControlStatus.FAIL if audit.findings else ControlStatus.PASS
        if audit.download_errors:  # a remote action could not be fetched: fail closed
            detail += "; could not fetch: " + "; ".join(audit.download_errors[:3])
            status = ControlStatus.ERROR
        return ControlResult(
            self.id,
            status,
            self.threats,
            audit.findings,
            detail,
            enforced,
            audit.suppressed,
            MappingProxyType(dict(audit.enforcement)),
        )
