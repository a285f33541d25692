"""Fail-closed wiring: does CI run a check, and can its failure fail the build?

A check that runs with ``continue-on-error: true``, behind ``|| true`` or
``set +e``, or with an exit-zero flag reports but never stops a release. The
answer feeds the coverage matrix: a control counts as enforced only when CI
runs it (or an equivalent tool) fail-closed. Installs that skip hash checking
are reported here too, because they undo the pinning layer in CI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.model import Confidence, Finding
from bastion._internal.safe_read import read_text
from bastion._internal.workflows.failopen import action_fail_open
from bastion._internal.workflows.flow import JobRun, Site
from bastion._internal.workflows.rules import finding

ALL_CONTROLS = "*"


@dataclass(frozen=True, slots=True)
class LineCommand:
    """A command head followed, later on the same line, by a tail (per head alternative).

    ``head[^\\n]*tail`` as one regex rescans the rest of the line from every head on it:
    40,000 characters of one repeated command took a second. Here each line is scanned
    once per alternative: when the tail does not follow the line's first head, it follows
    no later head on that line either.
    """

    pairs: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]

    def search(self, text: str) -> re.Match[str] | None:
        """The earliest head whose line continues with its tail, like ``Pattern.search``."""
        best: re.Match[str] | None = None
        for head, tail in self.pairs:
            position = 0
            while (found := head.search(text, position)) is not None:
                if best is not None and found.start() >= best.start():
                    break
                line_end = text.find("\n", found.end())
                end = len(text) if line_end == -1 else line_end
                if tail.search(text, found.end(), end):
                    best = found
                    break
                position = end + 1
                if position > len(text):
                    break
        return best


@dataclass(frozen=True, slots=True)
class Tool:
    """A security tool bastion recognises in CI, and the controls it stands for."""

    name: str
    command: re.Pattern[str] | LineCommand | None
    actions: frozenset[str]
    controls: tuple[str, ...]
    exit_zero: re.Pattern[str] | None = None


def _bastion(
    subcommand: str, controls: tuple[str, ...], actions: frozenset[str] = frozenset()
) -> Tool:
    """``bastion SUBCOMMAND`` (or ``python -m bastion SUBCOMMAND``) in a script."""
    command = re.compile(rf"\b(bastion|python3?\s+-m\s+bastion)\s+{subcommand}\b")
    return Tool(f"bastion {subcommand}", command, actions, controls)


_DASH_DASH_COMMAND = re.compile(r"\s--\s+\S")
_REQUIRE_HASHES = re.compile(r"--require-hashes")

TOOLS = (
    _bastion("check", (ALL_CONTROLS,), frozenset({"bastion-security/bastion"})),
    _bastion("audit", ("advisories",)),
    _bastion("workflows", ("workflows",)),
    Tool(
        "pip-audit",
        re.compile(r"\bpip-audit\b"),
        frozenset({"pypa/gh-action-pip-audit"}),
        ("advisories",),
    ),
    Tool("uv audit", re.compile(r"\buv\s+(pip\s+)?audit\b"), frozenset(), ("advisories",)),
    Tool(
        "osv-scanner",
        re.compile(r"\bosv-scanner\b"),
        frozenset({"google/osv-scanner-action"}),
        ("advisories",),
        re.compile(r"--exit-code[= ]0\b"),
    ),
    Tool("safety", re.compile(r"\bsafety\s+(check|scan)\b"), frozenset(), ("advisories",)),
    Tool(
        "zizmor",
        re.compile(r"\bzizmor\b"),
        frozenset({"zizmorcore/zizmor-action", "woodruffw/zizmor-action"}),
        ("workflows",),
        re.compile(r"--no-exit-codes\b"),
    ),
    Tool(
        "ruff",
        re.compile(r"\bruff\s+check\b"),
        frozenset({"astral-sh/ruff-action", "chartboost/ruff-action"}),
        ("ruff-security",),
        re.compile(r"--exit-zero\b"),
    ),
    Tool(
        "bandit",
        re.compile(r"\bbandit\b"),
        frozenset(),
        ("ruff-security",),
        re.compile(r"--exit-zero\b"),
    ),
    _bastion("sbom", ("sbom",)),
    Tool(  # a step run under the runtime watch: detects, does not prevent (see threats.py)
        "bastion watch",
        LineCommand(
            ((re.compile(r"\b(bastion|python3?\s+-m\s+bastion)\s+watch\b"), _DASH_DASH_COMMAND),)
        ),
        frozenset(),
        ("watch",),
    ),
    Tool(
        "hash-checked install",
        LineCommand(
            (
                (re.compile(r"\b(pip3?|python3?\s+-m\s+pip)\s+install\b"), _REQUIRE_HASHES),
                (re.compile(r"\buv\s+sync\b"), re.compile(r"--(locked|frozen)\b")),
                (re.compile(r"\buv\s+pip\s+(install|sync)\b"), _REQUIRE_HASHES),
            )
        ),
        frozenset(),
        ("pinning",),
    ),
)


def _heads() -> list[str]:
    """The pattern of every tool's command (each head of a ``LineCommand``)."""
    heads = []
    for tool in TOOLS:
        if isinstance(tool.command, re.Pattern):
            heads.append(tool.command.pattern)
        elif tool.command is not None:
            heads.extend(head.pattern for head, _ in tool.command.pairs)
    return heads


# A script none of these match runs no tool: one search instead of one per tool.
_ANY_TOOL = re.compile("|".join(f"(?:{head})" for head in _heads()))
_TOOL_ACTIONS = frozenset(slug for tool in TOOLS for slug in tool.actions)
_IGNORED_FAILURE = re.compile(r"\|\|\s*(true|:|exit\s+0|echo\b)")
_SET_PLUS_E = re.compile(r"^[ \t]*set[ \t]+\+e\b", re.M)  # one line: \s* was quadratic
_PIP_INSTALL = re.compile(r"\b(pip3?|python3?\s+-m\s+pip|uv\s+pip)\s+install\b[^\n]*")
_UV_SYNC = re.compile(r"\buv\s+sync\b[^\n]*")
_REQUIREMENT_FILE = re.compile(r"(?:-r|--requirement)[= ]\s*([^\s]+)")


@dataclass(frozen=True, slots=True)
class Invocation:
    """A recognised tool run in CI, and why its failure would not fail the build (if so)."""

    tool: Tool
    site: Site
    line: int
    fail_open: str | None


def invocations(run: JobRun) -> list[Invocation]:
    """Every recognised security tool the job runs."""
    found = []
    for site in run.sites:
        step = site.step
        uses = step.uses_ref
        slug = uses.slug if uses is not None else None
        run_text = step.run
        if run_text is not None and _ANY_TOOL.search(run_text.value) is None:
            run_text = None
        if run_text is None and slug not in _TOOL_ACTIONS:
            continue  # no tool here: the loop below would find none
        open_reason = _continue_on_error(run, site)
        for tool in TOOLS:
            if uses is not None and slug in tool.actions:
                reason = open_reason or action_fail_open(uses, step.with_)
                found.append(Invocation(tool, site, step.line, reason))
            if run_text is None or tool.command is None:
                continue
            match = tool.command.search(run_text.value)
            if match is None:
                continue
            line, _ = run_text.position(match.start())
            reason = open_reason or _script_fail_open(run_text.value, match.start(), tool)
            found.append(Invocation(tool, site, line, reason))
    return found


def _continue_on_error(run: JobRun, site: Site) -> str | None:
    for owner, text in (("step", site.step.continue_on_error), ("job", run.job.continue_on_error)):
        if text is not None and (text.true or "${{" in text.value):
            return f"{owner} has continue-on-error: {text.value.strip()}"
    return None


def _script_fail_open(script: str, offset: int, tool: Tool) -> str | None:
    line_start = script.rfind("\n", 0, offset) + 1
    line_end = script.find("\n", offset)
    command = script[line_start : line_end if line_end != -1 else len(script)]
    while command.rstrip().endswith("\\") and line_end != -1:  # a continued command
        next_end = script.find("\n", line_end + 1)
        command += script[line_end : next_end if next_end != -1 else len(script)]
        line_end = next_end
    ignored = _IGNORED_FAILURE.search(command)
    if ignored is not None:
        return f"'{ignored.group(0).strip()}' after the command"
    if tool.exit_zero is not None:
        flag = tool.exit_zero.search(command)
        if flag is not None:
            return f"{flag.group(0)} makes it exit 0"
    for set_e in _SET_PLUS_E.finditer(script, 0, offset):
        del set_e
        return "'set +e' earlier in the script"
    return None


def fail_open(items: list[Invocation]) -> list[Finding]:
    """A finding per check whose failure cannot fail the build."""
    findings = []
    for item in items:
        if item.fail_open is None:
            continue
        findings.append(
            finding(
                "fail-open-check",
                item.site.display,
                item.line,
                f"{item.tool.name} runs in CI ({item.site.step.label}) but cannot fail the "
                f"build: {item.fail_open}",
            )
        )
    return findings


def enforcement(items: list[Invocation]) -> Mapping[str, bool]:
    """Control id -> True when CI runs it (or an equivalent) fail-closed, False when only open."""
    result: dict[str, bool] = {}
    for item in items:
        for control in item.tool.controls:
            result[control] = result.get(control, False) or item.fail_open is None
    return result


def unhashed_installs(run: JobRun, root: Path) -> list[Finding]:
    """``pip install`` without hash checking and ``uv sync`` that may re-resolve.

    ``root`` is the repository's resolved path (``audit_repository`` resolves it once).
    """
    findings = []
    for site in run.sites:
        script = site.step.run
        if script is None:
            continue
        for match in _PIP_INSTALL.finditer(script.value):
            command = match.group(0)
            if "--require-hashes" in command or _all_hashed(command, root):
                continue
            if _local_only(command):
                continue
            line, column = script.position(match.start())
            findings.append(
                finding(
                    "unhashed-install",
                    site.display,
                    line,
                    f"{site.step.label} installs without hash checking "
                    f"({command.strip()[:80]}): a replaced or newly published release "
                    "goes straight into the build",
                    column=column,
                    confidence=Confidence.MEDIUM,
                )
            )
            break
        for match in _UV_SYNC.finditer(script.value):
            command = match.group(0)
            if re.search(r"--(locked|frozen)\b", command):
                continue
            line, column = script.position(match.start())
            findings.append(
                finding(
                    "unhashed-install",
                    site.display,
                    line,
                    f"{site.step.label} runs uv sync without --locked or --frozen: uv may "
                    "re-resolve instead of installing the reviewed lock",
                    column=column,
                    confidence=Confidence.MEDIUM,
                )
            )
            break
    return findings


def _local_only(command: str) -> bool:
    """``pip install --no-deps .``: only the checked-out project, nothing from an index."""
    words = command.split()
    if "--no-deps" not in words:
        return False
    targets = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
    return bool(targets) and all(t.startswith((".", "/")) for t in targets)


def _all_hashed(command: str, root: Path) -> bool:
    """Every ``-r FILE`` of the command exists in the repository and carries hashes."""
    files = _REQUIREMENT_FILE.findall(command)
    if not files:
        return False
    for name in files:
        path = (root / name.strip("'\"")).resolve()
        try:
            path.relative_to(root)  # resolved by the caller, once per audit
            text = read_text(path)
        except (ValueError, InputError):
            return False
        if "--hash=" not in text:
            return False
    return True
