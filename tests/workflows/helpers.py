"""Write small repositories of workflows (and an actions directory) and audit them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bastion._internal.model import Finding
from bastion._internal.workflows.audit import WorkflowAudit, audit_repository


def write(root: Path, files: dict[str, str]) -> None:
    """``{relative path: text}`` into ``root`` (texts dedented)."""
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")


def audit(
    tmp_path: Path,
    workflows: dict[str, str],
    actions: dict[str, str] | None = None,
    other: dict[str, str] | None = None,
) -> WorkflowAudit:
    """Audit a repository holding ``workflows`` (by file name) and ``other`` files.

    ``actions`` is an actions directory: ``{"owner/repo/ref/action.yml": text}``.
    """
    root = tmp_path / "repo"
    write(root, {f".github/workflows/{name}": text for name, text in workflows.items()})
    write(root, other or {})
    dirs: tuple[Path, ...] = ()
    if actions:
        write(tmp_path / "actions", actions)
        dirs = (tmp_path / "actions",)
    return audit_repository(root, actions_dirs=dirs)


def of_rule(result: WorkflowAudit, rule_id: str) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in result.findings if f.rule_id == rule_id]


def where(finding: Finding) -> tuple[str, int | None]:
    """(file name, line) of a finding."""
    assert finding.location is not None
    return finding.location.path.name, finding.location.line
