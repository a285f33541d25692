"""Workflow and action files (YAML written by anybody who opens a pull request) into the model.

The text is first converted by ``safe_yaml`` (alias budget, depth bound,
duplicate keys refused); the model is then built from the composed nodes so
that every piece keeps its line and column. A file that cannot be read raises
``InputError`` naming the file and line; the caller audits the other files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from bastion._internal import safe_yaml
from bastion._internal.errors import InputError
from bastion._internal.safe_read import read_text
from bastion._internal.workflows.model import Action, Job, Permissions, Step, Text, Workflow

MAX_WORKFLOW_BYTES = 4 * 1024 * 1024  # GitHub's own limit for a workflow is far smaller
MAX_YAML_NODES = 200_000

_WORKFLOW_KEYS = frozenset(
    {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}
)
_JOB_KEYS = frozenset(
    {
        "name",
        "permissions",
        "needs",
        "if",
        "runs-on",
        "environment",
        "concurrency",
        "outputs",
        "env",
        "defaults",
        "steps",
        "timeout-minutes",
        "strategy",
        "continue-on-error",
        "container",
        "services",
        "uses",
        "with",
        "secrets",
        "snapshot",
    }
)
_STEP_KEYS = frozenset(
    {
        "id",
        "if",
        "name",
        "uses",
        "run",
        "working-directory",
        "shell",
        "with",
        "env",
        "continue-on-error",
        "timeout-minutes",
    }
)
_NO_VALUES: Mapping[str, Text] = MappingProxyType({})  # read-only, so one serves every absence
_ACTION_KEYS = frozenset({"name", "author", "description", "inputs", "outputs", "runs", "branding"})


def _slot_setters(cls: type, *names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The setters of a frozen slots dataclass's fields, which must be ``names`` in order.

    The dataclass's own ``__init__`` goes through ``object.__setattr__`` once per
    field (a frozen class); setting each slot through its descriptor does the same
    for under half the cost. Tens of thousands of ``Text`` and ``Step`` values are
    built per run. A field added to the model and not here fails at import.
    """
    declared = tuple(f.name for f in fields(cls))
    if declared != names or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} fields are {declared}, not {names}")
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
_TEXT_SLOTS = _slot_setters(Text, "value", "line", "column", "block", "indent")
_STEP_SLOTS = _slot_setters(
    Step,
    "file",
    "index",
    "line",
    "name",
    "id",
    "uses",
    "run",
    "with_",
    "env",
    "if_",
    "continue_on_error",
    "shell",
    "working_directory",
)


def _text(value: str, line: int, column: int, block: bool, indent: int) -> Text:
    """``Text(value, line, column, block, indent)``, each slot set directly."""
    text: Text = _new(Text)
    set_value, set_line, set_column, set_block, set_indent = _TEXT_SLOTS
    set_value(text, value)
    set_line(text, line)
    set_column(text, column)
    set_block(text, block)
    set_indent(text, indent)
    return text


def _step(
    file: Path,
    index: int,
    line: int,
    name: str | None,
    id_: str | None,
    uses: Text | None,
    run: Text | None,
    with_: Mapping[str, Text],
    env: Mapping[str, Text],
    if_: Text | None,
    continue_on_error: Text | None,
    shell: str | None,
    working_directory: str | None,
) -> Step:
    """``Step(...)`` with every field given, each slot set directly."""
    step: Step = _new(Step)
    (
        set_file, set_index, set_line, set_name, set_id, set_uses, set_run, set_with,
        set_env, set_if, set_continue_on_error, set_shell, set_working_directory,
    ) = _STEP_SLOTS  # fmt: skip
    set_file(step, file)
    set_index(step, index)
    set_line(step, line)
    set_name(step, name)
    set_id(step, id_)
    set_uses(step, uses)
    set_run(step, run)
    set_with(step, with_)
    set_env(step, env)
    set_if(step, if_)
    set_continue_on_error(step, continue_on_error)
    set_shell(step, shell)
    set_working_directory(step, working_directory)
    return step


class _Reader:
    """Node accessors that raise ``InputError`` at the node's line."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.unknown: list[tuple[str, int]] = []

    def fail(self, node: yaml.Node, message: str) -> InputError:
        return InputError(self.path, message, safe_yaml.line_of(node))

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} should be a mapping")
        return {str(k.value): (k, v) for k, v in node.value}

    def check_keys(
        self, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], known: frozenset[str]
    ) -> None:
        for key, (key_node, _) in entries.items():
            if key not in known:
                self.unknown.append((key, safe_yaml.line_of(key_node)))

    def text(self, node: yaml.Node, what: str) -> Text:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} should be a single value")
        style = node.style
        start = node.start_mark
        if style == "|" or style == ">":
            return _text(
                str(node.value), start.line + 1, start.column + 1, True,
                _block_indent(self.source, start.index),
            )  # fmt: skip
        quoted = style == "'" or style == '"'
        return _text(str(node.value), start.line + 1, start.column + 1 + quoted, False, 0)

    def scalar(self, node: yaml.Node, what: str) -> str:
        """``text(node, what).value``, without the position."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} should be a single value")
        return str(node.value)

    def optional_text(
        self, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str, what: str
    ) -> Text | None:
        entry = entries.get(key)
        return None if entry is None else self.text(entry[1], what)

    def texts(self, node: yaml.Node, what: str) -> tuple[Text, ...]:
        if isinstance(node, yaml.SequenceNode):
            return tuple(self.text(item, what) for item in node.value)
        if isinstance(node, yaml.MappingNode):  # runs-on: {group: ..., labels: [...]}
            entries = self.mapping(node, what)
            found: list[Text] = []
            for key in ("group", "labels"):
                if key in entries:
                    found.extend(self.texts(entries[key][1], what))
            return tuple(found)
        return (self.text(node, what),)

    def text_map(
        self, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str
    ) -> Mapping[str, Text]:
        entry = entries.get(key)
        if entry is None:
            return _NO_VALUES
        node = entry[1]
        if isinstance(node, yaml.ScalarNode) and "${{" in str(node.value):
            return MappingProxyType({"*": self.text(node, key)})  # env: ${{ fromJSON(...) }}
        values = {
            name: self.text(value, f"{key}.{name}")
            for name, (_, value) in self.mapping(node, key).items()
        }
        return MappingProxyType(values)

    def permissions(self, entry: tuple[yaml.Node, yaml.Node]) -> Permissions:
        key, node = entry
        line = safe_yaml.line_of(key)
        if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
            value = str(node.value)
            if value not in ("write-all", "read-all"):
                raise self.fail(node, "permissions should be read-all, write-all or a mapping")
            return Permissions(line, preset=value)
        scopes = {
            name: self.scalar(value, f"permissions.{name}")
            for name, (_, value) in self.mapping(node, "permissions").items()
        }
        return Permissions(line, scopes=MappingProxyType(scopes))


def _block_indent(buffer: str, index: int) -> int:
    """The indentation of the first text line of a block scalar starting at ``index``."""
    newline = buffer.find("\n", index)
    if newline == -1:
        return 0
    line_end = buffer.find("\n", newline + 1)
    line = buffer[newline + 1 : line_end if line_end != -1 else len(buffer)]
    return len(line) - len(line.lstrip(" "))


def _document(path: Path, text: str | None) -> tuple[yaml.Node, _Reader]:
    if text is None:
        text = read_text(path, limit=MAX_WORKFLOW_BYTES)
    node = safe_yaml.compose(path, text)
    if node is None:
        raise InputError(path, "empty file")
    safe_yaml.check(path, node, max_nodes=MAX_YAML_NODES)  # budget, depth, duplicates
    return node, _Reader(path, text)


def parse_workflow(path: Path, text: str | None = None) -> Workflow:
    """Read one workflow file."""
    node, reader = _document(path, text)
    top = reader.mapping(node, "a workflow")
    reader.check_keys(top, _WORKFLOW_KEYS)
    if "on" not in top:
        raise InputError(path, "a workflow needs 'on:' (its triggers)", safe_yaml.line_of(node))
    on_key, on_node = top["on"]
    triggers = _triggers(path, reader, on_node)
    if "jobs" not in top:
        raise InputError(path, "a workflow needs 'jobs:'", safe_yaml.line_of(node))
    jobs = tuple(
        _job(reader, job_id, key_node, value)
        for job_id, (key_node, value) in reader.mapping(top["jobs"][1], "jobs").items()
    )
    name = top.get("name")
    return Workflow(
        path=path,
        triggers=triggers,
        triggers_line=safe_yaml.line_of(on_key),
        jobs=jobs,
        permissions=reader.permissions(top["permissions"]) if "permissions" in top else None,
        env=reader.text_map(top, "env"),
        name=reader.scalar(name[1], "name") if name else None,
        unknown_keys=tuple(reader.unknown),
    )


def _triggers(path: Path, reader: _Reader, node: yaml.Node) -> Mapping[str, object]:
    if isinstance(node, yaml.ScalarNode):
        return MappingProxyType({str(node.value): None})
    if isinstance(node, yaml.SequenceNode):
        return MappingProxyType({reader.scalar(item, "on"): None for item in node.value})
    return MappingProxyType(
        {
            name: safe_yaml.to_python(path, value, max_nodes=MAX_YAML_NODES)
            for name, (_, value) in reader.mapping(node, "on").items()
        }
    )


def _job(reader: _Reader, job_id: str, key_node: yaml.Node, node: yaml.Node) -> Job:
    entries = reader.mapping(node, f"job {job_id!r}")
    reader.check_keys(entries, _JOB_KEYS)
    steps: tuple[Step, ...] = ()
    if "steps" in entries:
        steps = _steps(reader, entries["steps"][1])
    secrets = entries.get("secrets")
    inherit = None
    if secrets is not None and isinstance(secrets[1], yaml.ScalarNode):
        inherit = reader.text(secrets[1], "secrets")
        if inherit.value != "inherit":
            raise reader.fail(secrets[1], "secrets should be 'inherit' or a mapping")
    environment = entries.get("environment")
    environment_name = None
    if environment is not None:
        env_node = environment[1]
        if isinstance(env_node, yaml.MappingNode):
            env_entries = reader.mapping(env_node, "environment")
            if "name" in env_entries:
                environment_name = reader.scalar(env_entries["name"][1], "environment.name")
        else:
            environment_name = reader.scalar(env_node, "environment")
    container = entries.get("container")
    container_image = None
    if container is not None:
        if isinstance(container[1], yaml.MappingNode):
            container_image = reader.optional_text(
                reader.mapping(container[1], "container"), "image", "container.image"
            )
        else:
            container_image = reader.text(container[1], "container")
    services: list[Text] = []
    if "services" in entries:
        for service_name, (_, service) in reader.mapping(
            entries["services"][1], "services"
        ).items():
            image = reader.optional_text(
                reader.mapping(service, f"services.{service_name}"), "image", "image"
            )
            if image is not None:
                services.append(image)
    name = reader.optional_text(entries, "name", "name")
    return Job(
        file=reader.path,
        id=job_id,
        line=safe_yaml.line_of(key_node),
        name=name.value if name else None,
        runs_on=reader.texts(entries["runs-on"][1], "runs-on") if "runs-on" in entries else (),
        permissions=(
            reader.permissions(entries["permissions"]) if "permissions" in entries else None
        ),
        if_=reader.optional_text(entries, "if", "if"),
        env=reader.text_map(entries, "env"),
        steps=steps,
        uses=reader.optional_text(entries, "uses", "uses"),
        with_=reader.text_map(entries, "with"),
        secrets_inherit=inherit,
        continue_on_error=reader.optional_text(entries, "continue-on-error", "continue-on-error"),
        environment=environment_name,
        container=container_image,
        services=tuple(services),
        outputs=reader.text_map(entries, "outputs"),
    )


def _steps(reader: _Reader, node: yaml.Node) -> tuple[Step, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise reader.fail(node, "steps should be a list")
    steps = []
    text, scalar, text_map, file = reader.text, reader.scalar, reader.text_map, reader.path
    for index, item in enumerate(node.value):
        if item.__class__ is yaml.MappingNode:  # what reader.mapping gives, without its checks
            entries = {str(k.value): (k, v) for k, v in item.value}
        else:
            entries = reader.mapping(item, f"step {index + 1}")
        if not entries.keys() <= _STEP_KEYS:
            reader.check_keys(entries, _STEP_KEYS)
        get = entries.get
        # values are read in the order they always were, so the first bad one is reported
        name, step_id, shell, working = (
            get("name"),
            get("id"),
            get("shell"),
            get("working-directory"),
        )
        uses, run, if_, failure = get("uses"), get("run"), get("if"), get("continue-on-error")
        # the str fields first: the order the first bad value is looked for in
        name_value = None if name is None else scalar(name[1], "name")
        id_value = None if step_id is None else scalar(step_id[1], "id")
        shell_value = None if shell is None else scalar(shell[1], "shell")
        working_value = None if working is None else scalar(working[1], "working-directory")
        steps.append(
            _step(
                file=file,
                index=index,
                line=item.start_mark.line + 1,
                name=name_value,
                id_=id_value,
                uses=None if uses is None else text(uses[1], "uses"),
                run=None if run is None else text(run[1], "run"),
                with_=text_map(entries, "with") if "with" in entries else _NO_VALUES,
                env=text_map(entries, "env") if "env" in entries else _NO_VALUES,
                if_=None if if_ is None else text(if_[1], "if"),
                continue_on_error=(
                    None if failure is None else text(failure[1], "continue-on-error")
                ),
                shell=shell_value,
                working_directory=working_value,
            )
        )
    return tuple(steps)


def parse_action(path: Path, text: str | None = None) -> Action:
    """Read one action definition (``action.yml``)."""
    node, reader = _document(path, text)
    top = reader.mapping(node, "an action")
    reader.check_keys(top, _ACTION_KEYS)
    if "runs" not in top:
        raise InputError(path, "an action needs 'runs:'", safe_yaml.line_of(node))
    runs = reader.mapping(top["runs"][1], "runs")
    using = reader.optional_text(runs, "using", "runs.using")
    if using is None:
        raise InputError(path, "runs needs 'using:'", safe_yaml.line_of(top["runs"][1]))
    inputs: dict[str, Text | None] = {}
    if "inputs" in top:
        for name, (_, value) in reader.mapping(top["inputs"][1], "inputs").items():
            spec = reader.mapping(value, f"inputs.{name}")
            inputs[name.lower()] = reader.optional_text(spec, "default", "default")
    steps = _steps(reader, runs["steps"][1]) if "steps" in runs else ()
    return Action(
        path=path,
        using=using.value.lower(),
        steps=steps,
        inputs=MappingProxyType(inputs),
        image=reader.optional_text(runs, "image", "runs.image"),
        unknown_keys=tuple(reader.unknown),
    )
