"""Event gates and executing steps: literal forms evaluated, anything else kept (fuzzed too)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.workflows.events import gate, holds_value
from bastion._internal.workflows.execution import Tree, command_words
from bastion._internal.workflows.model import Text

TRIGGERS = {"issues": None, "pull_request_target": None, "push": None}


def _gate(condition: str):  # type: ignore[no-untyped-def]
    return gate(TRIGGERS, [Text(condition, 1, 1)])


def test_event_name_conditions() -> None:
    assert _gate("github.event_name == 'push'").events == {"push"}
    assert _gate("${{ github.event_name != 'issues' }}").events == {"pull_request_target", "push"}
    both = "github.event_name == 'push' || github.event_name == 'issues'"
    assert _gate(both).events == {"push", "issues"}
    assert _gate("github.event_name == 'push' && failure()").events == {"push"}
    assert _gate("contains('push,issues', github.event_name)").events == {"push", "issues"}
    # unknown parts keep every event: a condition that could hold keeps it
    assert _gate("github.repository == 'o/r'").events == set(TRIGGERS)
    assert _gate("inputs.x || github.event_name == 'push'").events == set(TRIGGERS)
    assert _gate("${{ bad syntax (").events == set(TRIGGERS)
    assert gate({}, [Text("github.event_name == 'push'", 1, 1)]).events is None


def test_trust_and_approval_gates() -> None:
    member = _gate("github.event.pull_request.author_association == 'MEMBER'")
    assert member.trusted_only is not None and member.approval is None
    listed = _gate(
        'contains(fromJSON(\'["OWNER", "COLLABORATOR"]\'), github.event.issue.author_association)'
    )
    assert listed.trusted_only is not None
    outsider = _gate("github.event.pull_request.author_association == 'CONTRIBUTOR'")
    assert outsider.trusted_only is None
    either = _gate("github.event.pull_request.author_association == 'OWNER' || github.actor == 'x'")
    assert either.trusted_only is None  # the second half lets anybody in
    comment = _gate("github.event.comment.author_association == 'MEMBER'")
    assert comment.trusted_only is None and comment.approval is not None
    label = _gate("contains(github.event.pull_request.labels.*.name, 'ok to test')")
    assert label.approval is not None
    assert _gate("!contains(github.event.pull_request.labels.*.name, 'x')").approval is None


def test_contexts_per_event() -> None:
    assert not holds_value("github.head_ref", frozenset({"issues", "push"}))
    assert holds_value("github.head_ref", frozenset({"issues", "pull_request_target"}))
    assert not holds_value("github.event.pull_request.title", frozenset({"schedule"}))
    assert holds_value("github.event.issue.title", frozenset({"issue_comment"}))
    assert holds_value("github.event.issue.title", None)
    assert holds_value("steps.x.outputs.y", frozenset({"push"}))


def test_command_words_and_data_only_trees() -> None:
    script = "set -e\n# comment\nFOO=1 sudo make -C x && echo ok | tee log; $(npm ci)\n"
    assert command_words(script) == ["set", "make", "echo", "tee", "npm"]
    assert Tree("docs", ("docs", "README.md")).data_only
    assert not Tree("x", ("src",)).data_only
    assert not Tree("x", ("tools/run.sh",)).data_only
    assert not Tree("x").data_only


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=200))
def test_any_condition_text_gives_a_gate(condition: str) -> None:
    result = _gate(condition)
    assert result.events is not None and result.events <= set(TRIGGERS)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_script_gives_command_words(script: str) -> None:
    words = command_words(script)
    assert all(word and "\n" not in word for word in words)


def test_installs_from_an_index_and_reading_tools_run_nothing_of_the_tree() -> None:
    from bastion._internal.workflows.execution import commands, runs_code

    def runs(script: str) -> list[bool]:
        return [runs_code(words) for words in commands(script)]

    assert runs("python -m pip install -U pip wheel build") == [False]
    assert runs("uv pip install --system --index-url https://x/simple ruff") == [False]
    assert runs("pip install -q \\\n  openai requests") == [False]
    assert runs("pip install -r requirements.txt") == [True]
    assert runs("pip install -e .") == [True]
    assert runs("pip install ./pr-head") == [True]
    assert runs("pip install $packages") == [True]  # unknown: could be a path
    assert runs("ruff check . && codespell && black --check .") == [False, False, False]
    assert runs("npx prettier --write .") == [True]  # loads .prettierrc.js from the tree
    assert runs("pytest -q") == [True]


def test_commands_of_packages_installed_from_an_index() -> None:
    from bastion._internal.workflows.execution import commands, installed_from_index, runs_code

    script = (
        'packages="ultralytics-actions"\n'
        'packages="$packages codespell tomli"\n'
        'sudo env "PATH=$PATH" uv pip install --system $packages\n'
    )
    assert commands(script) == [
        ["uv", "pip", "install", "--system", "ultralytics-actions", "codespell", "tomli"]
    ]
    installed = installed_from_index([script, "pip install pytest==8.3 'black[d]>=24'"])
    assert installed == {"ultralytics-actions", "codespell", "tomli", "pytest", "black"}
    assert not runs_code(["ultralytics-actions-summarize-pr"], installed)
    assert runs_code(["pytest", "-q"], installed)  # loads conftest.py from the tree
    assert runs_code(["summarize"], installed)  # not known to come from the index
    assert installed_from_index(["pip install -r requirements.txt ./local"]) == frozenset()


def test_hostile_scripts_stay_bounded() -> None:
    import time

    from bastion._internal.workflows.execution import commands

    doubling = 'a="x"\n' + 'a="$a$a"\n' * 60 + "pip install $a\n"
    start = time.perf_counter()
    (install,) = commands(doubling)
    assert install[:2] == ["pip", "install"] and len(" ".join(install)) < 10_000
    assert time.perf_counter() - start < 5  # generous: a doubling would never finish
