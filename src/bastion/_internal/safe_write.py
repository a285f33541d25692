"""Writing files so that a reader never sees half of one, and never outside the allowed tree.

bastion rewrites files inside repositories written by others (``workflows
--fix``, ``names approve``): a ``.github/workflows`` that is a symlink to
``/etc``, or a configured path of ``../../../tmp/x.sh``, must not make it
write anywhere else. ``write_within`` takes the folder the write must stay in
and walks from it to the target one component at a time, each opened
relative to the previous one with ``O_NOFOLLOW``: a symlink anywhere below
the root (a folder or the file itself), a ``..`` or a component that is not a
folder is refused with an ``InputError`` and nothing is written. Because
every step is an open file descriptor, a symlink swapped in after the check
is not followed either.

The new text goes to a temporary file beside the target, which then replaces
it in one rename; the target keeps its permission bits (a new file gets the
usual ``0666`` less the umask, not ``mkstemp``'s ``0600``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from bastion._internal.errors import InputError

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, a file the user named, atomically (see ``write_within``).

    The folder holding ``path`` is the allowed root, so the only check left is
    that ``path`` itself is not a symlink or a special file.
    """
    absolute = _absolute(path)
    write_within(absolute.parent, absolute, text)


def write_within(root: Path, path: Path, text: str) -> None:
    """Write ``text`` to ``path``, which must lie inside ``root`` and be reached without symlinks.

    ``root`` itself may be a symlink (the user named it); below it, every
    folder must be a real folder and the target a regular file or absent.
    A relative ``path`` is taken relative to the current directory, as the
    user would read it. Raises ``InputError`` and writes nothing otherwise.
    """
    parts = _parts_below(root, path)
    folder_fd = _open_folder(root, path)
    try:
        for part in parts[:-1]:
            inner = _descend(folder_fd, part, path)
            os.close(folder_fd)
            folder_fd = inner
        _replace(folder_fd, parts[-1], path, text)
    finally:
        os.close(folder_fd)


def _parts_below(root: Path, path: Path) -> list[str]:
    """The components of ``path`` below ``root``, refusing any way out of it."""
    base = _absolute(root)
    target = _absolute(path)
    # ".." is checked on the path as written: abspath folds "a/../.." away lexically,
    # which is wrong when "a" is a symlink.
    if ".." in path.parts:
        raise InputError(path, f"refusing to write outside {root} ('..' in the path)")
    try:
        relative = target.relative_to(base)
    except ValueError:
        raise InputError(path, f"refusing to write outside {root}") from None
    parts = [p for p in relative.parts if p not in ("", ".")]
    if not parts:
        raise InputError(path, "refusing to write: the path names the folder itself")
    return parts


def _absolute(path: Path) -> Path:
    """``path`` made absolute and folded lexically (no file system access)."""
    return Path(os.path.normpath(path.absolute()))


def _open_folder(root: Path, path: Path) -> int:
    try:
        return os.open(_absolute(root), os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None


def _descend(folder_fd: int, part: str, path: Path) -> int:
    """Open the sub-folder ``part`` of the open folder without following a symlink."""
    try:
        return os.open(part, _FOLDER_FLAGS, dir_fd=folder_fd)
    except OSError as exc:
        kind = _kind(folder_fd, part)
        reason = f"{part!r} is {kind}" if kind else (exc.strerror or str(exc))
        raise InputError(path, f"refusing to write: {reason}") from None


def _kind(folder_fd: int, name: str) -> str | None:
    """``a symlink`` or ``not a folder`` for an entry that cannot be descended into."""
    try:
        mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "a symlink"
    return None if stat.S_ISDIR(mode) else "not a folder"


def _replace(folder_fd: int, name: str, path: Path, text: str) -> None:
    """Write a temporary file in the open folder and rename it over ``name``."""
    mode = None
    try:
        existing = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None
    else:
        if stat.S_ISLNK(existing.st_mode):
            raise InputError(path, "refusing to write through a symlink")
        if not stat.S_ISREG(existing.st_mode):
            raise InputError(path, "refusing to write: not a regular file")
        mode = stat.S_IMODE(existing.st_mode)
    temp = f".{name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=folder_fd)
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except (OSError, UnicodeError) as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder_fd)
        reason = exc.strerror if isinstance(exc, OSError) else None
        raise InputError(path, f"cannot write: {reason or exc}") from None
