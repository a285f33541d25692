"""The ``index-confusion`` control (threat typosquat): could an internal name come from PyPI?

Dependency confusion needs two things: a resolver that may look for a
package on more than one index, and a name the attacker can register on the
index searched first (or merged). bastion checks both from the inputs:

- requirements files: ``--extra-index-url`` merges indexes (pip takes the
  highest version anywhere); several ``--index-url`` silently keep the last;
- Pipfile.lock and other locks that do not record every package's index;
- uv.lock, poetry.lock and pylock.toml record the index of every package:
  each package from a non-public index is compared with the project's
  uv/Poetry configuration (search order, ``explicit`` indexes, per-package
  pins, merging strategies);
- with ``--online``, every name locked from a non-public index is looked up
  on the public index: an unclaimed one can be registered by anyone.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bastion._internal.controls.base import Project, not_configured, result
from bastion._internal.errors import DownloadError
from bastion._internal.inputs.common import redact_url
from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    DeclaredProject,
    DependencySource,
    Finding,
    IndexConfig,
    Location,
    LockedPackage,
    Severity,
    SourceFormat,
    SourceKind,
)
from bastion._internal.rules import rule
from bastion._internal.rulesets.index_confusion import CONTROL

if TYPE_CHECKING:  # the client (urllib, threads) is imported only with --online
    from bastion._internal.index_client import IndexClient

PUBLIC_HOSTS = frozenset({"pypi.org", "pypi.python.org", "files.pythonhosted.org"})
COLLAPSE_AFTER = 10  # more packages than this with one cause become one finding
_TOOL_OF = {SourceFormat.UV_LOCK: "uv", SourceFormat.POETRY_LOCK: "poetry"}


@functools.lru_cache(maxsize=1024)  # a lock repeats a few index URLs thousands of times
def _key(url: str) -> str:
    """An index URL reduced for comparison: host and path, no scheme, login or end slash."""
    split = urlsplit(url.strip())
    host = (split.hostname or "").lower()
    port = f":{split.port}" if split.port else ""
    return f"{host}{port}{split.path.rstrip('/')}"


@functools.lru_cache(maxsize=1024)
def is_public(url: str, public_index: str) -> bool:
    """True for PyPI (any of its hosts) and the configured public index."""
    host = (urlsplit(url).hostname or "").lower()
    return host in PUBLIC_HOSTS or _key(url) == _key(public_index)


@dataclass(frozen=True, slots=True)
class _Cause:
    """Why one package's index is ambiguous, with the severity and the fix."""

    severity: Severity
    reason: str
    remediation: str
    location: Location | None  # the configuration line at fault, when there is one


def config_for(
    source: DependencySource, declared: tuple[DeclaredProject, ...]
) -> IndexConfig | None:
    """The uv or Poetry index settings of the pyproject.toml beside a lockfile."""
    wanted = _TOOL_OF.get(source.format)
    for project in declared:
        if project.path.parent != source.path.parent:
            continue
        for config in project.index_configs:
            if wanted is None or config.tool == wanted:
                return config
    return None


def _pin_fix(tool: str | None) -> str:
    """How to pin a package to its index; ``{name}`` stands for the package."""
    if tool == "poetry":
        return (
            'pin it: {name} = { version = "...", source = "<source>" } in '
            '[tool.poetry.dependencies], with that source at priority = "explicit"'
        )
    return (
        'pin it: {name} = { index = "<index>" } under [tool.uv.sources], '
        "with that [[tool.uv.index]] marked explicit = true"
    )


class _LockJudge:
    """Judges the index of each package of one per-package-index lockfile."""

    def __init__(self, source: DependencySource, config: IndexConfig | None, public: str) -> None:
        self.source = source
        self.config = config
        self.public = public
        self.tool = config.tool if config else _TOOL_OF.get(source.format)
        self.pins = {p.package: p for p in config.pins} if config else {}
        self.named = {i.name: i for i in config.indexes if i.name} if config else {}
        urls: list[str] = []  # the indexes searched for an unpinned package, in order
        if config is not None:
            urls += [i.url for i in config.indexes if not i.explicit and not i.last]
            if not config.default_replaced:
                urls.append(public)
            urls += [i.url for i in config.indexes if not i.explicit and i.last]
        self.order = [_key(url) for url in urls]
        self.public_searched = [is_public(url, public) for url in urls]
        self.registries = {
            _key(p.source)
            for p in source.packages
            if p.source_kind is SourceKind.REGISTRY and p.source
        }

    def cause(self, package: LockedPackage) -> _Cause | None:
        """Why ``package`` could come from another index, or ``None`` when it cannot."""
        if package.source_kind is not SourceKind.REGISTRY or not package.source:
            return None
        here = _key(package.source)
        shown = redact_url(package.source)
        pin = self.pins.get(package.name)
        if pin is not None:
            index = self.named.get(pin.index)
            if index is None or _key(index.url) == here:
                return None
            return _Cause(
                Severity.HIGH,
                f"pinned to index {pin.index!r} ({redact_url(index.url)}) but locked from {shown}",
                "re-lock: the lock does not match the configuration",
                pin.location,
            )
        if is_public(package.source, self.public):
            return None
        if self.config is None:
            if len(self.registries) < 2:
                return None
            return _Cause(
                Severity.MEDIUM,
                f"locked from {shown} beside {len(self.registries) - 1} other index(es), "
                "and no uv or Poetry configuration here pins it",
                _pin_fix(self.tool),
                None,
            )
        if self.config.merges_indexes is not None:
            return _Cause(
                Severity.HIGH,
                f"locked from {shown}, but the index strategy takes the best match across "
                "every index: a higher version on the public index wins",
                f'use index-strategy = "first-index" and {_pin_fix(self.tool)}',
                self.config.merges_indexes,
            )
        position = self.order.index(here) if here in self.order else None
        public_first = any(self.public_searched[: position or 0])
        if position is None:
            return _Cause(
                Severity.MEDIUM,
                f"locked from {shown}, an index the {self.tool} configuration does not search "
                "for it (set elsewhere, or explicit and unpinned)",
                _pin_fix(self.tool),
                None,
            )
        if public_first:
            return _Cause(
                Severity.HIGH,
                f"locked from {shown}, which is searched after the public index: "
                "anyone who registers the name there wins",
                _pin_fix(self.tool),
                self._index_location(here),
            )
        if any(self.public_searched):
            return _Cause(
                Severity.MEDIUM,
                f"locked from {shown}, searched before the public index but not pinned to it: "
                "if the name disappears from it, or it answers 401/403, the resolver takes the "
                "public index's package",
                _pin_fix(self.tool),
                self._index_location(here),
            )
        return None  # the public index is not searched at all

    def _index_location(self, key: str) -> Location | None:
        if self.config is None:
            return None
        for index in self.config.indexes:
            if _key(index.url) == key:
                return index.location
        return None


def _merged_index_findings(source: DependencySource) -> Iterator[Finding]:
    """Requirements files and locks that do not record every package's index."""
    extra = [i for i in source.indexes if i.kind == "extra-index-url"]
    primary = [i for i in source.indexes if i.kind == "index-url"]
    registries = {i.value for i in source.indexes if i.kind == "source"}
    if source.format is SourceFormat.REQUIREMENTS and extra:
        yield _finding(
            f"--extra-index-url {redact_url(extra[0].value)} is merged with the main index; "
            "the highest version on any index wins",
            extra[0].location,
            "serve every package from one index (a proxy), or pin each package to its index",
        )
    elif source.format is SourceFormat.REQUIREMENTS and len(primary) > 1:
        yield _finding(
            "several --index-url options: only the last one applies, silently",
            primary[-1].location,
            "keep a single --index-url",
        )
    elif len(registries) > 1 and not source.per_package_index:
        first = next(i for i in source.indexes if i.kind == "source")
        yield _finding(
            f"{len(registries)} package sources and not every package names its index",
            first.location,
            "pin each package to one index",
        )


def _finding(
    message: str,
    location: Location | None,
    remediation: str,
    package: LockedPackage | None = None,
    severity: Severity = Severity.HIGH,
    rule_id: str = "index-confusion",
) -> Finding:
    found = rule(rule_id)
    assert found is not None  # noqa: S101 - both rules are registered above
    return found.finding(
        message,
        location,
        remediation,
        package=package.name if package else None,
        version=package.version if package else None,
        severity=severity,
    )


def lock_findings(
    source: DependencySource, config: IndexConfig | None, public: str
) -> list[Finding]:
    """One finding per ambiguous package (many with one cause: one finding for them all)."""
    judge = _LockJudge(source, config, public)
    by_cause: dict[_Cause, list[LockedPackage]] = defaultdict(list)
    for package in source.packages:
        cause = judge.cause(package)
        if cause is not None:
            by_cause[cause].append(package)
    findings = []
    for cause, packages in by_cause.items():
        if len(packages) > COLLAPSE_AFTER:
            names = ", ".join(p.name for p in packages[:5])
            findings.append(
                _finding(
                    f"{len(packages)} packages ({names}, …): {cause.reason}",
                    cause.location or packages[0].location,
                    cause.remediation.replace("{name}", "each package"),
                    severity=cause.severity,
                )
            )
            continue
        for package in packages:
            findings.append(
                _finding(
                    f"{package.name}: {cause.reason}",
                    package.location,
                    cause.remediation.replace("{name}", package.name),
                    package,
                    cause.severity,
                )
            )
    return findings


def internal_packages(sources: list[DependencySource], public: str) -> dict[str, LockedPackage]:
    """Packages locked from a non-public index, by name (first occurrence)."""
    found: dict[str, LockedPackage] = {}
    for source in sources:
        for package in source.packages:
            if (
                package.source_kind is SourceKind.REGISTRY
                and package.source
                and not is_public(package.source, public)
            ):
                found.setdefault(package.name, package)
    return found


class IndexConfusionControl:
    """Which index every package may come from, and whether an internal name is claimable."""

    id = CONTROL
    title = "Dependency confusion (the index of every package)"
    threats: tuple[str, ...] = ("typosquat",)

    def __init__(self, client: Callable[[], IndexClient] | None = None) -> None:
        self.client = client  # set with --online

    def run(self, project: Project) -> ControlResult:
        """Judge every dependency source, then (online) look internal names up publicly."""
        sources = [s for s in project.inputs.sources if s.format is not SourceFormat.ENVIRONMENT]
        if not sources:
            return not_configured(self, "no lockfile or requirements file found")
        public = project.config.public_index
        findings: list[Finding] = []
        for source in sources:
            if source.per_package_index:
                config = config_for(source, project.inputs.declared)
                findings += lock_findings(source, config, public)
            findings += _merged_index_findings(source)
        internal = internal_packages(sources, public)
        notes = [f"{sum(len(s.packages) for s in sources)} packages in {len(sources)} sources"]
        if internal:
            notes.append(f"{len(internal)} from non-public indexes")
        if internal and self.client is None:
            notes.append("internal names not looked up on the public index (use --online)")
        elif internal and self.client is not None:
            try:
                findings += self._unclaimed(internal, public, findings)
            except DownloadError as exc:
                notes.insert(0, f"cannot look names up on {public}: {exc}")
                return ControlResult(
                    CONTROL, ControlStatus.ERROR, self.threats, tuple(findings), "; ".join(notes)
                )
            notes.append(f"{len(internal)} internal names looked up on {public}")
        return result(self, findings, "; ".join(notes))

    def _unclaimed(
        self, internal: dict[str, LockedPackage], public: str, found: list[Finding]
    ) -> list[Finding]:
        assert self.client is not None  # noqa: S101 - checked by the caller
        pages = self.client().pages(((public, name) for name in internal), times=False)
        ambiguous = {f.package for f in found if f.package}
        findings = []
        for name, package in sorted(internal.items()):
            if pages[(public, name)].exists:
                continue
            exposed = name in ambiguous
            findings.append(
                _finding(
                    f"{name} (locked from {redact_url(package.source or '')}) is not registered "
                    f"on {public}: anyone can claim it"
                    + (", and nothing stops the resolver from taking it there" if exposed else ""),
                    package.location,
                    "register a placeholder project under the name on the public index"
                    + ("" if not exposed else ", and pin the package to its index"),
                    package,
                    Severity.HIGH if exposed else Severity.MEDIUM,
                    "internal-name-unclaimed",
                )
            )
        return findings
