"""Where a ``uses:`` leads: local actions, an actions directory, or (``--online``) GitHub.

An actions directory holds ``OWNER/REPO/REF/...`` trees: the files of the
repository ``OWNER/REPO`` at ``REF``, of which bastion reads only
``action.yml``/``action.yaml`` and ``.github/workflows/*``. With ``--online``
the repository archive is downloaded once from GitHub (``codeload``), only
those files are taken out of it (in memory, bounded), and they are written
to the user cache in the same layout, so the cache is an actions directory.
A ref that is a full commit SHA is kept for good; a branch or tag for a day.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

from bastion._internal.errors import DownloadError, InputError
from bastion._internal.workflows.model import Action, Uses, Workflow, is_commit_sha
from bastion._internal.workflows.parse import parse_action, parse_workflow

if TYPE_CHECKING:
    import tarfile

CODELOAD = "https://codeload.github.com"
CODELOAD_ENV = "BASTION_GITHUB_ARCHIVE_URL"  # tests point it at a loopback server
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 200_000
MAX_KEPT_FILE = 4 * 1024 * 1024
MUTABLE_TTL_SECONDS = 24 * 3600
_T = TypeVar("_T")


class Resolver:
    """Finds and parses what ``uses:`` values point to; remembers every answer."""

    def __init__(
        self,
        repository_root: Path,
        actions_dirs: tuple[Path, ...] = (),
        cache_dir: Path | None = None,
        online: bool = False,
    ) -> None:
        self.root = repository_root
        self.actions_dirs = actions_dirs
        self.cache_dir = cache_dir / "actions" if cache_dir is not None else None
        self.online = online and self.cache_dir is not None
        self._actions: dict[str, Action | None] = {}
        self._workflows: dict[str, Workflow | None] = {}
        self.errors: list[InputError] = []
        self.download_errors: list[str] = []

    def display(self, uses: Uses, path: Path) -> Path:
        """A path to show for a file of a remote action: ``owner/repo@ref/...``."""
        if uses.kind == "local":
            return path
        for base in (*self.actions_dirs, self.cache_dir):
            if base is None:
                continue
            tree = base / uses.owner / uses.repo / uses.ref
            try:
                inside = path.relative_to(tree).as_posix()
            except ValueError:
                continue
            return Path(f"{uses.owner}/{uses.repo}@{uses.ref}/{inside}")
        return path

    def resolved_count(self) -> int:
        """How many distinct action and workflow files were read."""
        paths = {a.path for a in self._actions.values() if a is not None}
        paths |= {w.path for w in self._workflows.values() if w is not None}
        return len(paths)

    def action(self, uses: Uses) -> Action | None:
        """The action definition, or ``None`` when it cannot be found (or not read)."""
        if uses.raw not in self._actions:
            self._actions[uses.raw] = self._load(uses, _action_file, parse_action)
        return self._actions[uses.raw]

    def workflow(self, uses: Uses) -> Workflow | None:
        """The reusable workflow, or ``None`` when it cannot be found (or not read)."""
        if uses.raw not in self._workflows:
            self._workflows[uses.raw] = self._load(uses, _workflow_file, parse_workflow)
        return self._workflows[uses.raw]

    def _load(
        self,
        uses: Uses,
        locate: Callable[[Path, str], Path | None],
        parse: Callable[[Path, str | None], _T],
    ) -> _T | None:
        path = self._locate(uses, locate)
        if path is None:
            return None
        try:
            return parse(path, None)
        except InputError as exc:
            self.errors.append(exc)
            return None

    def _locate(self, uses: Uses, locate: Callable[[Path, str], Path | None]) -> Path | None:
        if uses.kind == "local":
            return locate(self.root, uses.subpath)
        if uses.kind != "remote":
            return None
        for base in self.actions_dirs:
            found = locate(base / uses.owner / uses.repo / uses.ref, uses.subpath)
            if found is not None:
                return found
        if self.cache_dir is None:
            return None
        tree = self.cache_dir / uses.owner.lower() / uses.repo.lower() / uses.ref
        if self.online and not _fresh(tree, uses.ref):
            try:
                _download(uses, tree)
            except DownloadError as exc:
                self.download_errors.append(str(exc))
                return None
        if tree.is_dir():
            return locate(tree, uses.subpath)
        return None


def _inside(tree: Path, subpath: str) -> Path | None:
    candidate = (tree / subpath) if subpath else tree
    try:
        candidate.resolve().relative_to(tree.resolve())
    except ValueError:
        return None  # a path that climbs out of the tree
    return candidate


def _action_file(tree: Path, subpath: str) -> Path | None:
    folder = _inside(tree, subpath)
    if folder is None:
        return None
    for name in ("action.yml", "action.yaml"):
        if (folder / name).is_file():
            return folder / name
    return None


def _workflow_file(tree: Path, subpath: str) -> Path | None:
    path = _inside(tree, subpath)
    return path if path is not None and path.is_file() else None


def _fresh(tree: Path, ref: str) -> bool:
    stamp = tree / ".bastion-fetched"
    if not stamp.is_file():
        return False
    return is_commit_sha(ref) or time.time() - stamp.stat().st_mtime < MUTABLE_TTL_SECONDS


def _wanted(name: PurePosixPath) -> bool:
    if name.name in ("action.yml", "action.yaml"):
        return True
    return name.parent.as_posix().endswith(".github/workflows") and name.suffix in (".yml", ".yaml")


def _download(uses: Uses, tree: Path) -> None:
    import shutil  # only --online downloads: the offline audit imports none of these
    import tempfile

    from bastion._internal.index_client import check_url, http_get

    base = check_url(os.environ.get(CODELOAD_ENV, CODELOAD))
    url = f"{base}/{uses.owner}/{uses.repo}/tar.gz/{uses.ref}"
    status, _, body = http_get(url, "application/gzip", MAX_ARCHIVE_BYTES)
    if status == 404:
        raise DownloadError(f"{uses.owner}/{uses.repo}@{uses.ref}: not found on GitHub")
    files = _extract(url, body)
    tree.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=tree.parent))
    try:
        for relative, data in files.items():
            target = staging.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / ".bastion-fetched").write_text(url + "\n", encoding="utf-8")
        if tree.exists():
            shutil.rmtree(tree)
        staging.rename(tree)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _extract(url: str, body: bytes) -> dict[PurePosixPath, bytes]:
    """The wanted files of a ``.tar.gz`` (leading folder removed), within the bounds."""
    import io
    import tarfile
    import zlib

    try:
        unpacked = _gunzip(body)
    except zlib.error as exc:
        raise DownloadError(f"{url}: not a .tar.gz archive ({exc})") from None
    files: dict[PurePosixPath, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(unpacked), mode="r:") as archive:
            _take(url, archive, files)
    except (tarfile.TarError, EOFError) as exc:
        raise DownloadError(f"{url}: not a .tar.gz archive ({exc})") from None
    return files


def _take(url: str, archive: tarfile.TarFile, files: dict[PurePosixPath, bytes]) -> None:
    """Copy the wanted members of ``archive`` into ``files`` (nothing is written to disk)."""
    for count, member in enumerate(archive):
        if count >= MAX_MEMBERS:
            raise DownloadError(f"{url}: more than {MAX_MEMBERS} entries")
        name = PurePosixPath(member.name)
        parts = name.parts[1:]  # GitHub puts everything under REPO-REF/
        if not parts or name.is_absolute() or ".." in parts or not member.isfile():
            continue
        relative = PurePosixPath(*parts)
        if not _wanted(relative) or member.size > MAX_KEPT_FILE:
            continue
        handle = archive.extractfile(member)
        if handle is not None:
            files[relative] = handle.read(MAX_KEPT_FILE + 1)[:MAX_KEPT_FILE]


def _gunzip(body: bytes) -> bytes:
    import zlib

    decompressor = zlib.decompressobj(wbits=31)
    data = decompressor.decompress(body, MAX_UNPACKED_BYTES + 1)
    if len(data) > MAX_UNPACKED_BYTES or decompressor.unconsumed_tail:
        raise DownloadError(f"archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB")
    return data
