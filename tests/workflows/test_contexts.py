from __future__ import annotations

import pytest

from bastion._internal.workflows.contexts import Control, classify, table


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("github.head_ref", Control.ATTACKER),
        ("github.event.pull_request.title", Control.ATTACKER),
        ("github.event.pull_request.head.ref", Control.ATTACKER),
        ("github.event.issue.body", Control.ATTACKER),
        ("github.event.comment.body", Control.ATTACKER),
        ("github.event.commits.*.message", Control.ATTACKER),
        ("github.event.head_commit.author.email", Control.ATTACKER),
        ("github.event.workflow_run.head_branch", Control.ATTACKER),
        ("github.event.pages.*.page_name", Control.ATTACKER),
        ("github.event.pull_request.head.sha", Control.STRUCTURED),
        ("github.event.pull_request.head.repo.full_name", Control.STRUCTURED),
        ("github.actor", Control.STRUCTURED),
        ("github.ref_name", Control.STRUCTURED),
        ("github.event.pull_request.number", Control.FIXED),
        ("github.event.pull_request.base.ref", Control.FIXED),
        ("github.sha", Control.FIXED),
        ("github.repository", Control.FIXED),
        ("secrets.PYPI_TOKEN".lower(), Control.FIXED),
        ("matrix.python", Control.FIXED),
        ("steps.build.outcome", Control.FIXED),
        ("steps.meta.outputs.title", Control.UNKNOWN),
        ("needs.build.outputs.version", Control.UNKNOWN),
        ("github.event.some_new_field", Control.UNKNOWN),
        ("inputs.ref", Control.UNKNOWN),
        ("env.FOO", Control.UNKNOWN),
    ],
)
def test_classes(path: str, expected: Control) -> None:
    assert classify(path) is expected


def test_every_pattern_is_reachable() -> None:
    """No row of the table is hidden by an earlier, wider one."""
    for pattern, control in table():
        example = pattern.replace("**", "x").replace("*", "0")
        assert classify(example) is control, pattern
