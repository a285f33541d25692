"""zizmor's ignore comments and zizmor.yml: shared rules waived (and shown), others kept."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.workflows.audit import audit_repository
from bastion._internal.workflows.zizmor import load_config
from tests.conftest import run_cli
from tests.workflows.helpers import of_rule, write

WORKFLOW = """\
on: workflow_run  # zizmor: ignore[dangerous-triggers]
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      # zizmor: ignore[unpinned-uses] reviewed
      - uses: someone/action@v1
      - uses: other/action@v2  # zizmor: ignore[template-injection]
      - uses: third/action@main
"""


def _repo(tmp_path: Path, config: str | None = None, name: str = ".github/zizmor.yml") -> Path:
    files = {".github/workflows/ci.yml": WORKFLOW}
    if config is not None:
        files[name] = config
    write(tmp_path, files)
    return tmp_path


def test_comments_waive_the_rule_they_name_and_only_it(tmp_path: Path) -> None:
    result = audit_repository(_repo(tmp_path))
    waived = {(w.finding.rule_id, w.finding.location.line) for w in result.suppressed}  # type: ignore[union-attr]
    assert waived == {("dangerous-triggers", 1), ("unpinned-uses", 8)}
    reasons = sorted(w.waiver.reason for w in result.suppressed)
    assert reasons == [
        "zizmor: ignore[dangerous-triggers] comment on line 1",
        "zizmor: ignore[unpinned-uses] comment on line 7",
    ]
    # a comment naming another rule waives nothing; an uncommented line stays
    kept = [f.location.line for f in of_rule(result, "unpinned-uses")]  # type: ignore[union-attr]
    assert kept == [9, 10]


def test_configuration_ignores_by_file_line_and_disables(tmp_path: Path) -> None:
    config = (
        "rules:\n"
        "  unpinned-uses:\n"
        "    ignore:\n"
        "      - ci.yml:10\n"
        "      - other.yml\n"
        "  artipacked:\n"
        "    disable: true\n"
        "  pwn-request:\n"  # not a zizmor rule: bastion's own rules are never waived by it
        "    disable: true\n"
    )
    result = audit_repository(_repo(tmp_path, config))
    by_rule = {(w.finding.rule_id, w.finding.location.line) for w in result.suppressed}  # type: ignore[union-attr]
    assert ("unpinned-uses", 10) in by_rule
    assert [f.location.line for f in of_rule(result, "unpinned-uses")] == [9]  # type: ignore[union-attr]
    reasons = {w.waiver.reason for w in result.suppressed}
    assert "zizmor.yml ignores unpinned-uses in ci.yml" in reasons


def test_disable_applies_to_shared_rules(tmp_path: Path) -> None:
    config = "rules:\n  dangerous-triggers:\n    disable: true\n"
    write(
        tmp_path,
        {
            ".github/workflows/ci.yml": WORKFLOW.replace(
                "  # zizmor: ignore[dangerous-triggers]", ""
            )
        },
    )
    write(tmp_path, {"zizmor.yml": config})
    result = audit_repository(tmp_path)
    assert of_rule(result, "dangerous-triggers") == []
    assert any(
        w.waiver.reason == "zizmor.yml disables dangerous-triggers" for w in result.suppressed
    )


def test_turned_off_everything_is_reported(tmp_path: Path) -> None:
    result = audit_repository(
        _repo(tmp_path, "rules:\n  unpinned-uses:\n    disable: true\n"), zizmor_ignores=False
    )
    assert result.suppressed == ()
    assert len(of_rule(result, "unpinned-uses")) == 3
    assert len(of_rule(result, "dangerous-triggers")) == 1


def test_a_broken_configuration_is_a_finding_and_ignores_nothing(tmp_path: Path) -> None:
    for bad in (
        "rules: [1, 2]\n",
        "rules:\n  unpinned-uses:\n    ignore: ci.yml\n",
        "rules:\n  unpinned-uses:\n    ignore: ['ci.yml:x']\n",
        "a: [unclosed\n",
    ):
        result = audit_repository(_repo(tmp_path, bad))
        unreadable = of_rule(result, "workflow-unreadable")
        assert len(unreadable) == 1, bad
        assert unreadable[0].location is not None
        assert unreadable[0].location.path.name == "zizmor.yml"
        assert len(of_rule(result, "unpinned-uses")) == 2  # the comment still counts


def test_cli_flag_on_workflows_and_check(tmp_path: Path) -> None:
    _repo(tmp_path)
    code, out, _ = run_cli("workflows", str(tmp_path), "--format", "json")
    waived = json.loads(out)["waived"]
    assert code == 1 and len(waived) == 2
    code, out, _ = run_cli("workflows", str(tmp_path), "--format", "json", "--no-zizmor-ignores")
    assert json.loads(out)["waived"] == []
    assert out.count('"rule_id": "dangerous-triggers"') == 1
    code, out, _ = run_cli("check", str(tmp_path), "--format", "json", "--no-zizmor-ignores")
    assert out.count('"rule_id": "dangerous-triggers"') == 1
    code, out, _ = run_cli("check", str(tmp_path), "--format", "json")
    assert '"zizmor: ignore[dangerous-triggers] comment on line 1"' in out


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_configuration_shape_loads_or_is_refused(tmp_path: Path, data: object) -> None:
    path = tmp_path / "zizmor.yml"
    path.write_text(json.dumps({"rules": data}), encoding="utf-8")  # JSON is YAML
    try:
        config = load_config(tmp_path)
    except InputError as exc:
        assert exc.path == path
    else:
        assert config is not None and config.path == path
