"""The GitHub Actions model: workflows, jobs, steps and action definitions, with positions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

_SHA = re.compile(r"^[0-9a-f]{40}$")
_PART = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_REF = re.compile(r"^[A-Za-z0-9_./+-]{1,250}$")


def _no_texts() -> Mapping[str, Text]:
    return MappingProxyType({})


# Triggers whose runs get a write token and the repository's secrets while
# their input comes from outside (a fork's pull request, a comment, a fork's run).
PRIVILEGED_TRIGGERS = frozenset(
    {
        "pull_request_target",
        "workflow_run",
        "issue_comment",
        "issues",
        "discussion",
        "discussion_comment",
        "pull_request_review",
        "pull_request_review_comment",
    }
)
# Triggers a fork's pull request (or anybody's comment) can start.
PULL_REQUEST_TRIGGERS = frozenset(
    {
        "pull_request",
        "pull_request_target",
        "pull_request_review",
        "pull_request_review_comment",
        "issue_comment",
        "workflow_run",
    }
)


@dataclass(frozen=True, slots=True)
class Text:
    """A scalar as written, with where it starts (1-based line and column)."""

    value: str
    line: int
    column: int
    block: bool = False  # a ``|`` or ``>`` block: the text starts on the next line
    indent: int = 0  # the block's indentation (its text's column - 1)

    def position(self, offset: int) -> tuple[int, int]:
        """The line and column of the character at ``offset`` in ``value``."""
        before = self.value[:offset]
        newlines = before.count("\n")
        if self.block:
            column = len(before) - before.rfind("\n") - 1 + self.indent + 1
            return self.line + 1 + newlines, column
        if newlines:
            return self.line + newlines, len(before) - before.rfind("\n")
        return self.line, self.column + offset

    @property
    def true(self) -> bool:
        """The value is YAML ``true``."""
        return self.value.strip().lower() == "true"


@dataclass(frozen=True, slots=True)
class Uses:
    """A parsed ``uses:`` value."""

    raw: str
    kind: str  # "local", "docker" or "remote"
    owner: str = ""
    repo: str = ""
    subpath: str = ""  # inside the repository, "" for its root
    ref: str = ""

    @property
    def pinned(self) -> bool:
        """A remote ref that is a full commit SHA, or a docker image with a digest."""
        if self.kind == "docker":
            return "@sha256:" in self.raw
        return self.kind == "local" or is_commit_sha(self.ref)

    @property
    def slug(self) -> str:
        """``owner/repo`` (lower-case, as GitHub compares them)."""
        return f"{self.owner}/{self.repo}".lower()

    @property
    def is_workflow(self) -> bool:
        """A reusable workflow rather than an action."""
        return "/.github/workflows/" in f"/{self.subpath}" or self.raw.startswith(
            "./.github/workflows/"
        )


def is_commit_sha(ref: str) -> bool:
    """A full 40-hex commit SHA, the only ref that cannot move."""
    return _SHA.match(ref) is not None


@cache
def parse_uses(value: str) -> Uses | None:
    """``owner/repo[/path]@ref``, ``./local/path`` or ``docker://image``; ``None`` when invalid."""
    value = value.strip()
    if value.startswith("./"):
        return Uses(value, "local", subpath=value[2:].rstrip("/"))
    if value.startswith("docker://"):
        return Uses(value, "docker")
    target, at, ref = value.partition("@")
    parts = target.split("/")
    if not at or len(parts) < 2 or not _REF.match(ref):
        return None
    if not all(_PART.match(p) and p not in (".", "..") for p in parts):
        return None
    return Uses(value, "remote", parts[0], parts[1], "/".join(parts[2:]), ref)


@dataclass(frozen=True, slots=True)
class Permissions:
    """A ``permissions:`` block: ``write-all``, ``read-all``, or scopes (``{}``: none)."""

    line: int
    preset: str | None = None  # "write-all" / "read-all"
    scopes: Mapping[str, str] = field(default_factory=dict)

    def writes(self) -> tuple[str, ...]:
        """The scopes granted ``write`` (``*`` for ``write-all``)."""
        if self.preset == "write-all":
            return ("*",)
        return tuple(sorted(s for s, v in self.scopes.items() if v == "write"))

    def grants(self, scope: str, level: str = "write") -> bool:
        """The block grants ``scope`` at ``level``."""
        if self.preset == "write-all":
            return True
        if self.preset == "read-all":
            return level == "read"
        value = self.scopes.get(scope)
        return value == level or (level == "read" and value == "write")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a job or of a composite action."""

    file: Path
    index: int
    line: int
    name: str | None = None
    id: str | None = None
    uses: Text | None = None
    run: Text | None = None
    with_: Mapping[str, Text] = field(default_factory=_no_texts)
    env: Mapping[str, Text] = field(default_factory=_no_texts)
    if_: Text | None = None
    continue_on_error: Text | None = None
    shell: str | None = None
    working_directory: str | None = None

    @property
    def uses_ref(self) -> Uses | None:
        """The parsed ``uses:`` value (``None``: a ``run:`` step, or a value that is invalid)."""
        return parse_uses(self.uses.value) if self.uses is not None else None

    @property
    def label(self) -> str:
        """How a message names the step."""
        if self.name:
            return f"step {self.name!r}"
        if self.uses is not None:
            return f"step {self.uses.value!r}"
        return f"step {self.index + 1}"


@dataclass(frozen=True, slots=True)
class Job:
    """A job: steps, or a call of a reusable workflow (``uses``)."""

    file: Path
    id: str
    line: int
    name: str | None = None
    runs_on: tuple[Text, ...] = ()
    permissions: Permissions | None = None
    if_: Text | None = None
    env: Mapping[str, Text] = field(default_factory=_no_texts)
    steps: tuple[Step, ...] = ()
    uses: Text | None = None
    with_: Mapping[str, Text] = field(default_factory=_no_texts)
    secrets_inherit: Text | None = None
    continue_on_error: Text | None = None
    environment: str | None = None
    container: Text | None = None
    services: tuple[Text, ...] = ()
    outputs: Mapping[str, Text] = field(default_factory=_no_texts)  # job outputs (needs.*)


@dataclass(frozen=True, slots=True)
class Workflow:
    """A workflow file."""

    path: Path
    triggers: Mapping[str, object]  # event name -> its (plain) configuration
    triggers_line: int
    jobs: tuple[Job, ...]
    permissions: Permissions | None = None
    env: Mapping[str, Text] = field(default_factory=_no_texts)
    name: str | None = None
    unknown_keys: tuple[tuple[str, int], ...] = ()  # (key, line): GitHub would reject them

    @property
    def privileged_triggers(self) -> tuple[str, ...]:
        """The triggers that run with secrets on outside input."""
        return tuple(sorted(t for t in self.triggers if t in PRIVILEGED_TRIGGERS))


@dataclass(frozen=True, slots=True)
class Action:
    """An action definition (``action.yml``): composite, JavaScript or Docker."""

    path: Path
    using: str
    steps: tuple[Step, ...] = ()
    inputs: Mapping[str, Text | None] = field(default_factory=dict)  # name -> default
    image: Text | None = None
    unknown_keys: tuple[tuple[str, int], ...] = ()
