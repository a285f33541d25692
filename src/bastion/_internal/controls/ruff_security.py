"""The ``insecure-code`` control: Ruff's ``S`` (flake8-bandit) rules on the project's own code.

Ruff is an optional extra (``pip install 'bastion[ruff]'``). When it is not
installed the control says ``not-configured``, never ``pass``. Ruff runs
isolated from the project's configuration files, bounded (``bastion.ruff``):
the project's validated excludes and per-file ignores are passed as options,
``# noqa`` comments apply, and bastion forces the ``S`` selection. A file
that could not be checked, or no file checked at all, is ``error``, never
``pass``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion._internal.controls.base import Project, not_configured, result
from bastion._internal.errors import InputError
from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    Finding,
    Location,
    Severity,
    relative_to,
)
from bastion._internal.ruff.child import TIMEOUT_SECONDS, ChildError, Completed, run_bounded
from bastion._internal.ruff.settings import TEST_CODES, RuffSettings, read_settings
from bastion._internal.ruff.tree import Refused, python_files
from bastion._internal.rulesets.ruff_security import CONTROL

MAX_ARGV_BYTES = 256 * 1024
_FAILED_TO_LINT = re.compile(r"Failed to lint (?P<path>[^:]+): (?P<reason>.*)$")

# Severity by rule: code execution and injection high, weak crypto and secrets medium,
# the rest low. Codes not listed get the default for their family.
_HIGH = {
    "S102",
    "S103",
    "S301",
    "S302",
    "S307",
    "S501",
    "S502",
    "S503",
    "S504",
    "S506",
    "S601",
    "S602",
    "S604",
    "S605",
    "S608",
    "S609",
    "S610",
    "S611",
    "S701",
    "S702",
    "S704",
}
_MEDIUM = {
    "S104",
    "S105",
    "S106",
    "S107",
    "S108",
    "S113",
    "S202",
    "S303",
    "S304",
    "S305",
    "S306",
    "S308",
    "S310",
    "S312",
    "S313",
    "S314",
    "S315",
    "S316",
    "S317",
    "S318",
    "S319",
    "S320",
    "S321",
    "S323",
    "S324",
    "S505",
    "S507",
    "S508",
    "S509",
    "S612",
}
_LOW_DEFAULT = Severity.LOW


def find_ruff() -> Path | None:
    """The ruff binary: the one shipped by the ``ruff`` package, else one on PATH."""
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped,unused-ignore]

        return Path(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
        return Path(found) if found else None


def severity_of(code: str) -> Severity:
    """The severity bastion gives a Ruff ``S`` code."""
    if code in _HIGH:
        return Severity.HIGH
    if code in _MEDIUM:
        return Severity.MEDIUM
    return _LOW_DEFAULT


class RuffSecurityControl:
    """Runs ``ruff check --isolated --select S`` on the project's regular Python files."""

    id: str = CONTROL
    title: str = "Static analysis (Ruff S rules)"
    threats: tuple[str, ...] = ("insecure-code",)

    def __init__(
        self, locate: Callable[[], Path | None] = find_ruff, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self._locate = locate
        self._timeout = timeout

    def run(self, project: Project) -> ControlResult:
        """Run ruff on the project's files; ``error`` when any could not be checked."""
        ruff = self._locate()
        if ruff is None:
            return not_configured(self, "ruff is not installed (pip install 'bastion[ruff]')")
        root = project.root.resolve()
        fallback_note = ""
        try:
            settings = read_settings(root)
        except InputError as exc:
            # Ruff's defaults check a superset of what the project's settings would (no
            # excludes, no ignores), so falling back never hides a finding. uv's own
            # ruff.toml uses TOML 1.1 (newlines in inline tables), which Ruff and tomli
            # read and Python's tomllib (the fallback without tomli) does not.
            settings = RuffSettings()
            fallback_note = (
                f"the project's Ruff settings were not used ({exc.one_line()}): "
                "checked with Ruff's defaults"
            )
        tree = python_files(root)
        if not tree.files and not tree.refused:
            return not_configured(self, "no Python files in the project")
        command = [
            str(ruff),
            "check",
            "--isolated",
            "--select",
            "S",
            "--no-fix",
            "--exit-zero",
            "--no-cache",
            "--force-exclude",
            *settings.options(project.config.exclude),
        ]
        diagnostics: list[Any] = []
        failed: list[Refused] = []
        try:
            # Ruff's own walk (listing only, no file is opened) decides what is in scope:
            # .gitignore, excludes. Ruff then reads only the regular files bastion listed too.
            shown = self._ruff([*command, "--show-files", "."], root).stdout
            in_scope = {
                Path(line) for line in shown.decode("utf-8", "replace").splitlines() if line
            }
            listed = [path for path in tree.files if path in in_scope]
            refused = [r for r in tree.refused if r.path in in_scope or r.path.is_dir()]
            for chunk in _chunks(tuple(listed)):
                checked_run = self._ruff([*command, "--output-format", "json", *chunk], root)
                failed += _failed_to_lint(root, checked_run.stderr)
                diagnostics += _json_list(checked_run.stdout)
        except _RuffError as exc:
            return self._error(str(exc))
        silenced = [p for p in listed if settings.silenced(root, p)]
        failed_paths = {f.path for f in failed}
        checked = len(listed) - len(silenced) - len([p for p in listed if p in failed_paths])
        findings = [f for d in diagnostics if (f := _finding(root, d)) is not None]
        syntax = {
            d.get("filename")
            for d in diagnostics
            if isinstance(d, dict) and d.get("code") == "invalid-syntax"
        }
        notes = [f"{checked} file{'s' * (checked != 1)} checked"]
        files = len({f.location.path for f in findings if f.location})
        notes.append(
            f"{len(findings)} S-rule matches in {files} files" if findings else "no S-rule match"
        )
        if settings.test_ignores_applied:
            notes.append(
                f"{', '.join(TEST_CODES)} not reported under test folders "
                "(the project's Ruff configuration does not select S)"
            )
        if silenced:
            notes.append(
                f"{len(silenced)} files have every S rule switched off by per-file-ignores"
            )
        if syntax:
            notes.append(f"{len(syntax)} files with syntax errors checked only in part")
        if tree.links_skipped:
            notes.append(f"{tree.links_skipped} symbolic links not followed")
        notes += settings.notes
        if fallback_note:
            notes.append(fallback_note)
        problems = [*refused, *failed]
        if problems:
            shown_problems = "; ".join(
                f"{relative_to(p.path, root)}: {p.reason}" for p in problems[:3]
            )
            more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
            notes.append(f"{len(problems)} not checked: {shown_problems}{more}")
        detail = "; ".join(notes)
        if checked == 0 or problems:
            status = ControlStatus.ERROR
            if checked == 0:
                detail = "no Python file checked (fail closed): " + detail
            return ControlResult(self.id, status, self.threats, tuple(findings), detail)
        return result(self, findings, detail)

    def _ruff(self, argv: list[str], root: Path) -> Completed:
        try:
            completed = run_bounded(argv, root, timeout=self._timeout)
        except ChildError as exc:
            raise _RuffError(f"ruff could not finish: it {exc}") from None
        if completed.returncode != 0:
            message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            raise _RuffError(f"ruff failed: {message[-1] if message else completed.returncode}")
        return completed

    def _error(self, detail: str) -> ControlResult:
        return ControlResult(self.id, ControlStatus.ERROR, self.threats, (), detail)


class _RuffError(Exception):
    """ruff did not run to the end: the control is ``error``."""


def _failed_to_lint(root: Path, stderr: bytes) -> list[Refused]:
    """The files ruff says it could not read (``Failed to lint PATH: reason``)."""
    failed = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        match = _FAILED_TO_LINT.search(line)
        if match:
            failed.append(Refused((root / match["path"]).resolve(), match["reason"].strip()))
    return failed


def _json_list(stdout: bytes) -> list[Any]:
    try:
        diagnostics = json.loads(stdout or b"[]")
    except json.JSONDecodeError:
        raise _RuffError("ruff printed output that is not JSON") from None
    if not isinstance(diagnostics, list):
        raise _RuffError("ruff printed an unexpected JSON document")
    return diagnostics


def _chunks(files: tuple[Path, ...]) -> list[list[str]]:
    """The file arguments split so that no command line gets near the system's limit."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path in files:
        text = str(path)
        if current and size + len(text) + 1 > MAX_ARGV_BYTES:
            chunks.append(current)
            current, size = [], 0
        current.append(text)
        size += len(text) + 1
    if current:
        chunks.append(current)
    return chunks


def _finding(root: Path, diagnostic: Any) -> Finding | None:
    if not isinstance(diagnostic, dict):
        return None
    code = diagnostic.get("code")
    if not isinstance(code, str) or not code.startswith("S"):
        return None
    filename = diagnostic.get("filename")
    location = diagnostic.get("location") or {}
    path = Path(filename) if isinstance(filename, str) else None
    if path is not None and not path.is_absolute():
        path = root / path
    url = diagnostic.get("url")
    return Finding(
        rule_id=code,
        severity=severity_of(code),
        threat="insecure-code",
        control=CONTROL,
        message=str(diagnostic.get("message", code)),
        location=Location(path, location.get("row"), location.get("column")) if path else None,
        remediation=f"fix the code or add '# noqa: {code}' with a reason after review",
        references=(url,) if isinstance(url, str) else (),
    )
