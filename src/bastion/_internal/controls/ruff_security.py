"""The ``insecure-code`` control: Ruff's ``S`` (flake8-bandit) rules on the project's own code.

Ruff is an optional extra (``pip install 'bastion[ruff]'``). When it is not
installed the control says ``not-configured``, never ``pass``. The project's
own Ruff configuration (per-file ignores, ``# noqa``) is respected; bastion
only forces the ``S`` selection.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion._internal.controls.base import Project, not_configured, result
from bastion._internal.model import ControlResult, ControlStatus, Finding, Location, Severity
from bastion._internal.rules import Rule, register

CONTROL = "ruff-security"
TIMEOUT_SECONDS = 300
MAX_OUTPUT_BYTES = 64 * 1024 * 1024

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

register(
    Rule(
        "S",
        "RuffSecurity",
        "A Ruff flake8-bandit (S) rule matched the project's own code.",
        "See the rule's page in the Ruff documentation for the risk and the fix. "
        "Suppress a reviewed false positive with `# noqa: Sxxx` and a reason.",
        Severity.MEDIUM,
        "insecure-code",
        CONTROL,
        "https://docs.astral.sh/ruff/rules/#flake8-bandit-s",
    )
)


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
    """Runs ``ruff check --select S`` and maps its results to findings."""

    id: str = CONTROL
    title: str = "Static analysis (Ruff S rules)"
    threats: tuple[str, ...] = ("insecure-code",)

    def __init__(self, locate: Callable[[], Path | None] = find_ruff) -> None:
        self._locate = locate

    def run(self, project: Project) -> ControlResult:
        """Run ruff on the project root; ``not-configured`` without ruff."""
        ruff = self._locate()
        if ruff is None:
            return not_configured(self, "ruff is not installed (pip install 'bastion[ruff]')")
        command = [
            str(ruff),
            "check",
            "--select",
            "S",
            "--output-format",
            "json",
            "--no-fix",
            "--exit-zero",
            "--no-cache",
            "--force-exclude",
        ]
        for pattern in project.config.exclude:
            command += ["--extend-exclude", pattern]
        command.append(".")
        try:
            completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
                command,
                cwd=project.root,
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return self._error(f"could not run ruff: {exc}")
        if completed.returncode != 0:
            message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            return self._error(f"ruff failed: {message[-1] if message else completed.returncode}")
        if len(completed.stdout) > MAX_OUTPUT_BYTES:
            return self._error("ruff output is too large")
        try:
            diagnostics = json.loads(completed.stdout or b"[]")
        except json.JSONDecodeError:
            return self._error("ruff printed output that is not JSON")
        if not isinstance(diagnostics, list):
            return self._error("ruff printed an unexpected JSON document")
        findings = [f for d in diagnostics if (f := _finding(project.root, d)) is not None]
        files = len({f.location.path for f in findings if f.location})
        detail = (
            f"{len(findings)} S-rule matches in {files} files" if findings else "no S-rule match"
        )
        return result(self, findings, detail)

    def _error(self, detail: str) -> ControlResult:
        return ControlResult(self.id, ControlStatus.ERROR, self.threats, (), detail)


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
