"""The project's own Ruff settings, validated and turned into explicit command-line options.

Ruff runs with ``--isolated``: it reads no configuration file of the project's
(``extend = "/dev/zero"`` or a ``pyproject.toml`` linked to a device cannot reach
it). bastion reads the root's ``.ruff.toml``, ``ruff.toml`` or
``pyproject.toml`` ``[tool.ruff]`` itself, as bounded regular files, keeps only
the settings that decide which files and codes are checked (``exclude``,
``extend-exclude``, ``per-file-ignores``, ``extend-per-file-ignores``, the S
codes of ``ignore``/``extend-ignore``, and the ``select`` lists, to know
whether the project runs ``S`` itself), and passes
them back as ``--config KEY=VALUE`` options. ``extend`` is followed only to a
regular file inside the project (at most ``MAX_EXTEND_DEPTH`` deep); anything
else is ignored and said so.

Where the project does not select ``S`` itself, the ignores the field
recommends for tests apply: ``S101`` (assert), ``S105``/``S106`` (hard-coded
passwords) and ``S311`` (non-cryptographic random) under test folders.
"""

from __future__ import annotations

import fnmatch
import json
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError
from bastion._internal.safe_read import parse_toml, read_text

CONFIG_NAMES = (".ruff.toml", "ruff.toml", "pyproject.toml")  # Ruff's order of precedence
MAX_CONFIG_BYTES = 1024 * 1024
MAX_EXTEND_DEPTH = 4
MAX_ENTRIES = 1000
MAX_PATTERN_LENGTH = 1024
TEST_CODES = ("S101", "S105", "S106", "S311")
TEST_PATTERNS = (
    "**/tests/**",
    "**/test/**",
    "**/testing/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
)
_CODE = re.compile(r"^(ALL|[A-Z]{1,8}[0-9]{0,6})$")
_BLANKET = ("ALL", "S")  # codes that switch off every S rule for the files they match


@dataclass(frozen=True, slots=True)
class RuffSettings:
    """What bastion passes to Ruff from the project's configuration, and what it noted."""

    source: Path | None = None
    exclude: tuple[str, ...] = ()  # replaces Ruff's default exclusions when set
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ignore: tuple[str, ...] = ()  # S codes the project ignores everywhere (``lint.ignore``)
    selects_s: bool = False  # the project runs the S rules itself
    notes: tuple[str, ...] = ()

    @property
    def test_ignores_applied(self) -> bool:
        """True when bastion adds the recommended test-folder ignores."""
        return not self.selects_s

    def options(self, extra_excludes: Iterable[str] = ()) -> list[str]:
        """``--config KEY=VALUE`` options for ``ruff check --isolated``."""
        ignores = list(self.per_file_ignores)
        if self.test_ignores_applied:
            ignores += [(pattern, TEST_CODES) for pattern in TEST_PATTERNS]
        merged: dict[str, list[str]] = {}
        for pattern, codes in ignores:
            known = merged.setdefault(pattern, [])
            known += [c for c in codes if c not in known]
        options: list[str] = []
        if self.exclude:
            options += ["--config", f"exclude = {_toml_list(self.exclude)}"]
        extend = [*self.extend_exclude, *extra_excludes]
        if extend:
            options += ["--config", f"extend-exclude = {_toml_list(extend)}"]
        if merged:
            table = ", ".join(f"{_toml_string(p)} = {_toml_list(c)}" for p, c in merged.items())
            options += ["--config", f"lint.per-file-ignores = {{{table}}}"]
        if self.ignore:  # after the command line's --select S, as the project's own run
            options += ["--ignore", ",".join(self.ignore)]
        return options

    def silenced(self, root: Path, path: Path) -> bool:
        """True when the project's ignores switch off every S rule for ``path``."""
        if any(code in _BLANKET for code in self.ignore):
            return True
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        candidates = (relative, path.name, path.as_posix())
        return any(
            any(code in _BLANKET for code in codes)
            and any(fnmatch.fnmatchcase(c, pattern) for c in candidates)
            for pattern, codes in self.per_file_ignores
        )


def read_settings(root: Path) -> RuffSettings:
    """The settings of the root's Ruff configuration; ``InputError`` when it is unusable."""
    for name in CONFIG_NAMES:
        path = root / name
        if not (path.exists() or path.is_symlink()):
            continue
        table = _ruff_table(root, path)
        if table is None:  # a pyproject.toml without [tool.ruff]
            continue
        notes: list[str] = []
        merged = _with_extends(root, path, table, notes, set())
        return _settings(path, merged, notes)
    return RuffSettings()


def _ruff_table(root: Path, path: Path) -> dict[str, Any] | None:
    data = parse_toml(path, _read_config(root, path))
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool")
    table = tool.get("ruff") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InputError(path, "[tool.ruff] should be a table")
    return table


def _read_config(root: Path, path: Path) -> str:
    """A configuration file's text: a regular file inside the project, not a link, bounded."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        raise InputError(path, "is a symbolic link: Ruff settings are read from regular files only")
    if not stat.S_ISREG(mode):
        raise InputError(path, "not a regular file")
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(path, "lies outside the project")
    return read_text(path, limit=MAX_CONFIG_BYTES)


def _with_extends(
    root: Path, path: Path, table: dict[str, Any], notes: list[str], seen: set[Path]
) -> list[tuple[Path, dict[str, Any]]]:
    """``table`` after the files it extends (base first), each with its own folder."""
    seen.add(path.resolve())
    layers: list[tuple[Path, dict[str, Any]]] = []
    target = table.get("extend")
    if target is not None:
        if not isinstance(target, str) or len(target) > MAX_PATTERN_LENGTH:
            raise InputError(path, "Ruff setting 'extend' should be a path")
        base = (path.parent / target).resolve() if not Path(target).is_absolute() else None
        usable = (
            base is not None
            and base.is_relative_to(root.resolve())
            and base not in seen
            and len(seen) < MAX_EXTEND_DEPTH
            and not (path.parent / target).is_symlink()
            and base.is_file()
        )
        if usable and base is not None:
            extended = _ruff_table(root, base)
            if extended is not None:
                layers = _with_extends(root, base, extended, notes, seen)
        else:
            notes.append(
                f"extend = {json.dumps(target)} in {path.name} not followed "
                "(only regular files inside the project, a few levels deep)"
            )
    layers.append((path.parent, table))
    return layers


def _settings(
    path: Path, layers: list[tuple[Path, dict[str, Any]]], notes: list[str]
) -> RuffSettings:
    exclude: tuple[str, ...] = ()
    extend_exclude: list[str] = []
    ignores: dict[str, tuple[str, ...]] = {}
    ignored: list[str] = []
    selects_s = False
    root = layers[-1][0]
    for folder, table in layers:
        lint = table.get("lint", {})
        if not isinstance(lint, dict):
            raise InputError(path, "Ruff setting 'lint' should be a table")
        if "exclude" in table:
            exclude = _patterns(path, "exclude", table["exclude"], folder, root)
        extend_exclude += _patterns(
            path, "extend-exclude", table.get("extend-exclude"), folder, root
        )
        for key in ("per-file-ignores", "extend-per-file-ignores"):
            for source in (table, lint):
                if key in source:
                    if key == "per-file-ignores":
                        ignores = {}
                    ignores.update(_ignores(path, key, source[key], folder, root))
        for source in (table, lint):
            for key in ("select", "extend-select"):
                codes = _codes(path, key, source.get(key))
                selects_s = selects_s or any(_is_bandit_code(c) for c in codes)
            for key in ("ignore", "extend-ignore"):  # only S codes matter to this control
                ignored += [c for c in _codes(path, key, source.get(key)) if _is_bandit_code(c)]
    return RuffSettings(
        source=path,
        exclude=exclude,
        extend_exclude=tuple(extend_exclude[:MAX_ENTRIES]),
        per_file_ignores=tuple(ignores.items()),
        ignore=tuple(dict.fromkeys(ignored)),
        selects_s=selects_s,
        notes=tuple(notes),
    )


def _patterns(path: Path, key: str, value: object, folder: Path, root: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ENTRIES:
        raise InputError(
            path, f"Ruff setting {key!r} should be a list of at most {MAX_ENTRIES} globs"
        )
    return tuple(p for item in value for p in _pattern(path, key, item, folder, root))


def _pattern(path: Path, key: str, value: object, folder: Path, root: Path) -> tuple[str, ...]:
    """The pattern as Ruff resolves it: relative to the file that set it."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_PATTERN_LENGTH
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
    ):
        raise InputError(path, f"Ruff setting {key!r} holds an invalid glob: {value!r:.80}")
    if folder == root or value.startswith(("/", "~")):
        return (value,)
    # A pattern from an extended file in another folder: anchored there, and by base name.
    anchored = (
        (folder / value).relative_to(root).as_posix()
        if (folder / value).is_relative_to(root)
        else value
    )
    return (anchored,) if "/" in value else (anchored, value)


def _ignores(
    path: Path, key: str, value: object, folder: Path, root: Path
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or len(value) > MAX_ENTRIES:
        raise InputError(path, f"Ruff setting {key!r} should be a table of at most {MAX_ENTRIES}")
    table: dict[str, tuple[str, ...]] = {}
    for pattern, codes in value.items():
        for resolved in _pattern(path, key, pattern, folder, root):
            table[resolved] = _codes(path, key, codes)
    return table


def _codes(path: Path, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ENTRIES:
        raise InputError(path, f"Ruff setting {key!r} should be a list of rule codes")
    for code in value:
        if not isinstance(code, str) or not _CODE.match(code):
            raise InputError(path, f"Ruff setting {key!r} holds an invalid rule code: {code!r:.40}")
    return tuple(value)


def _is_bandit_code(code: str) -> bool:
    """``ALL``, ``S``, ``S1``, ``S101``...: flake8-bandit; not SIM, SLF, SLOT (other S-prefixes)."""
    return code == "ALL" or (code.startswith("S") and code[1:].isdigit()) or code == "S"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # validated: no control characters


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"
