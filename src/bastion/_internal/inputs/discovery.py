"""Finding every file in a project that describes its dependencies."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.inputs.pdm_lock import parse_pdm_lock
from bastion._internal.inputs.pipfile_lock import parse_pipfile_lock
from bastion._internal.inputs.poetry_lock import parse_poetry_lock
from bastion._internal.inputs.pylock import parse_pylock
from bastion._internal.inputs.pyproject import parse_pyproject
from bastion._internal.inputs.requirements import parse_requirements
from bastion._internal.inputs.uv_lock import parse_uv_lock
from bastion._internal.model import DeclaredProject, DependencySource

Reader = Callable[[Path], DependencySource]

LOCK_READERS: dict[str, Reader] = {
    "uv.lock": parse_uv_lock,
    "poetry.lock": parse_poetry_lock,
    "Pipfile.lock": parse_pipfile_lock,
    "pdm.lock": parse_pdm_lock,
    "pylock.toml": parse_pylock,
}
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "site-packages",
        "build",
        "dist",
        ".eggs",
        "htmlcov",
    }
)
MAX_DEPTH = 12
MAX_ENTRIES = 200_000


@dataclass(frozen=True, slots=True)
class ProjectInputs:
    """Everything bastion read about what a project installs."""

    root: Path
    sources: tuple[DependencySource, ...]
    declared: tuple[DeclaredProject, ...]


def reader_for(path: Path) -> Reader | None:
    """The reader for a file, judged by its name; ``None`` when it is no dependency file."""
    name = path.name
    if name in LOCK_READERS:
        return LOCK_READERS[name]
    if name.startswith("pylock.") and name.endswith(".toml"):
        return parse_pylock
    if name.endswith(".txt") and (
        "requirements" in name or "constraints" in name or path.parent.name == "requirements"
    ):
        return parse_requirements
    return None


def read_dependency_file(path: Path) -> DependencySource:
    """Read one file named on the command line (a ``.txt`` is a requirements file)."""
    reader = reader_for(path) or (parse_requirements if path.suffix in (".txt", ".in") else None)
    if reader is None:
        raise InputError(path, "not a recognised dependency file (requirements, lock or pylock)")
    return reader(path)


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    """True when a POSIX relative path matches an exclude glob (``dir/**`` excludes below dir)."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(relative, pattern):
            return True
        if pattern.endswith("/**") and (
            relative == pattern[:-3] or relative.startswith(pattern[:-2])
        ):
            return True
    return False


SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "venv", ".tox", "__pycache__"})


def find_files(
    root: Path,
    wanted: Callable[[Path], bool],
    *,
    exclude: Sequence[str] = (),
    max_depth: int,
    limit: int | None = None,
    skip_hidden: bool = False,
) -> list[Path]:
    """Files below ``root`` that ``wanted`` accepts, sorted, in folders at most ``max_depth`` deep.

    Symlinked folders, ``exclude`` matches and ``SKIPPED_DIRS`` are not entered;
    with ``skip_hidden`` no dot-file or dot-folder is looked at.
    """
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if limit is not None and len(found) >= limit:
            return
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if (skip_hidden and entry.name.startswith(".")) or is_excluded(
                entry.relative_to(root).as_posix(), exclude
            ):
                continue
            if entry.is_file() and wanted(entry):
                found.append(entry)
            elif (
                depth < max_depth
                and entry.is_dir()
                and not entry.is_symlink()
                and entry.name not in SKIPPED_DIRS
            ):
                walk(entry, depth + 1)

    walk(root, 0)
    return found[:limit] if limit is not None else found


def discover(root: Path, exclude: Sequence[str] = ()) -> ProjectInputs:
    """Walk ``root`` (bounded) and read every dependency file and pyproject.toml in it."""
    root = root.resolve()
    if root.is_file():
        return ProjectInputs(root.parent, (read_dependency_file(root),), ())
    if not root.is_dir():
        raise InputError(root, "no such file or directory")
    found: list[Path] = []
    pyprojects: list[Path] = []
    seen = 0
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        rel_dir = here.relative_to(root).as_posix()
        depth = 0 if rel_dir == "." else rel_dir.count("/") + 1
        subdirs[:] = sorted(
            d
            for d in subdirs
            if d not in SKIPPED_DIRS
            and not d.endswith(".egg-info")
            and depth < MAX_DEPTH
            and not is_excluded(_join(rel_dir, d), exclude)
            and not (here / d / "pyvenv.cfg").exists()
        )
        seen += len(files) + len(subdirs)
        if seen > MAX_ENTRIES:
            raise InputError(root, f"more than {MAX_ENTRIES} files to look at; use 'exclude'")
        for name in sorted(files):
            path = here / name
            if is_excluded(_join(rel_dir, name), exclude) or path.is_symlink():
                continue
            if name == "pyproject.toml":
                pyprojects.append(path)
            elif reader_for(path) is not None:
                found.append(path)
    sources = [LOCK_READERS.get(p.name, reader_for(p) or parse_requirements)(p) for p in found]
    return ProjectInputs(
        root=root,
        sources=tuple(_drop_included(sources)),
        declared=tuple(parse_pyproject(p) for p in pyprojects),
    )


def _join(rel_dir: str, name: str) -> str:
    return name if rel_dir == "." else f"{rel_dir}/{name}"


def _drop_included(sources: list[DependencySource]) -> list[DependencySource]:
    """Requirements files that another one includes are reported as part of it, not alone."""
    included = {path for source in sources for path in source.includes}
    return [s for s in sources if s.path not in included]
