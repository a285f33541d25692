"""Reusable workflows and composite actions run in the caller's context; inputs carry taint."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.model import Severity
from tests.workflows.helpers import audit, of_rule, where


def test_reusable_workflow_runs_with_the_callers_trigger_and_inputs(tmp_path: Path) -> None:
    caller = """\
    on: pull_request_target
    permissions: {}
    jobs:
      call:
        uses: ./.github/workflows/build.yml
        with:
          branch: ${{ github.head_ref }}
          number: ${{ github.event.pull_request.number }}
    """
    called = """\
    on:
      workflow_call:
        inputs:
          branch: {type: string}
          number: {type: number}
    permissions: {}
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: echo ${{ inputs.branch }} ${{ inputs.number }}
    """
    result = audit(tmp_path, {"caller.yml": caller, "build.yml": called})
    found = of_rule(result, "template-injection")
    assert [(where(f), f.severity) for f in found] == [(("build.yml", 11), Severity.CRITICAL)]
    assert "inputs.branch <- github.head_ref" in found[0].message
    assert (
        "./.github/workflows/build.yml (job 'call' at .github/workflows/caller.yml:4)"
        in found[0].message
    )


def test_the_same_reusable_workflow_alone_is_not_injectable(tmp_path: Path) -> None:
    called = """\
    on:
      workflow_call:
        inputs:
          branch: {type: string}
    permissions: {}
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: echo ${{ inputs.branch }}
    """
    assert of_rule(audit(tmp_path, {"build.yml": called}), "template-injection") == []


def test_composite_inputs_and_defaults(tmp_path: Path) -> None:
    workflow = """\
    on: issue_comment
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - uses: ./.github/actions/echo
            with:
              text: ${{ github.event.comment.body }}
          - uses: ./.github/actions/echo
            with:
              text: fixed text
    """
    action = """\
    inputs:
      text: {required: true}
      ref: {default: "${{ github.event.issue.title }}"}
    runs:
      using: composite
      steps:
        - run: echo "${{ inputs.text }}"
          shell: bash
        - run: echo "${{ inputs.ref }}"
          shell: bash
    """
    result = audit(tmp_path, {"a.yml": workflow}, other={".github/actions/echo/action.yml": action})
    found = sorted(
        (where(f), f.message.split(" expands")[0]) for f in of_rule(result, "template-injection")
    )
    assert found == [
        (("action.yml", 7), "${{ inputs.text }}"),
        (("action.yml", 9), "${{ inputs.ref }}"),
    ]


def test_recursive_actions_stop(tmp_path: Path) -> None:
    workflow = (
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./loop\n"
    )
    action = "runs:\n  using: composite\n  steps:\n    - uses: ./loop\n"
    result = audit(tmp_path, {"a.yml": workflow}, other={"loop/action.yml": action})
    assert result.workflows == 1  # it ends, and reports nothing about the loop itself


def test_remote_reusable_workflow_from_the_actions_dir(tmp_path: Path) -> None:
    caller = """\
    on: issue_comment
    permissions: {}
    jobs:
      call:
        uses: org/shared/.github/workflows/reply.yml@main
        with:
          text: ${{ github.event.comment.body }}
    """
    called = (
        "on:\n  workflow_call:\n    inputs:\n      text: {type: string}\n"
        "jobs:\n  reply:\n    runs-on: x\n    steps:\n      - run: echo ${{ inputs.text }}\n"
    )
    missing = audit(tmp_path / "a", {"c.yml": caller})
    assert [where(f) for f in of_rule(missing, "unanalysable-action")] == [("c.yml", 5)]
    found = audit(
        tmp_path / "b",
        {"c.yml": caller},
        actions={"org/shared/main/.github/workflows/reply.yml": called},
    )
    assert of_rule(found, "unanalysable-action") == []
    (injection,) = of_rule(found, "template-injection")
    assert injection.location is not None
    assert injection.location.path.as_posix() == "org/shared@main/.github/workflows/reply.yml"
    assert injection.severity is Severity.CRITICAL
