"""Reading a workflow into the model: values with their positions, errors at their lines."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.workflows.parse import parse_action, parse_workflow

P = Path("ci.yml")


def _parse(text: str) -> object:
    return parse_workflow(P, textwrap.dedent(text))


def test_steps_keep_every_field_with_its_position() -> None:
    workflow = parse_workflow(
        P,
        textwrap.dedent(
            """\
            on: push
            jobs:
              build:
                runs-on: ubuntu-latest
                steps:
                  - name: Check out
                    id: co
                    uses: actions/checkout@v4
                    with: {fetch-depth: 0}
                    extra: 1
                  - run: |
                      echo "${{ github.ref }}"
                    shell: bash
                    working-directory: src
                    env:
                      A: b
                    if: "github.ref == 'x'"
                    continue-on-error: true
                  - env: ${{ fromJSON(inputs.env) }}
                    run: 'quoted'
            """
        ),
    )
    first, second, third = workflow.jobs[0].steps
    assert (first.index, first.line, first.name, first.id) == (0, 6, "Check out", "co")
    assert first.uses is not None and (first.uses.line, first.uses.column) == (8, 15)
    assert dict(first.with_)["fetch-depth"].value == "0"
    assert first.run is None and first.env == {} and first.if_ is None
    assert workflow.unknown_keys == (("extra", 10),)
    assert second.run is not None and second.run.block and second.run.indent == 10
    assert (second.shell, second.working_directory) == ("bash", "src")
    assert dict(second.env)["A"].value == "b"
    assert second.if_ is not None and second.if_.column == 14  # inside the quotes
    assert second.continue_on_error is not None and second.continue_on_error.true
    assert set(third.env) == {"*"}  # a whole-mapping expression stands for every name
    assert third.run is not None and (third.run.value, third.run.column) == ("quoted", 15)


@pytest.mark.parametrize(
    ("steps", "message", "line"),
    [
        ("      - just-a-string\n", "step 1 should be a mapping", 5),
        ("      - run: x\n      - [a]\n", "step 2 should be a mapping", 6),
        ("      - name: [a]\n        run: {b: c}\n", "name should be a single value", 5),
        ("      - run: {b: c}\n        if: [a]\n", "run should be a single value", 5),
        ("      - with: [a]\n        env: [b]\n", "with should be a mapping", 5),
        ("      - env: {A: [x]}\n", "env.A should be a single value", 5),
        ("      - if: [a]\n        continue-on-error: [b]\n", "if should be a single value", 5),
        ("      - id: {a: b}\n        shell: [c]\n", "id should be a single value", 5),
    ],
)
def test_the_first_bad_step_value_is_reported_at_its_line(
    steps: str, message: str, line: int
) -> None:
    text = "on: push\njobs:\n  a:\n    steps:\n" + steps
    with pytest.raises(InputError, match=message) as caught:
        parse_workflow(P, text)
    assert caught.value.line == line


def test_steps_that_are_not_a_list_are_refused() -> None:
    with pytest.raises(InputError, match="steps should be a list"):
        parse_workflow(P, "on: push\njobs:\n  a:\n    steps: {run: x}\n")


def test_action_steps_are_read_the_same_way() -> None:
    action = parse_action(
        Path("action.yml"),
        "runs:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n",
    )
    (step,) = action.steps
    assert step.run is not None and step.run.value == "echo hi"
    assert (step.shell, step.line) == ("bash", 4)


_PIECES = st.sampled_from(
    [
        "on: push\n",
        "jobs:\n",
        "  a:\n",
        "    steps:\n",
        "      - ",
        "run: x\n",
        "name: [y]\n",
        "env: {A: b}\n",
        "with:\n",
        "        k: v\n",
        "- ",
        "uses: a/b@c\n",
        "{}\n",
        "null\n",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=14))
def test_any_arrangement_gives_a_workflow_or_an_input_error(pieces: list[str]) -> None:
    try:
        parse_workflow(P, "".join(pieces))
    except InputError as exc:
        assert exc.message


def test_the_direct_constructors_build_what_the_dataclasses_build() -> None:
    from dataclasses import FrozenInstanceError, fields

    from bastion._internal.workflows.model import Step, Text
    from bastion._internal.workflows.parse import _step, _text

    text = _text("v", 3, 4, True, 2)
    assert text == Text("v", 3, 4, True, 2) and hash(text) == hash(Text("v", 3, 4, True, 2))
    values: list[Any] = [P, 1, 2, "n", "i", text, None, {"k": text}, {}, None, text, "bash", "src"]
    step = _step(*values)
    assert step == Step(*values)
    assert [getattr(step, f.name) for f in fields(Step)] == values
    with pytest.raises(FrozenInstanceError):
        step.name = "other"  # type: ignore[misc]


def test_slot_setters_refuse_a_field_list_that_is_not_the_model() -> None:
    from bastion._internal.workflows.model import Text
    from bastion._internal.workflows.parse import _slot_setters

    with pytest.raises(TypeError, match="fields are"):
        _slot_setters(Text, "value", "line", "column", "block")
    with pytest.raises(TypeError, match="fields are"):
        _slot_setters(Text, "line", "value", "column", "block", "indent")
