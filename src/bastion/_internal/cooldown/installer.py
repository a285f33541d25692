"""Installer settings that already refuse young releases at install time.

A project enforces a release-age cooldown itself when its installer is told
to ignore recent uploads:

- uv: ``exclude-newer`` in ``uv.toml`` or ``[tool.uv]`` of ``pyproject.toml``
  (``uv.toml`` wins, as in uv), a relative span (``"7 days"``, ``"P7D"``) or a
  fixed date, with ``exclude-newer-package`` exemptions (``false``);
- CI: ``--uploaded-prior-to`` (pip), ``--exclude-newer`` (uv) or the
  ``PIP_UPLOADED_PRIOR_TO`` / ``UV_EXCLUDE_NEWER`` variables in a workflow.

A setting counts when the age it enforces is at least ``cooldown-days``. The
files are read bounded, as text: nothing is run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical, parse_duration, parse_timestamp
from bastion._internal.model import Location
from bastion._internal.safe_read import key_line, parse_toml, read_text

MAX_WORKFLOWS = 200
MAX_WORKFLOW_BYTES = 4 * 1024 * 1024
_CI_SETTING = re.compile(
    r"(?P<key>--uploaded-prior-to|--exclude-newer|PIP_UPLOADED_PRIOR_TO|UV_EXCLUDE_NEWER)"
    r"(?:[ \t]*[=:][ \t]*|[ \t]+)[\"']?(?P<value>[^\s\"'#]{1,64})"
)


@dataclass(frozen=True, slots=True)
class InstallerCutoff:
    """One setting that makes an installer ignore recent uploads."""

    tool: str  # "uv" or "pip"
    setting: str  # as written, for the report
    location: Location
    span: timedelta | None = None  # a relative cutoff
    until: datetime | None = None  # a fixed cutoff
    exempt: tuple[str, ...] = ()  # packages the setting does not hold back

    def enforced_age(self, now: datetime) -> timedelta:
        """The youngest age a release can have when installed today under this setting."""
        if self.span is not None:
            return self.span
        return now - self.until if self.until is not None else timedelta(0)

    def describe(self, root: Path) -> str:
        """``uv exclude-newer = "7 days" (pyproject.toml:117)``."""
        return f"{self.tool} {self.setting} ({self.location.display(root)})"


def installer_cutoffs(root: Path) -> list[InstallerCutoff]:
    """Every installer cutoff the project's own configuration and CI workflows set."""
    found = []
    uv = _uv_setting(root)
    if uv is not None:
        found.append(uv)
    found += _workflow_settings(root)
    return found


def _cutoff(value: str) -> tuple[timedelta | None, datetime | None]:
    span = parse_duration(value)
    if span is not None:
        return span, None
    return None, parse_timestamp(value)


def _uv_setting(root: Path) -> InstallerCutoff | None:
    for name, table_path in (("uv.toml", ()), ("pyproject.toml", ("tool", "uv"))):
        path = root / name
        if not path.is_file() or path.is_symlink():
            continue
        try:
            text = read_text(path)
            data = parse_toml(path, text)
        except InputError:
            continue  # the inputs layer reports unreadable project files
        table: object = data
        for key in table_path:
            table = table.get(key) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            continue
        value = table.get("exclude-newer")
        if not isinstance(value, str):
            if name == "uv.toml":
                return None  # uv.toml wins even without the setting
            continue
        span, until = _cutoff(value)
        if span is None and until is None:
            continue
        overrides = table.get("exclude-newer-package")
        exempt = (
            tuple(sorted(canonical(k) for k, v in overrides.items() if v is False))
            if isinstance(overrides, dict)
            else ()
        )
        line = key_line(text.splitlines(), "exclude-newer")
        return InstallerCutoff(
            "uv",
            f'exclude-newer = "{value}"',
            Location(path, line),
            span,
            until,
            exempt,
        )
    return None


def _workflow_settings(root: Path) -> list[InstallerCutoff]:
    folder = root / ".github" / "workflows"
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = sorted(
        p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and not p.is_symlink()
    )[:MAX_WORKFLOWS]
    found = []
    for path in files:
        try:
            text = read_text(path, limit=MAX_WORKFLOW_BYTES)
        except InputError:
            continue  # the workflow audit reports unreadable workflows
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for match in _CI_SETTING.finditer(line):
                span, until = _cutoff(match["value"])
                if span is None and until is None:
                    continue
                tool = "pip" if "PRIOR" in match["key"].upper() else "uv"
                setting = f"{match['key']} {match['value']}"
                found.append(InstallerCutoff(tool, setting, Location(path, number), span, until))
    return found
