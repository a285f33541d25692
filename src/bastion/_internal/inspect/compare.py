"""An artifact's files against another tree (its sdist, or the git tree of its tag).

Each file is looked up at the same path, under ``src/``, or at the shortest
path that ends with it. What builds generate legitimately is left out:
metadata (PKG-INFO, ``*.dist-info``, ``*.egg-info``), version files, the
``[egg_info]`` lines setuptools adds to setup.cfg, and compiled extensions
in a wheel that declares itself platform-specific.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from bastion._internal.inspect.record import MemberDigest

VERSION_FILES = frozenset(
    {"_version.py", "version.py", "__version__.py", "_version.txt", "version.txt", "VERSION"}
)
CODE_SUFFIXES = (".py", ".pyw", ".pth", ".sh", ".so", ".pyd", ".dylib", ".dll", ".exe", ".js")
COMPILED = (".so", ".pyd", ".dylib", ".dll")
_ALWAYS_GENERATED = frozenset({"PKG-INFO", "setup.cfg"})


@dataclass(frozen=True, slots=True)
class Difference:
    """A file only in the artifact (``other`` empty) or different from ``other``."""

    member: str  # the artifact member's name
    path: str  # its path relative to the package root
    other: str  # the path it was compared with, "" when none matched


def artifact_paths(members: tuple[MemberDigest, ...], kind: str) -> dict[str, MemberDigest]:
    """Members by the path they would have in a source tree (metadata left out)."""
    paths: dict[str, MemberDigest] = {}
    for member in members:
        parts = member.name.split("/")
        if kind == "sdist":
            parts = parts[1:] if len(parts) > 1 else parts
            if not parts or parts[0] == "PKG-INFO" or parts[0].endswith(".egg-info"):
                continue
            if any(p.endswith(".egg-info") for p in parts[:-1]):
                continue
        else:
            if parts[0].endswith(".dist-info"):
                continue
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
        paths["/".join(parts)] = member
    return paths


def differences(
    paths: dict[str, MemberDigest],
    tree: dict[str, str],
    key: Callable[[MemberDigest], str],
    *,
    pure: bool | None,
) -> list[Difference]:
    """Artifact files missing from ``tree`` (path -> digest) or different from every match."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in tree:
        by_name[path.rsplit("/", 1)[-1]].append(path)
    found = []
    for path, member in sorted(paths.items()):
        name = path.rsplit("/", 1)[-1]
        if name in VERSION_FILES or path in _ALWAYS_GENERATED:
            continue
        if pure is False and path.endswith(COMPILED):
            continue
        candidates = [p for p in (path, f"src/{path}") if p in tree] or sorted(
            (p for p in by_name.get(name, []) if p.endswith("/" + path)), key=len
        )
        if not candidates:
            found.append(Difference(member.name, path, ""))
            continue
        digest = key(member)
        if not any(tree[c] == digest for c in candidates):
            found.append(Difference(member.name, path, candidates[0]))
    return found


def is_code(path: str) -> bool:
    """Files whose change matters most: code, launchers and binaries."""
    return path.lower().endswith(CODE_SUFFIXES) or path.lower().endswith("setup.py")
