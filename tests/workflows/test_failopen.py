"""The fail-open table: each security action's deciding input, default and fail-closed value."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from bastion._internal.workflows.failopen import FAIL_SETTINGS, action_fail_open
from bastion._internal.workflows.model import Text, parse_uses
from tests.workflows.helpers import audit, of_rule, where

SHA = "0" * 40


def _with(**values: str) -> MappingProxyType[str, Text]:
    return MappingProxyType({k.replace("_", "-"): Text(v, 1, 1) for k, v in values.items()})


def _uses(action: str):  # type: ignore[no-untyped-def]
    uses = parse_uses(f"{action}@{SHA}")
    assert uses is not None
    return uses


@pytest.mark.parametrize("row", FAIL_SETTINGS, ids=lambda r: r.action)
def test_each_row(row) -> None:  # type: ignore[no-untyped-def]
    uses = _uses(row.action)
    if row.input is None:
        assert action_fail_open(uses, _with()) == row.note
        return
    default = action_fail_open(uses, MappingProxyType({}))
    assert (default is None) == (row.default in row.closed)
    if default is not None:
        assert "(the default)" in default
    for value in row.closed:
        assert action_fail_open(uses, MappingProxyType({row.input: Text(value, 1, 1)})) is None
    opened = "true" if "true" not in row.closed else "false"
    reason = action_fail_open(uses, MappingProxyType({row.input: Text(opened, 1, 1)}))
    assert reason is not None and reason.startswith(f"{row.input}: {opened}")
    expression = Text("${{ inputs.strict }}", 1, 1)
    assert action_fail_open(uses, MappingProxyType({row.input: expression})) is None


def test_unknown_actions_are_not_judged() -> None:
    assert action_fail_open(_uses("someone/scanner"), _with()) is None


def test_zizmor_action_default_is_fail_open_and_flask_setting_is_closed(tmp_path: Path) -> None:
    workflow = f"""\
    on: push
    permissions: {{}}
    jobs:
      default:
        runs-on: ubuntu-latest
        steps:
          - uses: zizmorcore/zizmor-action@{SHA}
      closed:
        runs-on: ubuntu-latest
        steps:
          - uses: zizmorcore/zizmor-action@{SHA}
            with:
              advanced-security: false
    """
    result = audit(tmp_path, {"z.yml": workflow})
    (found,) = of_rule(result, "fail-open-check")
    assert where(found) == ("z.yml", 7)
    assert "advanced-security: true (the default)" in found.message
    assert result.enforcement["workflows"] is True  # the second job fails closed
    only_open = audit(tmp_path / "o", {"z.yml": workflow.split("      closed:")[0]})
    assert only_open.enforcement["workflows"] is False
