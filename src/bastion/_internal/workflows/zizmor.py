"""zizmor's ignores, honoured for the rules whose meaning bastion shares.

Teams that run zizmor have triaged its findings already: a
``# zizmor: ignore[rule]`` comment (on the finding's line, or alone on the
line above it) and the ``rules.<id>.ignore`` entries (``file.yml``,
``file.yml:LINE``, ``file.yml:LINE:COLUMN``) or ``rules.<id>.disable: true`` of
``zizmor.yml`` / ``.github/zizmor.yml``. bastion applies them to its findings
of the same rule id, and reports each as waived, never drops it. Rules that
only bastion has (``pwn-request``, ``fail-open-check``, ...) are not affected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bastion._internal import safe_yaml
from bastion._internal.errors import InputError
from bastion._internal.safe_read import read_text

# bastion rule id -> zizmor's (the same meaning); the documented table
SHARED_RULES: Mapping[str, str] = {
    "template-injection": "template-injection",
    "dangerous-triggers": "dangerous-triggers",
    "excessive-permissions": "excessive-permissions",
    "unpinned-uses": "unpinned-uses",
    "unpinned-images": "unpinned-images",
    "cache-poisoning": "cache-poisoning",
    "use-trusted-publishing": "use-trusted-publishing",
    "artipacked": "artipacked",
    "github-env": "github-env",
    "secrets-inherit": "secrets-inherit",
    "bot-conditions": "bot-conditions",
    "self-hosted-runner": "self-hosted-runner",
}
CONFIG_FILES = (".github/zizmor.yml", ".github/zizmor.yaml", "zizmor.yml", "zizmor.yaml")
MAX_CONFIG_BYTES = 256 * 1024
_COMMENT = re.compile(r"#\s*zizmor:\s*ignore\[([A-Za-z0-9_,\s-]+)\]")


def comments(text: str) -> Mapping[int, tuple[frozenset[str], int]]:
    """Line number -> (zizmor rule ids ignored there, the comment's line)."""
    found: dict[int, tuple[frozenset[str], int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "zizmor:" not in line:
            continue
        match = _COMMENT.search(line)
        if match is None:
            continue
        rules = frozenset(r.strip() for r in match.group(1).split(",") if r.strip())
        found[number] = (rules, number)
        if line.lstrip().startswith("#"):
            found[number + 1] = (rules, number)
    return found


@dataclass(frozen=True, slots=True)
class ConfigIgnore:
    """One ``rules.<id>.ignore`` entry (``line``/``column`` ``None``: the whole file)."""

    rule: str
    file: str  # a file name, as zizmor matches it
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """A zizmor configuration: where it is, its ignores, and the rules it disables."""

    path: Path
    ignores: tuple[ConfigIgnore, ...] = ()
    disabled: frozenset[str] = frozenset()

    def waives(self, rule: str, path: Path, line: int | None) -> str | None:
        """Why ``rule`` at ``path:line`` is ignored by this configuration (``None``: it is not)."""
        if rule in self.disabled:
            return f"{self.path.name} disables {rule}"
        for entry in self.ignores:
            if entry.rule != rule or entry.file != path.name:
                continue
            if entry.line is not None and entry.line != line:
                continue
            return f"{self.path.name} ignores {rule} in {entry.file}"
        return None


def load_config(root: Path) -> Config | None:
    """The repository's zizmor configuration, or ``None``; ``InputError`` when unreadable."""
    for name in CONFIG_FILES:
        path = root / name
        if not path.is_file():
            continue
        data = safe_yaml.load(path, read_text(path, limit=MAX_CONFIG_BYTES))
        return _config(path, data)
    return None


def _config(path: Path, data: object) -> Config:
    if data is None:
        return Config(path)
    if not isinstance(data, dict):
        raise InputError(path, "a zizmor configuration should be a mapping")
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise InputError(path, "rules: should be a mapping")
    ignores: list[ConfigIgnore] = []
    disabled: set[str] = set()
    for rule, settings in rules.items():
        if not isinstance(settings, dict):
            continue
        if settings.get("disable") is True:
            disabled.add(str(rule))
        entries = settings.get("ignore") or []
        if not isinstance(entries, list):
            raise InputError(path, f"rules.{rule}.ignore should be a list")
        for entry in entries:
            ignores.append(_entry(path, str(rule), str(entry)))
    return Config(path, tuple(ignores), frozenset(disabled))


def _entry(path: Path, rule: str, entry: str) -> ConfigIgnore:
    parts = entry.strip().split(":")
    numbers = [p for p in parts[1:]]
    if not parts[0] or len(numbers) > 2 or not all(n.isdigit() for n in numbers):
        raise InputError(path, f"rules.{rule}.ignore: {entry!r} should be FILE[:LINE[:COLUMN]]")
    line = int(numbers[0]) if numbers else None
    column = int(numbers[1]) if len(numbers) == 2 else None
    return ConfigIgnore(rule, parts[0], line, column)
