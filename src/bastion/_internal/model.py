"""The domain model: frozen dataclasses shared by every layer.

Nothing here performs I/O. Readers build ``LockedPackage`` and ``DependencySource``
objects; controls turn them into ``Finding`` and ``ControlResult`` objects; the
engine gathers those into a ``Report``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType


class Severity(enum.IntEnum):
    """How bad a finding is. Ordered, so thresholds compare with ``>=``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """The lower-case name used in configuration and reports."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name such as ``"high"``; raise ``ValueError`` otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


class Confidence(enum.StrEnum):
    """How likely a finding is to be a real problem rather than a false alarm."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ControlStatus(enum.StrEnum):
    """The outcome of running one control."""

    PASS = "pass"  # noqa: S105 - a status name, not a password
    FAIL = "fail"
    NOT_CONFIGURED = "not-configured"
    ERROR = "error"

    @property
    def ran(self) -> bool:
        """True when the control actually inspected the project."""
        return self in (ControlStatus.PASS, ControlStatus.FAIL)


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was found: a file, and a 1-based line when there is one."""

    path: Path
    line: int | None = None
    column: int | None = None

    def display(self, root: Path | None = None) -> str:
        """``path:line`` relative to ``root`` when possible."""
        shown = relative_to(self.path, root)
        if self.line is None:
            return shown
        if self.column is None:
            return f"{shown}:{self.line}"
        return f"{shown}:{self.line}:{self.column}"


@lru_cache(maxsize=8192)  # reports show the same few files for thousands of findings
def relative_to(path: Path, root: Path | None) -> str:
    """Show ``path`` relative to ``root`` (POSIX separators) when it lies below it."""
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _frozen_hashes(hashes: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({algo: tuple(values) for algo, values in sorted(hashes.items())})


class SourceKind(enum.StrEnum):
    """Where a locked package's bytes come from."""

    REGISTRY = "registry"  # an index (PyPI or a private one)
    URL = "url"  # a direct archive URL
    VCS = "vcs"  # a version-control URL
    PATH = "path"  # a local file or directory
    EDITABLE = "editable"  # a local directory installed in development mode
    VIRTUAL = "virtual"  # the project itself, not installed from anywhere
    INSTALLED = "installed"  # read from an installed environment


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One package a project installs, as a dependency source describes it.

    ``name`` is the PEP 503 canonical name. ``version`` is ``None`` when the
    source does not pin one (an unpinned requirement line, a local directory).
    ``hashes`` maps an algorithm (``sha256``) to the hex digests allowed for the
    package's artifacts.
    """

    name: str
    version: str | None
    location: Location
    hashes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source_kind: SourceKind = SourceKind.REGISTRY
    source: str | None = None  # index URL, archive URL, VCS URL or path
    specifier: str = ""  # the version specifier as written, e.g. "==1.2" or ">=1"
    markers: str | None = None
    extras: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()  # canonical names of direct dependencies
    upload_time: datetime | None = None
    vcs_commit: str | None = None
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashes", _frozen_hashes(self.hashes))

    @property
    def has_hash(self) -> bool:
        """True when at least one digest is recorded."""
        return any(self.hashes.values())

    @property
    def is_local(self) -> bool:
        """True for the project itself and local directories or files."""
        return self.source_kind in (SourceKind.PATH, SourceKind.EDITABLE, SourceKind.VIRTUAL)


class SourceFormat(enum.StrEnum):
    """The kinds of file (or environment) bastion reads dependencies from."""

    REQUIREMENTS = "requirements"
    UV_LOCK = "uv.lock"
    POETRY_LOCK = "poetry.lock"
    PYLOCK = "pylock.toml"
    PIPFILE_LOCK = "Pipfile.lock"
    PDM_LOCK = "pdm.lock"
    ENVIRONMENT = "environment"


@dataclass(frozen=True, slots=True)
class IndexSetting:
    """An index-related option as written in a dependency source."""

    kind: str  # "index-url", "extra-index-url", "find-links", "trusted-host", "source"
    value: str
    location: Location
    name: str | None = None  # a named source (Pipfile, poetry) if any


@dataclass(frozen=True, slots=True)
class DependencySource:
    """Everything read from one lockfile, requirements file or environment."""

    path: Path
    format: SourceFormat
    packages: tuple[LockedPackage, ...]
    indexes: tuple[IndexSetting, ...] = ()
    require_hashes: bool = False  # pip's hash-checking mode is on for this file
    generated_from: tuple[Path, ...] = ()  # declared inputs it was compiled from
    includes: tuple[Path, ...] = ()  # files read as part of this one (requirements -r/-c)
    per_package_index: bool = False  # the format records which index each package uses
    exclude_newer: datetime | None = None  # uv.lock: the resolver ignored uploads after this
    exclude_newer_span: timedelta | None = None  # uv.lock: a relative cutoff ("7 days")


@dataclass(frozen=True, slots=True)
class DeclaredDependency:
    """A dependency declared in pyproject.toml (PEP 621, PEP 735 or tool tables)."""

    name: str
    specifier: str
    group: str  # "main", "extra:NAME", "group:NAME"
    location: Location
    markers: str | None = None


@dataclass(frozen=True, slots=True)
class ConfiguredIndex:
    """A package index a tool's configuration names (``[[tool.uv.index]]``, Poetry sources).

    ``explicit`` indexes serve only the packages pinned to them. ``last`` marks
    the index searched after every other one (uv's ``default = true``, Poetry's
    ``supplemental`` and ``secondary`` sources).
    """

    name: str | None
    url: str
    location: Location
    explicit: bool = False
    last: bool = False


@dataclass(frozen=True, slots=True)
class IndexPin:
    """A package pinned to a named index (``[tool.uv.sources]``, Poetry ``source = ...``)."""

    package: str
    index: str
    location: Location


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """How one tool's configuration chooses indexes: which exist, which packages are pinned."""

    tool: str  # "uv" or "poetry"
    indexes: tuple[ConfiguredIndex, ...] = ()
    pins: tuple[IndexPin, ...] = ()
    merges_indexes: Location | None = None  # a setting that takes the best match of all indexes
    default_replaced: bool = False  # the public index is not searched unless configured


@dataclass(frozen=True, slots=True)
class DeclaredProject:
    """What a pyproject.toml declares."""

    path: Path
    name: str | None
    dependencies: tuple[DeclaredDependency, ...]
    index_configs: tuple[IndexConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a control found."""

    rule_id: str
    severity: Severity
    threat: str
    control: str
    message: str
    location: Location | None = None
    remediation: str = ""
    references: tuple[str, ...] = ()
    package: str | None = None
    version: str | None = None
    aliases: tuple[str, ...] = ()  # other ids this finding is known by (advisories)
    confidence: Confidence | None = None  # how sure the rule is (workflow rules say)

    def ids(self) -> frozenset[str]:
        """Every id a waiver may name to cover this finding."""
        return frozenset((self.rule_id, *self.aliases))


@dataclass(frozen=True, slots=True)
class ControlResult:
    """What one control did: its status, its findings, and why."""

    control: str
    status: ControlStatus
    threats: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    detail: str = ""
    enforced: bool | None = None  # known to fail the CI build; None when not determined
    suppressed: tuple[WaivedFinding, ...] = ()  # findings silenced by inline comments
    enforces: Mapping[str, bool] = field(default_factory=dict)  # CI wiring: control -> enforced


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted risk: a rule or advisory id, optionally narrowed to a package and versions."""

    id: str
    reason: str
    expires: datetime
    location: Location
    package: str | None = None
    versions: str | None = None
    justification: str | None = None  # a VEX justification (see VEX_JUSTIFICATIONS)


# Why a waived advisory does not apply, in CycloneDX's impact-analysis vocabulary
# (``false_positive`` is CycloneDX's separate state for a wrong match).
VEX_JUSTIFICATIONS = frozenset(
    {
        "code_not_present",
        "code_not_reachable",
        "requires_configuration",
        "requires_dependency",
        "requires_environment",
        "protected_by_compiler",
        "protected_at_runtime",
        "protected_at_perimeter",
        "protected_by_mitigating_control",
        "false_positive",
    }
)


@dataclass(frozen=True, slots=True)
class WaivedFinding:
    """A finding that a waiver covers."""

    finding: Finding
    waiver: Waiver


class Coverage(enum.StrEnum):
    """The verdict for one threat scenario."""

    COVERED = "covered"  # a control ran and is enforced in CI
    LOCAL = "local-only"  # a control ran here, CI enforcement not shown
    INCOMPLETE = "incomplete"  # a control that stands in the path errored
    EXPOSED = "exposed"  # no control ran


@dataclass(frozen=True, slots=True)
class ThreatCoverage:
    """One row of the coverage matrix."""

    threat: str
    title: str
    verdict: Coverage
    controls: tuple[ControlResult, ...]
    open_findings: int


@dataclass(frozen=True, slots=True)
class Report:
    """The result of ``bastion check``: inputs read, control results, coverage."""

    root: Path
    sources: tuple[DependencySource, ...]
    results: tuple[ControlResult, ...]
    coverage: tuple[ThreatCoverage, ...]
    waived: tuple[WaivedFinding, ...]
    fail_on: Severity
    generated_at: datetime
    notes: tuple[str, ...] = ()  # what was deliberately not read, and how to read it
    # Sorted once (renderers read it many times); recomputed by dataclasses.replace.
    _findings: tuple[Finding, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found = [f for r in self.results for f in r.findings]
        object.__setattr__(self, "_findings", tuple(sorted(found, key=finding_sort_key)))

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding not covered by a waiver, most severe first."""
        return self._findings

    @property
    def incomplete(self) -> bool:
        """True when some control could not run (fail closed)."""
        return any(r.status is ControlStatus.ERROR for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings at or above the threshold, 2 incomplete."""
        if any(f.severity >= self.fail_on for f in self.findings):
            return 1
        if self.incomplete:
            return 2
        return 0


def finding_sort_key(finding: Finding) -> tuple[int, str, int, str, str]:
    """Most severe first, then by file, line and rule."""
    loc = finding.location
    return (
        -int(finding.severity),
        loc.path.as_posix() if loc else "",
        (loc.line or 0) if loc else 0,
        finding.rule_id,
        finding.message,
    )
