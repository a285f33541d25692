"""One provenance run: locked artifacts -> provenance -> verification -> continuity findings."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from packaging.version import InvalidVersion, Version

from bastion._internal.model import DependencySource, Finding, Location
from bastion._internal.provenance.continuity import Previous, continuity_findings
from bastion._internal.provenance.locate import locked_artifacts, pylock_expectations
from bastion._internal.provenance.model import (
    Artifact,
    ArtifactResult,
    Expectation,
    Identity,
    Outcome,
)
from bastion._internal.provenance.sources import (
    CacheSource,
    DirectorySource,
    IntegritySource,
    Lookup,
    Source,
    Unavailable,
)
from bastion._internal.provenance.trust_file import read_trust_file, trust_file_path
from bastion._internal.provenance.trust_root import root_path
from bastion._internal.provenance.verify import ProvenanceVerifier
from bastion._internal.user_cache import cache_dir

DEFAULT_INDEX = "https://pypi.org"
WORKERS = 8  # concurrent index requests with --online
NO_SOURCE = "no provenance source answered (--provenance-dir DIR or --online)"


@dataclass(frozen=True, slots=True)
class Options:
    """Where provenance comes from and what it is checked against."""

    provenance_dirs: tuple[Path, ...] = ()
    online: bool = False
    index_url: str = DEFAULT_INDEX
    trust_root: Path | None = None  # default: the updated root, else the bundled one
    cache: Path | None = None  # default: the user cache's provenance folder
    trust_file: Path | None = None  # default: bastion-provenance.toml at the project root


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of one run."""

    results: tuple[ArtifactResult, ...]
    expectations: Mapping[str, Expectation]
    findings: tuple[Finding, ...]
    root: Path  # the trusted root used
    previous: Mapping[str, Previous] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        """How many artifacts have ``outcome``."""
        return sum(1 for r in self.results if r.outcome is outcome)

    def never_attested(self) -> int:
        """Packages none of whose locked files carries provenance."""
        by_name: dict[str, set[Outcome]] = {}
        for item in self.results:
            by_name.setdefault(item.artifact.name, set()).add(item.outcome)
        return sum(1 for outcomes in by_name.values() if outcomes == {Outcome.MISSING})

    def summary(self) -> str:
        """One line: what was verified, missing, failed, unknown."""
        parts = [
            f"{len(self.results)} artifact(s)",
            f"{self.count(Outcome.VERIFIED)} verified",
            f"{self.count(Outcome.MISSING)} without provenance "
            f"({self.never_attested()} package(s) never attested)",
            f"{self.count(Outcome.FAILED)} failed",
        ]
        unknown = self.count(Outcome.UNKNOWN)
        if unknown:
            parts.append(f"{unknown} not checked")
        if self.expectations:
            parts.append(f"{len(self.expectations)} publisher(s) expected")
        return ", ".join(parts)

    def unknown_reasons(self, among: Collection[str] | None = None) -> list[str]:
        """Why artifacts (of the packages ``among``, default all) could not be checked."""
        return sorted(
            {
                r.reason
                for r in self.results
                if r.outcome is Outcome.UNKNOWN and (among is None or r.artifact.name in among)
            }
        )


def index_base(simple_url: str) -> str:
    """The host part of an index whose simple API is at ``simple_url`` (``…/simple``)."""
    return simple_url.rstrip("/").removesuffix("/simple")


def default_cache() -> Path:
    """The folder provenance fetched from an index is kept in, by digest."""
    return cache_dir() / "provenance"


def expectations_for(
    root: Path, sources: Sequence[DependencySource], trust_file: Path | None = None
) -> dict[str, Expectation]:
    """Expected publishers: pylock.toml's identities where present, else the trust file's."""
    path = trust_file or trust_file_path(root)
    found: dict[str, Expectation] = {}
    if trust_file is not None or path.is_file():
        found.update(read_trust_file(path))
    found.update(pylock_expectations(sources))
    return found


def verify_sources(
    root: Path,
    sources: Sequence[DependencySource],
    options: Options,
    *,
    verifier: ProvenanceVerifier | None = None,
) -> Verification:
    """Check the provenance of every artifact ``sources`` lock with a sha256."""
    expectations = expectations_for(root, sources, options.trust_file)
    artifacts = locked_artifacts(sources)
    return verify_artifacts(artifacts, expectations, options, verifier=verifier)


def verify_artifacts(
    artifacts: Sequence[Artifact],
    expectations: Mapping[str, Expectation],
    options: Options,
    *,
    verifier: ProvenanceVerifier | None = None,
) -> Verification:
    """Check ``artifacts`` against the configured sources and expectations."""
    root = root_path(options.trust_root)
    if verifier is None:
        verifier = ProvenanceVerifier.from_file(root)
    cache = CacheSource(options.cache or default_cache())
    chain: list[Source] = [DirectorySource(d) for d in options.provenance_dirs]
    chain.append(cache)
    integrity = IntegritySource(options.index_url, cache) if options.online else None
    if integrity is not None:
        chain.append(integrity)
    if integrity is not None:
        # Network lookups overlap; verification stays in this thread.
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            answers = list(pool.map(lambda a: _answers(a, chain), artifacts))
    else:
        answers = [_answers(artifact, chain) for artifact in artifacts]
    results = [_result(a, found, verifier) for a, found in zip(artifacts, answers, strict=True)]
    previous: dict[str, Previous] = {}
    if integrity is not None:
        wanted = sorted(
            {(a.name, a.version) for a in artifacts if a.name not in expectations and a.version}
        )
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            fetched = list(pool.map(lambda nv: _earlier(nv[0], str(nv[1]), integrity), wanted))
        for (name, _), earlier in zip(wanted, fetched, strict=True):
            if earlier is not None:
                previous[name] = _previous(name, earlier, integrity, verifier)
    findings = continuity_findings(results, expectations, previous)
    return Verification(
        tuple(results),
        MappingProxyType(dict(expectations)),
        tuple(findings),
        root,
        MappingProxyType(previous),
    )


def _answers(artifact: Artifact, chain: list[Source]) -> list[Lookup | Unavailable]:
    """The answers of the sources, up to the first that holds provenance."""
    found: list[Lookup | Unavailable] = []
    for source in chain:
        answer = source.lookup(artifact)
        if answer is None:
            continue
        found.append(answer)
        if isinstance(answer, Lookup) and answer.data is not None:
            break
    return found


def _result(
    artifact: Artifact, answers: list[Lookup | Unavailable], verifier: ProvenanceVerifier
) -> ArtifactResult:
    missing: Lookup | None = None
    unavailable: Unavailable | None = None
    for answer in answers:
        if isinstance(answer, Unavailable):
            unavailable = unavailable or answer
        elif isinstance(answer, Lookup):
            if answer.data is not None:
                if not answer.data and answer.reason:
                    return ArtifactResult(
                        artifact, Outcome.FAILED, reason=answer.reason, source=answer.origin
                    )
                return verifier.verify(artifact, answer.data, answer.origin)
            missing = missing or answer
    if missing is not None:
        return ArtifactResult(
            artifact, Outcome.MISSING, reason=missing.reason, source=missing.origin
        )
    reason = unavailable.reason if unavailable else NO_SOURCE
    return ArtifactResult(artifact, Outcome.UNKNOWN, reason=reason)


@dataclass(frozen=True, slots=True)
class _Earlier:
    """The newest earlier attested release of a package, and its provenance answer."""

    version: str | None
    filename: str = ""
    sha256: str = ""
    answer: Lookup | Unavailable | None = None


def _earlier(name: str, version: str, integrity: IntegritySource) -> _Earlier | None:
    """Fetch the provenance of one file of the newest earlier attested release (threads)."""
    files = integrity.files(name)
    if isinstance(files, Unavailable):
        return None
    try:
        current = Version(version)
    except InvalidVersion:
        return None
    earlier: dict[Version, list[tuple[str, str]]] = {}
    for item in files:
        try:
            parsed = Version(item.version)
        except InvalidVersion:
            continue
        if parsed < current and item.has_provenance:
            earlier.setdefault(parsed, []).append((item.filename, item.sha256))
    if not earlier:
        return _Earlier(None)
    newest = max(earlier)
    filename, sha256 = sorted(earlier[newest])[0]
    cached = integrity.cache.lookup_digest(sha256) if integrity.cache is not None else None
    answer = cached or integrity.fetch(name, str(newest), filename, sha256)
    return _Earlier(str(newest), filename, sha256, answer)


def _previous(
    name: str, earlier: _Earlier, integrity: IntegritySource, verifier: ProvenanceVerifier
) -> Previous:
    """Verify the earlier release's provenance: its publisher, when it verifies."""
    if earlier.version is None:
        return Previous(None, None)
    identity: Identity | None = None
    answer = earlier.answer
    if isinstance(answer, Lookup) and answer.data:
        where = Location(Path(integrity.index_url))
        artifact = Artifact(name, earlier.version, earlier.sha256, earlier.filename, where)
        checked = verifier.verify(artifact, answer.data, answer.origin)
        identity = checked.identity if checked.outcome is Outcome.VERIFIED else None
    return Previous(earlier.version, identity)
