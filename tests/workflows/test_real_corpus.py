"""The audit of real workflows: each repository's findings against its expected-findings file.

``tests/data/workflows/real/<owner>__<repo>/`` holds trimmed copies of a real
repository's workflow files (see each ``ATTRIBUTION.md``) and ``expected-findings.txt``:
one line per finding (and per finding waived by an ignore). A change that adds or loses a
finding shows in the diff. After a deliberate change, regenerate with
``BASTION_UPDATE_CORPUS=1 .venv/bin/python -m pytest tests/workflows/test_real_corpus.py``
and review the diff line by line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion._internal.workflows.audit import WorkflowAudit, audit_repository

CORPUS = Path(__file__).parent.parent / "data" / "workflows" / "real"
ACTIONS = CORPUS / "_actions"
EXPECTED = "expected-findings.txt"
REPOSITORIES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "_actions")


def render(result: WorkflowAudit) -> str:
    """One line per finding: ``path:line rule severity: message``, then the waived ones."""
    lines = []
    for item in result.findings:
        assert item.location is not None
        where = f"{_relative(item.location.path, result.root)}:{item.location.line}"
        lines.append(f"{where} {item.rule_id} {item.severity.name.lower()}: {item.message}")
    for waived in result.suppressed:
        item = waived.finding
        assert item.location is not None
        where = f"{_relative(item.location.path, result.root)}:{item.location.line}"
        lines.append(f"{where} {item.rule_id} waived ({waived.waiver.reason}): {item.message}")
    return "\n".join(lines) + "\n"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def actions_dir(name: str) -> Path:
    """The folder's own actions directory, else the default (ultralytics/actions@main then)."""
    own = ACTIONS / name
    return own if own.is_dir() else ACTIONS / "default"


def audit(name: str) -> WorkflowAudit:
    return audit_repository(CORPUS / name, actions_dirs=(actions_dir(name),))


def test_the_corpus_is_large_enough() -> None:
    assert len(REPOSITORIES) >= 21
    for name in REPOSITORIES:
        assert (CORPUS / name / "ATTRIBUTION.md").is_file(), name
        assert (CORPUS / name / EXPECTED).is_file(), name


@pytest.mark.parametrize("name", REPOSITORIES)
def test_findings_match_the_expected_file(name: str) -> None:
    rendered = render(audit(name))
    expected_file = CORPUS / name / EXPECTED
    if os.environ.get("BASTION_UPDATE_CORPUS"):
        expected_file.write_text(rendered, encoding="utf-8")
    assert rendered == expected_file.read_text(encoding="utf-8")
