"""excessive-permissions, unpinned-uses, artipacked, secrets-inherit, self-hosted-runner,
download-execute, unanalysable-action."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.model import Severity
from tests.workflows.helpers import audit, of_rule, where

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def test_excessive_permissions(tmp_path: Path) -> None:
    workflow = """\
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: make
      deploy:
        runs-on: ubuntu-latest
        permissions: write-all
        steps:
          - run: make deploy
    """
    found = of_rule(audit(tmp_path, {"p.yml": workflow}), "excessive-permissions")
    assert [(where(f), f.severity) for f in found] == [
        (("p.yml", 3), Severity.MEDIUM),  # build: default token permissions
        (("p.yml", 9), Severity.HIGH),  # deploy: write-all
    ]


def test_workflow_level_write_scopes_and_write_all(tmp_path: Path) -> None:
    shared = """\
    on: pull_request_target
    permissions:
      contents: write
    jobs:
      a:
        runs-on: ubuntu-latest
        steps: [{run: echo a}]
      b:
        runs-on: ubuntu-latest
        steps: [{run: echo b}]
    """
    found = of_rule(audit(tmp_path, {"s.yml": shared}), "excessive-permissions")
    assert [(where(f), f.severity) for f in found] == [(("s.yml", 2), Severity.HIGH)]
    everything = shared.replace("permissions:\n      contents: write", "permissions: write-all")
    assert everything != shared
    found = of_rule(audit(tmp_path / "b", {"s.yml": everything}), "excessive-permissions")
    assert [f.severity for f in found] == [Severity.CRITICAL]


def test_excessive_permissions_fixed(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    jobs:
      build:
        runs-on: ubuntu-latest
        permissions:
          contents: read
        steps:
          - run: make
      release:
        runs-on: ubuntu-latest
        steps:
          - run: make release
    """
    assert of_rule(audit(tmp_path, {"p.yml": workflow}), "excessive-permissions") == []


def test_unpinned_uses(tmp_path: Path) -> None:
    workflow = f"""\
    on: push
    permissions: {{}}
    jobs:
      a:
        runs-on: ubuntu-latest
        container: python:3.12
        services:
          db:
            image: postgres@sha256:{"a" * 64}
        steps:
          - uses: actions/checkout@v4
          - uses: someone/action@main
          - uses: someone/action@v1.2.0
          - uses: someone/action@release/v1
          - uses: someone/action@{SHA}
          - uses: ./local/action
          - uses: docker://alpine:3.20
      b:
        uses: org/workflows/.github/workflows/ci.yml@v2
    """
    result = audit(tmp_path, {"u.yml": workflow})
    found = of_rule(result, "unpinned-uses")
    images = of_rule(result, "unpinned-images")
    assert [(where(f)[1], f.severity) for f in images] == [(6, Severity.MEDIUM)]  # a tag
    assert [(where(f)[1], f.severity) for f in found] == [
        (11, Severity.LOW),  # GitHub's own action on a tag
        (12, Severity.HIGH),  # a branch
        (13, Severity.MEDIUM),  # a tag
        (14, Severity.HIGH),  # a branch with a slash
        (17, Severity.MEDIUM),  # docker:// without digest
        (19, Severity.MEDIUM),  # reusable workflow on a tag
    ]


def test_unpinned_images_by_tag_and_without(tmp_path: Path) -> None:
    workflow = f"""\
    on: push
    permissions: {{}}
    jobs:
      a:
        runs-on: ubuntu-latest
        container:
          image: ghcr.io/org/builder
        services:
          redis:
            image: redis:latest
          db:
            image: postgres:16.4
          pinned:
            image: postgres:16.4@sha256:{"d" * 64}
          chosen:
            image: ${{{{ matrix.image }}}}
        steps:
          - run: make
    """
    found = of_rule(audit(tmp_path, {"i.yml": workflow}), "unpinned-images")
    assert [(where(f)[1], f.severity) for f in found] == [
        (7, Severity.HIGH),  # no tag at all
        (10, Severity.HIGH),  # latest
        (12, Severity.MEDIUM),  # a tag that can be re-pushed
    ]
    assert "no tag" in found[0].message and "'16.4'" in found[2].message


def test_unpinned_uses_fixed(tmp_path: Path) -> None:
    workflow = f"""\
    on: push
    permissions: {{}}
    jobs:
      a:
        runs-on: ubuntu-latest
        container: python@sha256:{"b" * 64}
        steps:
          - uses: actions/checkout@{SHA} # v4.2.2
          - uses: ./local/action
          - uses: docker://alpine@sha256:{"c" * 64}
    """
    assert of_rule(audit(tmp_path, {"u.yml": workflow}), "unpinned-uses") == []


ARTIPACKED = f"""\
on: push
permissions: {{}}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA}
      - uses: actions/upload-artifact@{SHA}
        with:
          path: .
"""


def test_artipacked(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"a.yml": ARTIPACKED}), "artipacked")
    assert [(where(f), f.severity) for f in found] == [(("a.yml", 7), Severity.HIGH)]
    no_upload = ARTIPACKED.split("      - uses: actions/upload")[0]
    found = of_rule(audit(tmp_path / "b", {"a.yml": no_upload}), "artipacked")
    assert [f.severity for f in found] == [Severity.MEDIUM]


def test_artipacked_fixed(tmp_path: Path) -> None:
    fixed = ARTIPACKED.replace(
        f"actions/checkout@{SHA}\n",
        f"actions/checkout@{SHA}\n        with:\n          persist-credentials: false\n",
    )
    assert of_rule(audit(tmp_path, {"a.yml": fixed}), "artipacked") == []


def test_secrets_inherit(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    jobs:
      call:
        uses: ./.github/workflows/release.yml
        secrets: inherit
      named:
        uses: ./.github/workflows/release.yml
        secrets:
          token: ${{ secrets.RELEASE_TOKEN }}
    """
    found = of_rule(audit(tmp_path, {"c.yml": workflow}), "secrets-inherit")
    assert [where(f) for f in found] == [("c.yml", 6)]


def test_self_hosted_runner(tmp_path: Path) -> None:
    workflow = """\
    on: pull_request
    permissions: {}
    jobs:
      gpu:
        runs-on: [self-hosted, linux, gpu]
        steps: [{run: nvidia-smi}]
    """
    found = of_rule(audit(tmp_path, {"g.yml": workflow}), "self-hosted-runner")
    assert [where(f) for f in found] == [("g.yml", 5)]
    pushed = workflow.replace("on: pull_request", "on: push")
    assert of_rule(audit(tmp_path / "b", {"g.yml": pushed}), "self-hosted-runner") == []
    hosted = workflow.replace("[self-hosted, linux, gpu]", "ubuntu-latest")
    assert of_rule(audit(tmp_path / "c", {"g.yml": hosted}), "self-hosted-runner") == []


def test_download_execute(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - run: curl -sSfL https://example.com/install.sh | sudo bash
          - run: |
              wget -qO- https://example.com/x.py | python3 -
              bash <(curl -s https://example.com/y)
          - run: |
              curl -sSfLo install.sh https://example.com/install.sh
              echo "3b1f...  install.sh" | sha256sum -c
              bash install.sh
    """
    found = of_rule(audit(tmp_path, {"d.yml": workflow}), "download-execute")
    assert [where(f)[1] for f in found] == [7, 9, 10]


def test_unanalysable_action(tmp_path: Path) -> None:
    workflow = f"""\
    on: pull_request_target
    permissions: {{}}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - uses: someone/formatter@main
          - uses: someone/pinned@{SHA}
          - uses: actions/setup-python@v5
    """
    found = of_rule(audit(tmp_path, {"a.yml": workflow}), "unanalysable-action")
    assert [(where(f), f.severity) for f in found] == [(("a.yml", 7), Severity.MEDIUM)]
    provided = audit(
        tmp_path / "b",
        {"a.yml": workflow},
        actions={"someone/formatter/main/action.yml": "runs:\n  using: node20\n  main: x.js\n"},
    )
    assert of_rule(provided, "unanalysable-action") == []


def test_workflow_level_block_unused_when_every_job_sets_its_own(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: write-all
    jobs:
      a:
        runs-on: ubuntu-latest
        permissions:
          contents: read
        steps: [{run: make}]
    """
    assert of_rule(audit(tmp_path, {"p.yml": workflow}), "excessive-permissions") == []
