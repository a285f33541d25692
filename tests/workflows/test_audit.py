"""Hostile and broken files: one finding per bad file, and the rest of the repository audited."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.workflows.audit import audit_repository, find_repository, workflow_files
from tests.workflows.helpers import audit, of_rule, where, write

GOOD_BAD = (
    "on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
    "      - run: echo ${{ github.event.issue.title }}\n"
)


def test_bad_files_are_findings_and_the_rest_is_audited(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    files = {
        "1-invalid.yml": "on: push\njobs: [unclosed\n",
        "2-bomb.yml": bomb,
        "3-duplicate.yml": (
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
            "      - run: safe\n        run: evil\n"
        ),
        "4-not-a-mapping.yml": "- just\n- a list\n",
        "5-no-jobs.yml": "on: push\n",
        "6-steps-not-list.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps: nope\n",
        "7-unknown-keys.yml": (
            "on: push\npermissions: {}\nfoo: 1\njobs:\n  a:\n    runs-on: x\n    bar: 2\n"
            "    steps:\n      - run: make\n        baz: 3\n"
        ),
        "8-python-tag.yml": "on: !!python/object/apply:os.system ['true']\njobs: {}\n",
        "9-empty.yml": "",
        "z-good.yml": GOOD_BAD,
    }
    result = audit(tmp_path, files)
    unreadable = {where(f)[0]: f for f in of_rule(result, "workflow-unreadable")}
    assert sorted(unreadable) == [
        "1-invalid.yml",
        "2-bomb.yml",
        "3-duplicate.yml",
        "4-not-a-mapping.yml",
        "5-no-jobs.yml",
        "6-steps-not-list.yml",
        "8-python-tag.yml",
        "9-empty.yml",
    ]
    assert "alias bomb" in unreadable["2-bomb.yml"].message
    assert "duplicate key 'run'" in unreadable["3-duplicate.yml"].message
    assert where(unreadable["3-duplicate.yml"]) == ("3-duplicate.yml", 7)
    assert "steps should be a list" in unreadable["6-steps-not-list.yml"].message
    syntax = [where(f) for f in of_rule(result, "workflow-syntax")]
    assert syntax == [
        ("7-unknown-keys.yml", 3),
        ("7-unknown-keys.yml", 7),
        ("7-unknown-keys.yml", 10),
    ]
    assert [where(f) for f in of_rule(result, "template-injection")] == [("z-good.yml", 7)]
    assert result.workflows == 2


def test_a_50_mb_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, {".github/workflows/ok.yml": GOOD_BAD})
    huge = root / ".github" / "workflows" / "huge.yml"
    with huge.open("wb") as handle:
        handle.write(b"on: push\njobs:\n")
        handle.truncate(50 * 1024 * 1024)
    result = audit_repository(root)
    unreadable = of_rule(result, "workflow-unreadable")
    assert [where(f)[0] for f in unreadable] == ["huge.yml"]
    assert "larger than" in unreadable[0].message
    assert of_rule(result, "template-injection")


def test_bad_remote_action_is_a_finding(tmp_path: Path) -> None:
    workflow = (
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - uses: o/r@main\n"
    )
    result = audit(tmp_path, {"a.yml": workflow}, actions={"o/r/main/action.yml": "name: x\n"})
    found = of_rule(result, "workflow-unreadable")
    assert len(found) == 1 and "needs 'runs:'" in found[0].message


def test_repository_discovery(tmp_path: Path) -> None:
    write(tmp_path, {"mono/.github/workflows/a.yml": GOOD_BAD, "mono/svc/api/x.txt": ""})
    (tmp_path / "mono" / ".git").mkdir()
    assert find_repository(tmp_path / "mono" / "svc" / "api") == tmp_path / "mono"
    (tmp_path / "mono" / "svc" / ".git").mkdir()  # a nested repository stops the walk
    assert find_repository(tmp_path / "mono" / "svc" / "api") is None
    write(
        tmp_path, {"mono/.github/workflows/notes.txt": "", "mono/.github/workflows/sub/b.yml": ""}
    )
    assert [p.name for p in workflow_files(tmp_path / "mono")] == ["a.yml"]


def test_standalone_actions_of_the_repository_are_audited(tmp_path: Path) -> None:
    action = (
        "runs:\n  using: composite\n  steps:\n"
        "    - run: git pull origin ${{ github.head_ref }}\n      shell: bash\n"
    )
    root = tmp_path / "repo"
    write(root, {"action.yml": action, "tests/data/action.yml": action, "bastion.toml": ""})
    result = audit_repository(root, exclude=("tests/**",))
    assert [where(f) for f in of_rule(result, "template-injection")] == [("action.yml", 4)]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_is_a_finding_or_audited(tmp_path: Path, text: str) -> None:
    root = tmp_path / "fuzz"
    write(root, {".github/workflows/f.yml": "x"})
    (root / ".github" / "workflows" / "f.yml").write_text(text, encoding="utf-8")
    result = audit_repository(root)
    assert result.workflows in (0, 1)


WORKFLOW_SHAPED = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=30),
        st.just("${{ github.head_ref }}"),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "on",
                    "jobs",
                    "steps",
                    "run",
                    "uses",
                    "with",
                    "env",
                    "permissions",
                    "runs-on",
                    "if",
                    "secrets",
                    "a",
                ]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=30,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(WORKFLOW_SHAPED)
def test_workflow_shaped_documents_never_crash(tmp_path: Path, document: object) -> None:
    import json

    root = tmp_path / "shaped"
    write(root, {".github/workflows/f.yml": json.dumps(document)})  # JSON is YAML
    audit_repository(root)
