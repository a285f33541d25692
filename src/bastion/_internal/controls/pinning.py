"""The pinning layer: exact versions, strong hashes, and indexes reached safely.

Threat: ``tampering`` (bytes replaced after publication). Which index each
package may come from (dependency confusion) is the ``index-confusion``
control's question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bastion._internal.controls.base import Project, not_configured, result
from bastion._internal.inputs.common import redact_url
from bastion._internal.model import (
    ControlResult,
    DeclaredDependency,
    DeclaredProject,
    DependencySource,
    Finding,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.rulesets.pinning import CONTROL, RULES

WEAK_ALGORITHMS = frozenset({"md5", "sha1", "sha224"})
DIGEST_LENGTHS = {
    "md5": 32,
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
    "blake2b": 128,
    "blake2s": 64,
}
_HEX = re.compile(r"^[0-9a-f]+$")
_LOCK_GENERATE = "regenerate the lock with hashes (uv lock, or uv pip compile --generate-hashes)"


class PinningControl:
    """Checks that every dependency is pinned, hashed and fetched over a safe transport."""

    id: str = CONTROL
    title: str = "Hash pinning and index hygiene"
    threats: tuple[str, ...] = ("tampering",)

    def run(self, project: Project) -> ControlResult:
        """Inspect every dependency source and declared project."""
        sources = [s for s in project.inputs.sources if s.format is not SourceFormat.ENVIRONMENT]
        if not sources:
            return not_configured(self, "no lockfile or requirements file found")
        findings: list[Finding] = []
        for source in sources:
            findings += _index_findings(source)
            findings += _package_findings(source)
        for declared in project.inputs.declared:
            findings += _drift_findings(declared, sources)
        packages = sum(len(s.packages) for s in sources)
        return result(self, findings, f"{packages} packages in {len(sources)} sources")


def _finding(
    rule_id: str,
    message: str,
    location: Location | None,
    remediation: str,
    package: LockedPackage | None = None,
) -> Finding:
    return RULES[rule_id].finding(
        message,
        location,
        remediation,
        package=package.name if package else None,
        version=package.version if package else None,
    )


def _unhashed_registry_pins(source: DependencySource) -> list[LockedPackage]:
    """Pinned index packages without a hash, when the source hashes none of them."""
    pinned = [
        p
        for p in source.packages
        if not p.is_local
        and p.source_kind not in (SourceKind.VCS, SourceKind.URL)
        and p.version is not None
    ]
    if source.require_hashes or any(p.has_hash for p in pinned):
        return []
    return pinned


def _package_findings(source: DependencySource) -> Iterator[Finding]:
    unhashed = _unhashed_registry_pins(source)
    summarised = len(unhashed) >= 2  # one finding for the file, not one per line
    if summarised:
        names = ", ".join(f"{p.name}=={p.version}" for p in unhashed[:3])
        yield _finding(
            "missing-hash",
            f"none of the {len(unhashed)} pinned packages has a hash ({names}, ...): "
            "a file replaced on the index or a mirror installs unnoticed",
            unhashed[0].location or Location(source.path),
            _LOCK_GENERATE,
        )
    for package in source.packages:
        yield from _hash_quality(package)
        if package.is_local:
            if source.require_hashes and package.source_kind is SourceKind.EDITABLE:
                yield _finding(
                    "require-hashes-incomplete",
                    f"editable {package.name} cannot be installed in hash-checking mode",
                    package.location,
                    "install local projects separately with --no-deps",
                    package,
                )
            continue
        if package.source_kind in (SourceKind.VCS, SourceKind.URL):
            yield from _plain_transport(package)
        if package.source_kind is SourceKind.VCS:
            yield _vcs_finding(package)
            continue
        if package.source_kind is SourceKind.URL:
            if not package.has_hash:
                url = redact_url(package.source or "")
                yield _finding(
                    "unhashed-url",
                    f"{package.name} from {url} has no hash",
                    package.location,
                    "add #sha256=<digest> to the URL or a --hash option",
                    package,
                )
            continue
        yield from _registry_findings(source, package, summarised)


def _registry_findings(
    source: DependencySource, package: LockedPackage, summarised: bool
) -> Iterator[Finding]:
    if package.version is None:
        rule_id = "require-hashes-incomplete" if source.require_hashes else "unpinned-requirement"
        shown = f"{package.name}{package.specifier}" if package.specifier else package.name
        yield _finding(
            rule_id,
            f"{shown} is not pinned to one exact version"
            + (" (pip will refuse it in hash-checking mode)" if source.require_hashes else ""),
            package.location,
            f"pin {package.name}==<version> with its hashes",
            package,
        )
        return
    if not package.has_hash and not summarised:
        rule_id = "require-hashes-incomplete" if source.require_hashes else "missing-hash"
        yield _finding(
            rule_id,
            f"{package.name}=={package.version} has no hash"
            + (" (pip will refuse it in hash-checking mode)" if source.require_hashes else ""),
            package.location,
            _LOCK_GENERATE,
            package,
        )


def _hash_quality(package: LockedPackage) -> Iterator[Finding]:
    algorithms = {algo for algo, digests in package.hashes.items() if digests}
    for algo in sorted(algorithms):
        expected = DIGEST_LENGTHS.get(algo)
        for digest in package.hashes[algo]:
            if expected is None or len(digest) != expected or not _HEX.match(digest):
                yield _finding(
                    "malformed-hash",
                    f"{package.name}: {algo} digest {digest[:16]!r}... is not valid",
                    package.location,
                    _LOCK_GENERATE,
                    package,
                )
                break
    if algorithms and algorithms <= WEAK_ALGORITHMS:
        yield _finding(
            "weak-hash",
            f"{package.name} is protected only by {', '.join(sorted(algorithms))}",
            package.location,
            "regenerate the hashes with sha256",
            package,
        )


def _vcs_finding(package: LockedPackage) -> Finding:
    url = redact_url(package.source or "")
    if package.vcs_commit:
        return _finding(
            "vcs-dependency",
            f"{package.name} comes from {url} (commit pinned, not hash-checkable)",
            package.location,
            "depend on a released artifact with a hash",
            package,
        )
    return _finding(
        "vcs-unpinned",
        f"{package.name} comes from {url} without a full commit id",
        package.location,
        "pin the full commit id (…@<40 hex chars>)",
        package,
    )


def _plain_transport(package: LockedPackage) -> Iterator[Finding]:
    """A direct URL fetched over plain http (or git://) is as open as an http index."""
    url = package.source or ""
    split = urlsplit(url.split("+", 1)[1] if url.startswith(_VCS_PREFIXES) else url)
    if split.scheme in ("http", "git") and split.hostname not in ("localhost", "127.0.0.1", "::1"):
        yield _finding(
            "insecure-index",
            f"{package.name} comes from {redact_url(url)} over plain {split.scheme}",
            package.location,
            "use https",
            package,
        )


_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")


def _index_findings(source: DependencySource) -> Iterator[Finding]:
    for setting in source.indexes:
        yield from _transport_findings(setting.kind, setting.value, setting.location)


def _transport_findings(kind: str, value: str, location: Location) -> Iterator[Finding]:
    if kind == "remote-include":
        yield _finding(
            "remote-include",
            f"includes {redact_url(value)}, fetched at install time",
            location,
            "commit the included file to the repository",
        )
    if kind == "trusted-host":
        yield _finding(
            "insecure-index",
            f"TLS verification is off for {redact_url(value)}",
            location,
            "remove --trusted-host / verify_ssl = false and use https",
        )
        return
    split = urlsplit(value)
    if split.scheme == "http" and split.hostname not in ("localhost", "127.0.0.1", "::1"):
        yield _finding(
            "insecure-index",
            f"{kind} {redact_url(value)} uses plain http",
            location,
            "use https",
        )
    if split.password and not split.password.startswith("${"):
        yield _finding(
            "index-credentials",
            f"{kind} {redact_url(value)} contains a literal password or token",
            location,
            "use ${VARIABLE} expansion, keyring or netrc instead",
        )


# Which declared groups a lock of each format is expected to contain.
_LOCKS_ALL_GROUPS = frozenset({SourceFormat.UV_LOCK, SourceFormat.POETRY_LOCK})
_LOCK_NEXT_TO_PYPROJECT = frozenset(
    {SourceFormat.UV_LOCK, SourceFormat.POETRY_LOCK, SourceFormat.PDM_LOCK, SourceFormat.PYLOCK}
)


def _locks_for(
    declared: DeclaredProject, sources: list[DependencySource]
) -> list[DependencySource]:
    folder = declared.path.parent
    return [
        s
        for s in sources
        if (s.format in _LOCK_NEXT_TO_PYPROJECT and s.path.parent == folder)
        or declared.path in s.generated_from
    ]


def _drift_findings(
    declared: DeclaredProject, sources: list[DependencySource]
) -> Iterator[Finding]:
    for lock in _locks_for(declared, sources):
        locked: dict[str, list[LockedPackage]] = {}
        for package in lock.packages:
            locked.setdefault(package.name, []).append(package)
        for dep in declared.dependencies:
            if dep.name == declared.name:
                continue  # a self-reference such as "app[extra]"
            if dep.group != "main" and lock.format not in _LOCKS_ALL_GROUPS:
                continue
            yield from _drift_of(dep, locked.get(dep.name, []), lock.path)


def _drift_of(
    dep: DeclaredDependency, packages: list[LockedPackage], lock: Path
) -> Iterator[Finding]:
    """Drift when no locked version of the name satisfies the declaration.

    A lock may hold several versions of one name (uv's forks for conflicting groups:
    urllib3 locks idna 2.8 for its minimum-versions group and 3.13 for the others).
    """
    if not packages:
        if dep.markers:
            return  # may be excluded on the platform the lock was made for
        yield _finding(
            "lock-drift",
            f"{dep.name} is declared ({dep.group}) but missing from {lock.name}",
            dep.location,
            f"re-run the tool that generates {lock.name}",
        )
        return
    versions = [p for p in packages if p.version is not None]
    if not dep.specifier or not versions:
        return
    try:
        specifier = SpecifierSet(dep.specifier)
        allowed = any(
            specifier.contains(Version(str(p.version)), prereleases=True) for p in versions
        )
    except (InvalidSpecifier, InvalidVersion):
        return
    package = versions[-1]
    if not allowed:
        shown = ", ".join(str(p.version) for p in versions)
        yield _finding(
            "lock-drift",
            f"{dep.name}{dep.specifier} is declared but {lock.name} locks {shown}",
            dep.location,
            f"re-run the tool that generates {lock.name}",
            package,
        )
