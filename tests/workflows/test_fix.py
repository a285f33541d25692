"""--fix moves attacker-controlled contexts into env:, and leaves what it cannot fix safely."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.workflows.audit import audit_repository
from bastion._internal.workflows.fix import fix_file, fix_repository
from tests.conftest import run_cli
from tests.workflows.helpers import of_rule, write

WORKFLOW = """\
on: issues
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}"
      - name: two
        env:
          KEEP: x
        run: |
          echo "${{ github.event.issue.body }}" and ${{ github.event.issue.title }}
          echo '${{ github.event.issue.title }}'
      - name: three
        run: echo ${{ github.head_ref || github.ref }} ${{ github.sha }}
"""
FIXED = """\
on: issues
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - env:
          ISSUE_TITLE: ${{ github.event.issue.title }}
        run: echo "${ISSUE_TITLE}"
      - name: two
        env:
          KEEP: x
          ISSUE_BODY: ${{ github.event.issue.body }}
          ISSUE_TITLE: ${{ github.event.issue.title }}
        run: |
          echo "${ISSUE_BODY}" and ${ISSUE_TITLE}
          echo '${{ github.event.issue.title }}'
      - name: three
        run: echo ${{ github.head_ref || github.ref }} ${{ github.sha }}
"""


def test_fix_moves_single_contexts_into_env(tmp_path: Path) -> None:
    write(tmp_path, {".github/workflows/a.yml": WORKFLOW})
    # github.head_ref is empty under issues: step three is no finding
    assert len(of_rule(audit_repository(tmp_path), "template-injection")) == 4
    (fixed,) = fix_repository(tmp_path)
    assert fixed.moved == 3
    assert (tmp_path / ".github/workflows/a.yml").read_text() == FIXED
    left = of_rule(audit_repository(tmp_path), "template-injection")
    # single quotes are left for a person to decide
    assert [f.location.line for f in left if f.location] == [17]
    assert fix_repository(tmp_path) == []  # nothing more to do: idempotent


def test_fix_in_a_composite_action(tmp_path: Path) -> None:
    action = (
        "runs:\n  using: composite\n  steps:\n"
        "    - run: git pull origin ${{ github.head_ref }}\n      shell: bash\n"
    )
    write(tmp_path, {"action.yml": action, ".github/workflows/.keep": ""})
    assert fix_file(tmp_path / "action.yml") == 1
    text = (tmp_path / "action.yml").read_text()
    assert (
        "    - env:\n        HEAD_REF: ${{ github.head_ref }}\n"
        "      run: git pull origin ${HEAD_REF}\n" in text
    )


def test_fix_leaves_files_it_cannot_edit_safely(tmp_path: Path) -> None:
    flow_env = WORKFLOW.replace("        env:\n          KEEP: x\n", "        env: {KEEP: x}\n")
    broken = "on: [push\n"
    write(tmp_path, {"flow.yml": flow_env, "broken.yml": broken})
    assert fix_file(tmp_path / "broken.yml") == 0
    assert (tmp_path / "broken.yml").read_text() == broken
    assert fix_file(tmp_path / "flow.yml") == 1  # only the first step; 'two' has flow-style env
    assert "env: {KEEP: x}" in (tmp_path / "flow.yml").read_text()


def test_cli_fix(tmp_path: Path) -> None:
    write(tmp_path, {".github/workflows/a.yml": WORKFLOW})
    code, out, err = run_cli("workflows", str(tmp_path), "--fix", "--format", "json")
    assert "moved 3 expression(s) into env:" in err
    assert code == 1
    assert (tmp_path / ".github/workflows/a.yml").read_text() == FIXED
    assert out.count('"rule_id": "template-injection"') == 1
