"""Finding every file in a project that describes its dependencies."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.model import DeclaredProject, DependencySource
from bastion._internal.safe_read import parse_toml, read_text

Reader = Callable[[Path], DependencySource]


# Each reader imports its parser when a file of its kind is read: a run pays only for the
# formats present (the requirements and pyproject parsers import packaging.requirements).
def parse_uv_lock(path: Path) -> DependencySource:
    """Read a uv.lock (``inputs.uv_lock``)."""
    from bastion._internal.inputs.uv_lock import parse_uv_lock as read

    return read(path)


def parse_poetry_lock(path: Path) -> DependencySource:
    """Read a poetry.lock (``inputs.poetry_lock``)."""
    from bastion._internal.inputs.poetry_lock import parse_poetry_lock as read

    return read(path)


def parse_pipfile_lock(path: Path) -> DependencySource:
    """Read a Pipfile.lock (``inputs.pipfile_lock``)."""
    from bastion._internal.inputs.pipfile_lock import parse_pipfile_lock as read

    return read(path)


def parse_pdm_lock(path: Path) -> DependencySource:
    """Read a pdm.lock (``inputs.pdm_lock``)."""
    from bastion._internal.inputs.pdm_lock import parse_pdm_lock as read

    return read(path)


def parse_pylock(path: Path) -> DependencySource:
    """Read a pylock.toml (``inputs.pylock``)."""
    from bastion._internal.inputs.pylock import parse_pylock as read

    return read(path)


def parse_requirements(path: Path, *, root: Path | None = None) -> DependencySource:
    """Read a requirements file and its includes (``inputs.requirements``)."""
    from bastion._internal.inputs.requirements import parse_requirements as read

    return read(path, root=root)


def parse_pyproject(path: Path) -> DeclaredProject:
    """Read a pyproject.toml's declared dependencies (``inputs.pyproject``)."""
    from bastion._internal.inputs.pyproject import parse_pyproject as read

    return read(path)


LOCK_READERS: dict[str, Reader] = {
    "uv.lock": parse_uv_lock,
    "poetry.lock": parse_poetry_lock,
    "Pipfile.lock": parse_pipfile_lock,
    "pdm.lock": parse_pdm_lock,
    "pylock.toml": parse_pylock,
}
# Folders that hold tools, environments or other ecosystems: never entered.
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
        ".eggs",
        "htmlcov",
    }
)
# Folders whose dependency files the project does not install (test fixtures, examples,
# documentation builds, build output): entered only to count what is skipped; read with
# --include. A uv workspace member below one of them is still read.
NOT_INSTALLED_DIRS = frozenset(
    {
        "tests",
        "test",
        "testing",
        "test-data",
        "test_data",
        "testdata",
        "fixtures",
        "examples",
        "example",
        "docs",
        "doc",
        "build",
        "dist",
    }
)
MAX_DEPTH = 12
MAX_ENTRIES = 200_000


@dataclass(frozen=True, slots=True)
class UnreadableInput:
    """A discovered file (or folder) that could not be read: the run is incomplete."""

    path: Path
    line: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ProjectInputs:
    """Everything bastion read about what a project installs."""

    root: Path
    sources: tuple[DependencySource, ...]
    declared: tuple[DeclaredProject, ...]
    skipped: tuple[Path, ...] = ()  # dependency files under NOT_INSTALLED_DIRS, not read
    unreadable: tuple[UnreadableInput, ...] = ()

    def skipped_summary(self) -> tuple[str, ...]:
        """``3 inputs under tests/ skipped: --include to read them``, one line per folder name."""
        counts: dict[str, int] = {}
        for path in self.skipped:
            parts = path.relative_to(self.root).parts if path.is_relative_to(self.root) else ()
            folder = next((p for p in parts[:-1] if p in NOT_INSTALLED_DIRS), "?")
            counts[folder] = counts.get(folder, 0) + 1
        return tuple(
            f"{n} input{'s' if n != 1 else ''} under {folder}/ skipped "
            f"(not installed by the project): --include '{folder}/**' to read them"
            for folder, n in sorted(counts.items())
        )


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


def discover(root: Path, exclude: Sequence[str] = (), include: Sequence[str] = ()) -> ProjectInputs:
    """Walk ``root`` (bounded) and read every dependency file and pyproject.toml the project uses.

    Files below a NOT_INSTALLED_DIRS folder (tests, fixtures, examples, docs,
    build output) are counted, not read, unless an ``include`` glob matches
    them or they belong to a uv workspace member. A discovered file that
    cannot be read is recorded in ``unreadable`` and the others are still
    read; a path the user named that is bad raises ``InputError``.
    """
    root = root.resolve()
    if root.is_file():
        return ProjectInputs(root.parent, (read_dependency_file(root),), ())
    if not root.is_dir():
        raise InputError(root, "no such file or directory")
    members = _workspace_members(root)
    found: list[Path] = []
    pyprojects: list[Path] = []
    skipped: list[Path] = []
    unreadable: list[UnreadableInput] = []
    seen = 0

    def folder_error(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        unreadable.append(UnreadableInput(where, None, f"folder not readable: {error.strerror}"))

    for directory, subdirs, files in os.walk(root, onerror=folder_error):
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
            and not (here / d).is_symlink()
            and not _is_virtualenv(here / d)
        )
        seen += len(files) + len(subdirs)
        if seen > MAX_ENTRIES:
            raise InputError(root, f"more than {MAX_ENTRIES} files to look at; use --exclude")
        not_installed = _not_installed(root, rel_dir, members)
        for name in sorted(files):
            relative = _join(rel_dir, name)
            path = here / name
            if is_excluded(relative, exclude) or path.is_symlink():
                continue
            wanted = name == "pyproject.toml" or reader_for(path) is not None
            if not wanted:
                continue
            if not_installed and not is_excluded(relative, include):
                skipped.append(path)
            elif name == "pyproject.toml":
                pyprojects.append(path)
            else:
                found.append(path)
    sources: list[DependencySource] = []
    for path in found:
        try:
            reader = LOCK_READERS.get(path.name, reader_for(path) or parse_requirements)
            if reader is parse_requirements:  # includes stay inside the folder being checked
                sources.append(parse_requirements(path, root=root))
            else:
                sources.append(reader(path))
        except InputError as exc:
            unreadable.append(UnreadableInput(exc.path, exc.line, exc.message))
    declared: list[DeclaredProject] = []
    for path in pyprojects:
        try:
            declared.append(parse_pyproject(path))
        except InputError as exc:
            unreadable.append(UnreadableInput(exc.path, exc.line, exc.message))
    return ProjectInputs(
        root=root,
        sources=tuple(_drop_included(sources)),
        declared=tuple(declared),
        skipped=tuple(skipped),
        unreadable=tuple(unreadable),
    )


def _workspace_members(root: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """uv's ``[tool.uv.workspace]`` members and exclude globs of the root pyproject.toml."""
    path = root / "pyproject.toml"
    if not path.is_file() or path.is_symlink():
        return (), ()
    try:
        data = parse_toml(path, read_text(path))
    except InputError:
        return (), ()  # parse_pyproject reports it
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    if not isinstance(workspace, dict):
        return (), ()

    def globs(key: str) -> tuple[str, ...]:
        value = workspace.get(key, [])
        if not isinstance(value, list):
            return ()
        return tuple(g.strip("/") for g in value if isinstance(g, str) and g.strip("/"))

    return globs("members"), globs("exclude")


def _not_installed(
    root: Path, rel_dir: str, members: tuple[tuple[str, ...], tuple[str, ...]]
) -> bool:
    """True when ``rel_dir`` lies in a NOT_INSTALLED_DIRS folder of the project or of a member.

    A uv workspace member (a folder matching a member glob, not excluded, with a
    pyproject.toml) is a project of its own, wherever it lies: only the folders
    below it are judged.
    """
    parts = () if rel_dir == "." else tuple(rel_dir.split("/"))
    start = 0
    include, exclude = members
    if include:
        for end in range(len(parts), 0, -1):
            candidate = "/".join(parts[:end])
            if (
                any(fnmatch.fnmatchcase(candidate, g) for g in include)
                and not any(fnmatch.fnmatchcase(candidate, g) for g in exclude)
                and (root / candidate / "pyproject.toml").is_file()
            ):
                start = end
                break
    return any(part in NOT_INSTALLED_DIRS for part in parts[start:])


def _is_virtualenv(folder: Path) -> bool:
    """A folder with a ``pyvenv.cfg``; an unlistable folder is not, and os.walk reports it."""
    try:
        return (folder / "pyvenv.cfg").exists()
    except OSError:
        return False


def _join(rel_dir: str, name: str) -> str:
    return name if rel_dir == "." else f"{rel_dir}/{name}"


def _drop_included(sources: list[DependencySource]) -> list[DependencySource]:
    """Requirements files that another one includes are reported as part of it, not alone."""
    included = {path for source in sources for path in source.includes}
    return [s for s in sources if s.path not in included]
