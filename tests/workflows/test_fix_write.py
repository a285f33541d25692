"""--fix writes only inside the repository, never through a symlink, and keeps file modes."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import run_cli
from tests.workflows.helpers import write

INJECTABLE = """\
on: issues
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}"
"""


def test_fix_refuses_a_symlinked_workflows_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"a.yml": INJECTABLE})
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "workflows").symlink_to(outside)
    code, _, err = run_cli("workflows", str(repo), "--fix")
    assert code == 3, err
    assert "refusing to write: 'workflows' is a symlink" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (outside / "a.yml").read_text(encoding="utf-8") == INJECTABLE
    assert [p.name for p in outside.iterdir()] == ["a.yml"]


def test_fix_refuses_a_symlinked_workflow_file(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.yml"
    target.write_text(INJECTABLE, encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "a.yml").symlink_to(target)
    code, _, err = run_cli("workflows", str(repo), "--fix")
    assert code == 3 and "through a symlink" in err
    assert target.read_text(encoding="utf-8") == INJECTABLE


def test_fix_keeps_the_file_mode(tmp_path: Path) -> None:
    write(tmp_path, {".github/workflows/a.yml": INJECTABLE})
    path = tmp_path / ".github/workflows/a.yml"
    path.chmod(0o644)
    code, _, err = run_cli("workflows", str(tmp_path), "--fix")
    assert code in (0, 1), err
    assert "ISSUE_TITLE" in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
