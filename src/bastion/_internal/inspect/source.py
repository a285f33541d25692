"""An artifact against its source: the git tree at the release tag, read with plumbing only.

The repository may be hostile: git runs through the hardened helper of
``bastion._internal.git`` (no hooks, pager, fsmonitor or system config, bounded in
time). A URL is cloned bare into a temporary folder (nothing is checked
out); a local path is read in place. Files only in the artifact, and files
whose content differs, are reported with a short diff.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from bastion._internal.errors import IncompleteError, UsageError
from bastion._internal.git import MAX_BLOB_BYTES, _git
from bastion._internal.inspect.archive import read_members
from bastion._internal.inspect.compare import artifact_paths, differences, is_code
from bastion._internal.inspect.hits import Hit, evidence
from bastion._internal.inspect.limits import Limits
from bastion._internal.inspect.scan import ArtifactReport
from bastion._internal.model import Severity

_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_URL = re.compile(r"^(?:https|file|ssh)://|^git@")
MAX_DIFF_LINES = 6
MAX_DIFFS = 20


@dataclass(frozen=True, slots=True)
class SourceTree:
    """The files of one commit: path -> blob id."""

    repository: str
    ref: str
    commit: str
    files: dict[str, str]


def split_source(text: str) -> tuple[str, str | None]:
    """``PATH_OR_URL[@REF]`` -> (location, ref); an ``@`` in ``git@host`` is not a ref."""
    head, sep, tail = text.rpartition("@")
    if sep and head and "/" not in tail and ":" not in tail and head != "git":
        return head, tail
    return text, None


def tag_candidates(name: str, version: str) -> list[str]:
    """The tags releases are commonly made under."""
    names = dict.fromkeys(
        [name, canonicalize_name(name), canonicalize_name(name).replace("-", "_")]
    )
    found = [f"v{version}", version]
    for each in names:
        found += [
            f"{each}-{version}",
            f"{each}-v{version}",
            f"{each}_{version}",
            f"{each}/v{version}",
        ]
    found += [f"release-{version}", f"release/{version}", f"release/v{version}"]
    return list(dict.fromkeys(found))


@contextmanager
def open_repository(location: str) -> Iterator[Path]:
    """A git directory for a local path, or a bare clone of a URL in a temporary folder."""
    if not _URL.match(location):
        path = Path(location)
        if not path.exists():
            raise UsageError(f"--source {location}: no such folder")
        if _git(path, "rev-parse", "--git-dir") is None:
            raise UsageError(f"--source {location}: not a git repository")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bastion-source-") as temp:
        target = Path(temp) / "repo.git"
        done = _git(
            Path(temp), "clone", "--bare", "--quiet", "--no-hardlinks", "--", location, str(target)
        )
        if done is None:
            raise IncompleteError(f"--source {location}: git clone failed")
        yield target


def resolve_tree(
    repository: Path, location: str, name: str, version: str, ref: str | None
) -> SourceTree:
    """The tree of ``ref``, else of the first tag pattern that exists (``IncompleteError``)."""
    tried = [ref] if ref else tag_candidates(name, version)
    for candidate in tried:
        if candidate.startswith("-"):
            continue
        out = _git(
            repository,
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{candidate}^{{commit}}",
        )
        commit = out.decode("ascii", "replace").strip() if out else ""
        if _HEX.match(commit):
            return SourceTree(location, candidate, commit, _list_tree(repository, commit))
    shown = ", ".join(tried[:6]) + (", ..." if len(tried) > 6 else "")
    raise IncompleteError(
        f"--source {location}: no ref for {name} {version} (tried {shown}); use --ref"
    )


def _list_tree(repository: Path, commit: str) -> dict[str, str]:
    out = _git(repository, "ls-tree", "-r", "-z", "--full-tree", commit)
    if out is None:
        raise IncompleteError(f"cannot list the tree of {commit}")
    files = {}
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob":
            files[path.decode("utf-8", "surrogateescape")] = fields[2].decode("ascii")
    return files


def compare_with_source(
    report: ArtifactReport, tree: SourceTree, repository: Path, limits: Limits
) -> list[Hit]:
    """Files only in the artifact, and files that differ from the tree (with a short diff)."""
    paths = artifact_paths(report.members, report.kind)
    found = differences(paths, tree.files, lambda m: m.git_id, pure=report.pure)
    wanted = {d.member for d in found if d.other and is_code(d.path)}
    contents = read_members(report.path, set(list(wanted)[:MAX_DIFFS]), limits) if wanted else {}
    hits = []
    where = f"{tree.ref} ({tree.commit[:12]})"
    for difference in found:
        severity = Severity.HIGH if is_code(difference.path) else Severity.LOW
        if not difference.other:
            text = f"not in the source tree at {where}"
            hits.append(Hit("inspect-source-added", severity, difference.member, None, text))
            continue
        diff = _short_diff(
            repository, tree.files[difference.other], contents.get(difference.member)
        )
        text = f"differs from {difference.other} at {where}" + (f": {diff}" if diff else "")
        hits.append(
            Hit("inspect-source-changed", severity, difference.member, None, evidence(text, 400))
        )
    return hits


def _short_diff(repository: Path, blob: str, artifact: bytes | None) -> str:
    if artifact is None or not _HEX.match(blob):
        return ""
    size = _git(repository, "cat-file", "-s", blob)
    if size is None or not size.strip().isdigit() or int(size) > MAX_BLOB_BYTES:
        return ""
    original = _git(repository, "cat-file", "blob", blob) or b""
    lines = difflib.unified_diff(
        original.decode("utf-8", "replace").splitlines(),
        artifact.decode("utf-8", "replace").splitlines(),
        lineterm="",
        n=0,
    )
    body = [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    changed = [line for line in body if line[0] == "+"] + [line for line in body if line[0] == "-"]
    shown = " | ".join(changed[:MAX_DIFF_LINES])
    more = len(changed) - MAX_DIFF_LINES
    return shown + (f" | (+{more} more lines)" if more > 0 else "")
