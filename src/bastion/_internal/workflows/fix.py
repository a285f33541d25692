"""``bastion workflows --fix``: move injected contexts out of scripts and into ``env:``.

The mechanical case only: an expression that is exactly one attacker-controlled
context (``${{ github.event.issue.title }}``) in the ``run:`` of a step of the
repository's own workflows or actions. The expression becomes ``${NAME}`` and
the step gets ``env: NAME: ${{ context }}``; the shell then expands a variable,
which is data, instead of text pasted into the script. Nothing is changed when
the expression sits inside single quotes (the variable would not expand), when
the step's ``env:`` is not a block mapping; and a file whose fixed text would
not parse again, or would not lose exactly the moved expressions, is left as
it was.
Files are rewritten atomically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.safe_read import read_text
from bastion._internal.safe_write import write_within
from bastion._internal.workflows import expressions
from bastion._internal.workflows.audit import action_files, workflow_files
from bastion._internal.workflows.contexts import Control, classify
from bastion._internal.workflows.model import Step, Text
from bastion._internal.workflows.parse import MAX_WORKFLOW_BYTES, parse_action, parse_workflow

_NAME = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class Fixed:
    """One file the fixer rewrote, and how many expressions it moved."""

    path: Path
    moved: int


@dataclass(frozen=True, slots=True)
class _Edit:
    line: int  # 1-based line of the expression
    column: int  # 1-based column of its "$"
    source: str  # the whole "${{ ... }}"
    variable: str
    context: str


def fix_repository(root: Path) -> list[Fixed]:
    """Apply the mechanical fixes to every workflow and action file of the repository."""
    fixed = []
    for path in [*workflow_files(root), *action_files(root)]:
        moved = fix_file(path, root)
        if moved:
            fixed.append(Fixed(path, moved))
    return fixed


def fix_file(path: Path, root: Path | None = None) -> int:
    """Fix one file; the number of expressions moved into ``env:`` (0: unchanged).

    The rewrite stays inside ``root`` (default: the file's folder) and never goes
    through a symlink (``safe_write.write_within``): ``InputError`` otherwise.
    """
    try:
        text = read_text(path, limit=MAX_WORKFLOW_BYTES)
        steps = _steps(path, text)
    except InputError:
        return 0
    lines = text.splitlines(keepends=True)
    before = _editable(steps, lines)
    plans: list[tuple[Step, list[_Edit]]] = []
    for step in steps:
        edits = _edits(step, lines)
        if edits and _env_insertable(step, lines):
            plans.append((step, edits))
    if not plans:
        return 0
    for step, edits in sorted(plans, key=lambda p: -p[0].line):
        _apply(step, edits, lines)
    new_text = "".join(lines)
    moved = sum(len(edits) for _, edits in plans)
    if _remaining(path, new_text) != before - moved:
        return 0  # the fixed text does not parse, or did not lose exactly those
    write_within(root if root is not None else path.parent, path, new_text)
    return moved


def _steps(path: Path, text: str) -> list[Step]:
    if path.name in ("action.yml", "action.yaml"):
        return list(parse_action(path, text).steps)
    return [step for job in parse_workflow(path, text).jobs for step in job.steps]


def _edits(step: Step, lines: list[str]) -> list[_Edit]:
    run = step.run
    if run is None or "${{" not in run.value:
        return []
    edits = []
    taken = {name.upper() for name in step.env}
    try:
        parts = list(expressions.embedded(run.value))
    except expressions.ExpressionError:
        return []
    for part in parts:
        try:
            tree = expressions.parse(part.source)
        except expressions.ExpressionError:
            continue
        if not isinstance(tree, expressions.Context) or classify(tree.path) is not Control.ATTACKER:
            continue
        line, column = run.position(part.start)
        physical = lines[line - 1] if line - 1 < len(lines) else ""
        source = run.value[part.start : part.end]
        if physical[column - 1 : column - 1 + len(source)] != source:
            continue  # folded or escaped text: the position is not exact
        if physical[: column - 1].count("'") % 2 == 1:
            continue  # inside single quotes, a variable would not expand
        variable = _variable(tree.path, taken)
        taken.add(variable)
        edits.append(_Edit(line, column, source, variable, tree.path))
    return edits


def _variable(path: str, taken: set[str]) -> str:
    parts = [p for p in path.split(".") if p not in ("github", "event", "*")]
    base = _NAME.sub("_", "_".join(parts[-2:])).strip("_").upper() or "VALUE"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def _run_key(step: Step, lines: list[str]) -> tuple[int, int] | None:
    """The line (1-based) and indentation of the step's ``run:`` key."""
    run = step.run
    if run is None:
        return None
    line = lines[run.line - 1]
    match = re.match(r"^(\s*)(-\s+)?run:", line)
    if match is None:
        return None
    return run.line, len(match.group(1)) + len(match.group(2) or "")


def _env_insertable(step: Step, lines: list[str]) -> bool:
    if _run_key(step, lines) is None:
        return False
    return not step.env or _env_block(step, lines) is not None


def _env_block(step: Step, lines: list[str]) -> tuple[int, int] | None:
    """The line after which to add an entry, and the entries' indentation."""
    entries: list[Text] = list(step.env.values())
    if not entries:
        return None
    last = max(entries, key=lambda t: t.line)
    line = lines[last.line - 1]
    key = re.match(r"^(\s*)([A-Za-z_][A-Za-z0-9_-]*):", line)
    if key is None or key.group(2) not in step.env or last.block:
        return None  # flow style ({A: b}) or a block value: not edited by hand
    return last.line, len(key.group(1))


def _apply(step: Step, edits: list[_Edit], lines: list[str]) -> None:
    for edit in sorted(edits, key=lambda e: (-e.line, -e.column)):
        physical = lines[edit.line - 1]
        start = edit.column - 1
        lines[edit.line - 1] = (
            physical[:start] + "${" + edit.variable + "}" + physical[start + len(edit.source) :]
        )
    new_entries = [f"{edit.variable}: ${{{{ {edit.context} }}}}" for edit in edits]
    block = _env_block(step, lines)
    if block is not None:
        after, indent = block
        for offset, entry in enumerate(new_entries):
            lines.insert(after + offset, " " * indent + entry + "\n")
        return
    key = _run_key(step, lines)
    if key is None:  # pragma: no cover - _env_insertable checked it
        return
    run_line, indent = key
    physical = lines[run_line - 1]
    dash = re.match(r"^(\s*)-\s+run:", physical)
    inserted = [" " * indent + "env:\n"] + [" " * (indent + 2) + e + "\n" for e in new_entries]
    if dash is not None:  # "- run:" starts the step: env goes after the dash, run below it
        lines[run_line - 1] = " " * indent + physical[indent:]
        inserted[0] = dash.group(1) + "- env:\n"
    lines[run_line - 1 : run_line - 1] = inserted


def _editable(steps: list[Step], lines: list[str]) -> int:
    return sum(len(_edits(step, lines)) for step in steps)


def _remaining(path: Path, text: str) -> int:
    """How many fixable expressions the text still has (-1 when it does not parse)."""
    try:
        steps = _steps(path, text)
    except InputError:
        return -1
    return _editable(steps, text.splitlines(keepends=True))
