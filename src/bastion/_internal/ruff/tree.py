"""The Python files of a project that Ruff may read: regular files only, bounded.

Symbolic links are never followed (a ``.py`` link to ``/dev/zero`` drove Ruff
to gigabytes). A link to a regular file inside the tree is harmless (its
target is listed in its own right) and is only counted; anything else named
like Python source (a FIFO, a device, a link out of the tree or to a special
file, a file over the size bound, a folder that cannot be listed) is refused:
Ruff never sees it, and the control reports it as not checked.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")
MAX_FILES = 100_000
MAX_DEPTH = 64
MAX_SOURCE_BYTES = 8 * 1024 * 1024
# Ruff's own default exclusions: tools' and environments' folders, never the project's code.
SKIPPED_FOLDERS = frozenset(
    {
        ".bzr",
        ".direnv",
        ".eggs",
        ".git",
        ".git-rewrite",
        ".hg",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".nox",
        ".pants.d",
        ".pyenv",
        ".pytest_cache",
        ".pytype",
        ".ruff_cache",
        ".svn",
        ".tox",
        ".venv",
        ".vscode",
        "__pypackages__",
        "_build",
        "buck-out",
        "dist",
        "node_modules",
        "site-packages",
        "venv",
    }
)


@dataclass(frozen=True, slots=True)
class Refused:
    """A path Ruff was not allowed to read, and why."""

    path: Path
    reason: str


@dataclass(frozen=True, slots=True)
class SourceTree:
    """The files to hand to Ruff, the paths refused, and the harmless links skipped."""

    files: tuple[Path, ...]
    refused: tuple[Refused, ...]
    links_skipped: int


def python_files(root: Path) -> SourceTree:
    """Every regular Python file under ``root`` (sorted), without following any link."""
    root = root.resolve()
    files: list[Path] = []
    refused: list[Refused] = []
    links = 0
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            refused.append(Refused(folder, f"cannot list the folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                refused.append(Refused(path, f"cannot stat: {exc.strerror or exc}"))
                continue
            if stat.S_ISDIR(info.st_mode):
                if entry.name in SKIPPED_FOLDERS:
                    continue
                if depth + 1 > MAX_DEPTH:
                    refused.append(Refused(path, f"nested deeper than {MAX_DEPTH} folders"))
                    continue
                stack.append((path, depth + 1))
                continue
            if not entry.name.endswith(PYTHON_SUFFIXES):
                continue
            if stat.S_ISLNK(info.st_mode):
                problem = _link_problem(root, path)
                if problem is None:
                    links += 1
                else:
                    refused.append(Refused(path, problem))
                continue
            if not stat.S_ISREG(info.st_mode):
                refused.append(Refused(path, "not a regular file (FIFO, socket or device)"))
            elif info.st_size > MAX_SOURCE_BYTES:
                limit = MAX_SOURCE_BYTES // (1024 * 1024)
                refused.append(Refused(path, f"larger than the {limit} MiB source limit"))
            elif len(files) >= MAX_FILES:
                refused.append(Refused(path, f"more than {MAX_FILES} Python files"))
                return SourceTree(tuple(sorted(files)), tuple(refused), links)
            else:
                files.append(path)
    return SourceTree(tuple(sorted(files)), tuple(refused), links)


def _link_problem(root: Path, link: Path) -> str | None:
    """``None`` for a link to a regular file inside ``root`` (or a dangling one), else why not."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return None  # dangling: there is no code behind it
    except (OSError, RuntimeError) as exc:  # loops, permissions
        return f"symbolic link that cannot be resolved: {exc}"
    if not target.is_relative_to(root):
        return "symbolic link out of the project"
    try:
        mode = target.stat().st_mode
    except OSError as exc:
        return f"symbolic link to a file that cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return "symbolic link to something that is not a regular file"
    return None
