"""Configuration: ``[tool.bastion]`` in pyproject.toml, or a ``bastion.toml`` file.

Every key is validated; an unknown key or a wrong type is a ``ConfigError``
naming the file and line, because a typo in a security tool's configuration
must never silently turn a check off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion._internal.errors import ConfigError, InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.markers import Target
from bastion._internal.model import VEX_JUSTIFICATIONS, Location, Severity, Waiver
from bastion._internal.safe_read import excerpt, key_line, parse_toml, read_text

if TYPE_CHECKING:  # the workflow audit (and yaml) is imported only for workflow-ignore
    from bastion._internal.workflows.suppress import ConfiguredIgnore

CONFIG_FILE = "bastion.toml"
DEFAULT_FAIL_ON = Severity.MEDIUM
DEFAULT_ADVISORY_WARN_DAYS = 7
DEFAULT_ADVISORY_MAX_DAYS = 30
DEFAULT_COOLDOWN_DAYS = 7
DEFAULT_PUBLIC_INDEX = "https://pypi.org/simple"
KNOWN_KEYS = frozenset(
    {
        "fail-on",
        "disable",
        "exclude",
        "waiver",
        "waivers",
        "advisory-warn-days",
        "advisory-max-days",
        "target-python",
        "target-platform",
        "typosquat-corpus",
        "typosquat-exempt-rank",
        "typosquat-download-ratio",
        "approved-packages",
        "approved-packages-file",
        "cooldown-days",
        "public-index",
        "quarantine-indexes",
        "workflow-ignore",
    }
)
WAIVER_KEYS = frozenset({"id", "reason", "expires", "package", "versions", "justification"})


@dataclass(frozen=True, slots=True)
class Config:
    """The settings a run uses."""

    path: Path | None = None
    fail_on: Severity = DEFAULT_FAIL_ON
    disable: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = field(default=())
    advisory_warn_days: int = DEFAULT_ADVISORY_WARN_DAYS
    advisory_max_days: int = DEFAULT_ADVISORY_MAX_DAYS
    target: Target | None = None
    typosquat_corpus: Path | None = None
    typosquat_exempt_rank: int = 1000
    typosquat_download_ratio: int = 1000
    approved_packages: frozenset[str] | None = None  # None: no approved list configured
    approved_packages_file: Path | None = None
    cooldown_days: int = DEFAULT_COOLDOWN_DAYS
    public_index: str = DEFAULT_PUBLIC_INDEX
    quarantine_indexes: tuple[str, ...] = ()  # URLs of indexes that hold releases back
    workflow_ignores: tuple[ConfiguredIgnore, ...] = ()


# Blanks within one line only: "\s*" crossed newlines and made 400,000 blank lines quadratic.
_TOOL_BASTION = re.compile(r"^[ \t]*\[[ \t]*tool\.bastion[\].]", re.MULTILINE)


def find_config(root: Path) -> Path | None:
    """``bastion.toml`` in the project root, else a pyproject.toml with ``[tool.bastion]``."""
    folder = root if root.is_dir() else root.parent
    candidate = folder / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and _TOOL_BASTION.search(read_text(pyproject)):
        return pyproject
    return None


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """Read the configuration for a project (``explicit`` wins over discovery)."""
    path = explicit or find_config(root)
    if path is None:
        return Config()
    try:
        text = read_text(path)
        data = parse_toml(path, text)
    except ConfigError:
        raise
    except InputError as exc:
        raise ConfigError(exc.path, exc.message, exc.line) from None
    if path.name == "pyproject.toml" or (explicit and "tool" in data):
        tool = data.get("tool", {})
        table = tool.get("bastion", {}) if isinstance(tool, dict) else {}
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(path, "[tool.bastion] should be a table")
    return parse_config(path, table, text)


def parse_config(path: Path, table: dict[str, Any], text: str) -> Config:
    """Validate a configuration table read from ``path`` (``text`` gives the lines)."""
    lines = _Lines(text)
    for key in table:
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS - {"waivers"}))
            raise ConfigError(path, f"unknown key {key!r} (known: {known})", lines.key(key))
    fail_on = DEFAULT_FAIL_ON
    if "fail-on" in table:
        value = table["fail-on"]
        try:
            fail_on = Severity.parse(value if isinstance(value, str) else "")
        except ValueError as exc:
            raise ConfigError(path, f"fail-on: {exc}", lines.key("fail-on")) from None
    disable = _strings(path, lines, table, "disable")
    exclude = _strings(path, lines, table, "exclude")
    raw_waivers = table.get("waiver", table.get("waivers", []))
    if not isinstance(raw_waivers, list) or not all(isinstance(w, dict) for w in raw_waivers):
        raise ConfigError(path, "waiver should be an array of tables", lines.key("waiver"))
    waiver_lines = lines.tables("waiver") or lines.tables("waivers")
    waivers = tuple(
        _waiver(path, entry, waiver_lines[i] if i < len(waiver_lines) else None)
        for i, entry in enumerate(raw_waivers)
    )
    warn_days = _days(path, lines, table, "advisory-warn-days", DEFAULT_ADVISORY_WARN_DAYS)
    max_days = _days(path, lines, table, "advisory-max-days", DEFAULT_ADVISORY_MAX_DAYS)
    if warn_days > max_days:
        raise ConfigError(
            path,
            "advisory-warn-days should not exceed advisory-max-days",
            lines.key("advisory-warn-days"),
        )
    target = None
    python, platform = table.get("target-python"), table.get("target-platform")
    for key, value in (("target-python", python), ("target-platform", platform)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(path, f"{key} should be a string", lines.key(key))
    try:
        target = Target.parse(python, platform)
    except ValueError as exc:
        key = "target-python" if python is not None else "target-platform"
        raise ConfigError(path, str(exc), lines.key(key)) from None
    names = _names_settings(path, lines, table)
    public_index = table.get("public-index", DEFAULT_PUBLIC_INDEX)
    if not isinstance(public_index, str) or not public_index.startswith(("https://", "http://")):
        raise ConfigError(path, "public-index should be an http(s) URL", lines.key("public-index"))
    quarantine = _strings(path, lines, table, "quarantine-indexes")
    if not all(url.startswith(("https://", "http://")) for url in quarantine):
        where = lines.key("quarantine-indexes")
        raise ConfigError(path, "quarantine-indexes should be http(s) URLs", where)
    ignores = []
    for entry in _strings(path, lines, table, "workflow-ignore"):
        from bastion._internal.workflows.suppress import parse_ignore

        try:
            ignores.append(parse_ignore(entry))
        except ValueError as exc:
            where = lines.key("workflow-ignore")
            raise ConfigError(path, f"workflow-ignore: {exc}", where) from None
    return Config(
        **names,
        workflow_ignores=tuple(ignores),
        cooldown_days=_days(path, lines, table, "cooldown-days", DEFAULT_COOLDOWN_DAYS),
        public_index=public_index.rstrip("/"),
        quarantine_indexes=tuple(url.rstrip("/") for url in quarantine),
        path=path.resolve(),
        fail_on=fail_on,
        disable=frozenset(disable),
        exclude=tuple(exclude),
        waivers=waivers,
        advisory_warn_days=warn_days,
        advisory_max_days=max_days,
        target=target,
    )


def _names_settings(path: Path, lines: _Lines, table: dict[str, Any]) -> dict[str, Any]:
    """The typosquat and approved-list keys, validated; paths relative to the config file."""
    settings: dict[str, Any] = {}
    folder = path.resolve().parent
    for key, field_name in (
        ("typosquat-corpus", "typosquat_corpus"),
        ("approved-packages-file", "approved_packages_file"),
    ):
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(path, f"{key} should be a path", lines.key(key))
            settings[field_name] = _inside(path, folder, key, value, lines.key(key))
    for key, field_name in (
        ("typosquat-exempt-rank", "typosquat_exempt_rank"),
        ("typosquat-download-ratio", "typosquat_download_ratio"),
    ):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(path, f"{key} should be a whole number", lines.key(key))
            settings[field_name] = value
    if "approved-packages" in table:
        names = _strings(path, lines, table, "approved-packages")
        settings["approved_packages"] = frozenset(canonical(n) for n in names)
    return settings


def _inside(path: Path, folder: Path, key: str, value: str, line: int | None) -> Path:
    """A configured file path, refused when it (or the file a symlink points at) is outside."""
    named = folder / value
    where = named.parent.resolve() / named.name  # symlinked folders and ".." as the OS walks them
    if named.name in ("", "..") or not where.is_relative_to(folder):
        raise ConfigError(
            path,
            f"{key} {excerpt(value)} is outside {folder}: refusing to write outside the "
            "project folder or read from outside it",
            line,
        )
    if not where.resolve().is_relative_to(folder):
        raise ConfigError(
            path,
            f"{key} {excerpt(value)} is a symlink to a file outside {folder}: refusing to "
            "write through a symlink or read from outside the project",
            line,
        )
    return named


def _days(path: Path, lines: _Lines, table: dict[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise ConfigError(path, f"{key} should be a number of days (1 or more)", lines.key(key))
    return value


def _strings(path: Path, lines: _Lines, table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"{key} should be an array of strings", lines.key(key))
    return value


def _waiver(path: Path, entry: dict[str, Any], line: int | None) -> Waiver:
    for key in entry:
        if key not in WAIVER_KEYS:
            raise ConfigError(path, f"waiver: unknown key {key!r}", line)
    waiver_id = entry.get("id")
    if not isinstance(waiver_id, str) or not waiver_id.strip():
        raise ConfigError(path, "waiver needs an 'id' (a rule or advisory id)", line)
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(path, f"waiver {waiver_id}: needs a 'reason'", line)
    expires = _expiry(path, waiver_id, entry.get("expires"), line)
    package = entry.get("package")
    if package is not None and (not isinstance(package, str) or not package.strip()):
        raise ConfigError(path, f"waiver {waiver_id}: 'package' should be a name", line)
    versions = entry.get("versions")
    if versions is not None:
        if not isinstance(versions, str):
            raise ConfigError(path, f"waiver {waiver_id}: 'versions' should be a string", line)
        from packaging.specifiers import InvalidSpecifier, SpecifierSet  # only version ranges

        try:
            SpecifierSet(versions)
        except InvalidSpecifier:
            raise ConfigError(
                path, f"waiver {waiver_id}: invalid version range {versions!r}", line
            ) from None
        if package is None:
            raise ConfigError(path, f"waiver {waiver_id}: 'versions' needs a 'package'", line)
    justification = entry.get("justification")
    if justification is not None:
        written = justification
        justification = str(justification).strip().lower().replace("-", "_")
        if not isinstance(written, str) or justification not in VEX_JUSTIFICATIONS:
            known = ", ".join(sorted(VEX_JUSTIFICATIONS))
            raise ConfigError(
                path,
                f"waiver {waiver_id}: unknown justification {written!r} (known: {known})",
                line,
            )
    return Waiver(
        id=waiver_id.strip(),
        reason=reason.strip(),
        expires=expires,
        location=Location(path.resolve(), line),
        package=canonical(package) if package else None,
        versions=versions,
        justification=justification,
    )


def _expiry(path: Path, waiver_id: str, value: object, line: int | None) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
        except ValueError:
            pass
    raise ConfigError(path, f"waiver {waiver_id}: needs an 'expires' date (YYYY-MM-DD)", line)


class _Lines:
    """Line numbers of keys and ``[[tool.bastion.waiver]]`` headers, for error messages."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def key(self, name: str) -> int | None:
        return key_line(self._lines, name)

    def tables(self, name: str) -> list[int]:
        pattern = re.compile(r"^\s*\[\[\s*(tool\.bastion\.)?" + re.escape(name) + r"\s*\]\]")
        return [n for n, line in enumerate(self._lines, start=1) if pattern.match(line)]
