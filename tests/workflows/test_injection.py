"""template-injection, pwn-request, dangerous-triggers, github-env, bot-conditions."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.model import Confidence, Severity
from tests.workflows.helpers import audit, of_rule, where

ISSUE_BOT = """\
on:
  issues:
    types: [opened]
permissions:
  issues: write
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - name: Greet
        run: |
          echo "Thanks for reporting"
          echo "Title: ${{ github.event.issue.title }}"
"""
ISSUE_BOT_FIXED = """\
on:
  issues:
    types: [opened]
permissions:
  issues: write
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - name: Greet
        env:
          TITLE: ${{ github.event.issue.title }}
        run: |
          echo "Thanks for reporting"
          echo "Title: $TITLE"
"""


def test_template_injection_in_run(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"greet.yml": ISSUE_BOT}), "template-injection")
    assert len(found) == 1
    finding = found[0]
    assert where(finding) == ("greet.yml", 13)
    assert finding.location is not None and finding.location.column == 24
    assert finding.severity is Severity.CRITICAL  # issues: a privileged trigger
    assert finding.confidence is Confidence.HIGH
    assert "github.event.issue.title" in finding.message
    assert "env: TITLE: ${{ github.event.issue.title }}" in finding.remediation


def test_template_injection_fixed_through_env(tmp_path: Path) -> None:
    assert of_rule(audit(tmp_path, {"greet.yml": ISSUE_BOT_FIXED}), "template-injection") == []


def test_unprivileged_trigger_is_high_not_critical(tmp_path: Path) -> None:
    workflow = ISSUE_BOT.replace("issues:\n    types: [opened]", "pull_request:").replace(
        "github.event.issue.title", "github.head_ref"
    )
    found = of_rule(audit(tmp_path, {"ci.yml": workflow}), "template-injection")
    assert [f.severity for f in found] == [Severity.HIGH]


def test_github_script_and_tainted_env(tmp_path: Path) -> None:
    workflow = """\
    on: pull_request_target
    permissions: {}
    env:
      BRANCH: ${{ github.head_ref }}
    jobs:
      comment:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea # v7
            with:
              script: |
                console.log("${{ github.event.pull_request.body }}")
          - run: echo ${{ env.BRANCH }}
          - run: echo "$BRANCH" ${{ github.event.pull_request.number }} ${{ github.sha }}
    """
    found = of_rule(audit(tmp_path, {"c.yml": workflow}), "template-injection")
    assert [where(f) for f in found] == [("c.yml", 12), ("c.yml", 13)]
    assert "script:" in found[0].message
    assert "env.branch <- github.head_ref" in found[1].message


def test_unknown_event_fields_are_low_confidence(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - run: echo ${{ github.event.brand_new_field }} ${{ steps.x.outputs.y }}
    """
    found = of_rule(audit(tmp_path, {"a.yml": workflow}), "template-injection")
    assert [(f.severity, f.confidence) for f in found] == [(Severity.LOW, Confidence.LOW)]


def test_bad_expression_is_a_finding_and_the_rest_is_audited(tmp_path: Path) -> None:
    workflow = """\
    on: issue_comment
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - run: echo ${{ github.event.comment.body ==  }}
          - run: echo ${{ github.event.comment.body }}
          - run: echo ${{ unclosed
    """
    result = audit(tmp_path, {"a.yml": workflow})
    syntax = of_rule(result, "workflow-syntax")
    assert [where(f) for f in syntax] == [("a.yml", 7), ("a.yml", 9)]
    assert "does not parse" in syntax[0].message
    assert [where(f) for f in of_rule(result, "template-injection")] == [("a.yml", 8)]


PWN = """\
on:
  pull_request_target:
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          persist-credentials: false
      - run: pip install -r requirements.txt --require-hashes && pytest
"""


def test_pwn_request_checkout_then_run(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"t.yml": PWN}), "pwn-request")
    assert [where(f) for f in found] == [("t.yml", 11)]
    assert found[0].severity is Severity.CRITICAL
    assert "then runs step 1" not in found[0].message and "step 2" in found[0].message


def test_pwn_request_fixed_variants(tmp_path: Path) -> None:
    unprivileged = PWN.replace("pull_request_target", "pull_request")
    base_checkout = PWN.replace("          ref: ${{ github.event.pull_request.head.sha }}\n", "")
    nothing_after = PWN.rsplit("      - run:", 1)[0]
    for index, variant in enumerate((unprivileged, base_checkout, nothing_after)):
        result = audit(tmp_path / str(index), {"t.yml": variant})
        assert of_rule(result, "pwn-request") == [], index


def test_pwn_request_through_git_and_gh_commands(tmp_path: Path) -> None:
    workflow = """\
    on: issue_comment
    permissions: {}
    jobs:
      rebuild:
        runs-on: ubuntu-latest
        steps:
          - run: |
              gh pr checkout ${{ github.event.issue.number }}
              make build
      other:
        runs-on: ubuntu-latest
        steps:
          - run: git fetch origin "refs/pull/$NUMBER/head" && git checkout FETCH_HEAD
          - run: ./build.sh
    """
    found = of_rule(audit(tmp_path, {"r.yml": workflow}), "pwn-request")
    assert [where(f) for f in found] == [("r.yml", 8), ("r.yml", 13)]


def test_dangerous_triggers(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"t.yml": PWN}), "dangerous-triggers")
    assert [where(f) for f in found] == [("t.yml", 1)]
    run_trigger = PWN.replace("  pull_request_target:", "  workflow_run:\n    workflows: [CI]")
    assert of_rule(audit(tmp_path / "b", {"t.yml": run_trigger}), "dangerous-triggers")
    safe = PWN.replace("pull_request_target", "pull_request")
    assert of_rule(audit(tmp_path / "c", {"t.yml": safe}), "dangerous-triggers") == []


GITHUB_ENV = """\
on: workflow_run
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "PR_BRANCH=$(cat artifact/branch.txt)" >> "$GITHUB_ENV"
      - run: echo ok
"""


def test_github_env_under_privileged_trigger(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"d.yml": GITHUB_ENV}), "github-env")
    assert [where(f) for f in found] == [("d.yml", 8)]
    assert "GITHUB_ENV" in found[0].message


def test_github_env_fixed_and_unprivileged(tmp_path: Path) -> None:
    outputs = GITHUB_ENV.replace('>> "$GITHUB_ENV"', '>> "$GITHUB_OUTPUT"')
    assert of_rule(audit(tmp_path, {"d.yml": outputs}), "github-env") == []
    push = GITHUB_ENV.replace("on: workflow_run", "on: push")
    assert of_rule(audit(tmp_path / "b", {"d.yml": push}), "github-env") == []
    path_write = GITHUB_ENV.replace('>> "$GITHUB_ENV"', "| tee -a ${GITHUB_PATH}")
    assert of_rule(audit(tmp_path / "c", {"d.yml": path_write}), "github-env")


BOT = """\
on: pull_request_target
permissions:
  contents: write
jobs:
  automerge:
    runs-on: ubuntu-latest
    if: github.actor == 'dependabot[bot]'
    steps:
      - run: gh pr merge --auto "$PR"
        if: ${{ contains(github.triggering_actor, '[bot]') }}
"""


def test_bot_conditions(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"m.yml": BOT}), "bot-conditions")
    assert [where(f) for f in found] == [("m.yml", 7), ("m.yml", 10)]
    assert found[0].severity is Severity.HIGH
    assert "github.actor" in found[0].message


def test_bot_conditions_fixed(tmp_path: Path) -> None:
    fixed = BOT.replace("github.actor ==", "github.event.pull_request.user.login ==").replace(
        "contains(github.triggering_actor, '[bot]')",
        "github.event.pull_request.user.login == 'dependabot[bot]'",
    )
    assert of_rule(audit(tmp_path, {"m.yml": fixed}), "bot-conditions") == []
