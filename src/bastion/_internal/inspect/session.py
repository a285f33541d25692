"""One ``bastion inspect`` run: artifacts in, per-artifact outcomes and a report out."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

from bastion._internal.config import Config
from bastion._internal.errors import BastionError
from bastion._internal.inspect import scan
from bastion._internal.inspect.archive import ArchiveError
from bastion._internal.inspect.hits import Hit
from bastion._internal.inspect.limits import Limits
from bastion._internal.inspect.pairing import wheel_against_sdist
from bastion._internal.inspect.rules import CONTROL, THREATS, to_findings
from bastion._internal.inspect.scan import ArtifactReport, inspect_file
from bastion._internal.model import ControlResult, ControlStatus, Finding, Report


@dataclass(frozen=True, slots=True)
class Outcome:
    """One artifact: its scan (with pairing and source hits added), or why it was not read."""

    path: Path
    name: str | None
    version: str | None
    report: ArtifactReport | None
    error: str = ""
    extra: tuple[Hit, ...] = ()

    @property
    def verdict(self) -> str:
        """The artifact's verdict, ``error`` when it could not be read."""
        if self.report is None:
            return "error"
        return replace(self.report, hits=self.report.hits + self.extra).verdict


def name_and_version(path: Path) -> tuple[str | None, str | None]:
    """The project name and version a wheel or sdist file name gives, if any."""
    filename = path.name
    try:
        if filename.lower().endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version)
        name, version = parse_sdist_filename(filename)
        return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None, None


def inspect_paths(
    paths: Iterable[Path], limits: Limits, *, strict: bool, git_ids: bool = False, jobs: int = 1
) -> list[Outcome]:
    """Scan each file; ``strict`` raises on an unreadable one (a file the user named).

    With ``jobs`` over 1, files are shared between that many processes (one file: its
    members are, when it is a large zip).
    """
    chosen = list(paths)
    if jobs > 1 and len(chosen) > 1 and _total_size(chosen) > scan.PARALLEL_BYTES:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(min(jobs, len(chosen)), mp_context=get_context("spawn")) as pool:
            done = list(
                pool.map(_inspect_one, chosen, [limits] * len(chosen), [git_ids] * len(chosen))
            )
    else:
        done = [_inspect_one(path, limits, git_ids, jobs) for path in chosen]
    outcomes = []
    for path, (report, error) in zip(chosen, done, strict=True):
        name, version = name_and_version(path)
        if error is not None:
            if strict:
                raise error
            outcomes.append(Outcome(path, name, version, None, error.message))
            continue
        outcomes.append(Outcome(path, name, version, report))
    return pair_wheels(outcomes)


def _total_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):  # reported when it is read
            total += path.stat().st_size
    return total


def _inspect_one(
    path: Path, limits: Limits, git_ids: bool, jobs: int = 1
) -> tuple[ArtifactReport | None, ArchiveError | None]:
    try:
        return inspect_file(path, limits, git_ids=git_ids, jobs=jobs), None
    except ArchiveError as exc:
        return None, exc


def pair_wheels(outcomes: list[Outcome]) -> list[Outcome]:
    """Add to each wheel the files it holds that the sdist of its version does not."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, outcome in enumerate(outcomes):
        if outcome.report is not None and outcome.name and outcome.version:
            key = (canonicalize_name(outcome.name), canonicalize_version(outcome.version))
            groups[key].append(index)
    paired = list(outcomes)
    for members in groups.values():
        sdists = [
            report
            for report in (outcomes[i].report for i in members)
            if report is not None and report.kind == "sdist"
        ]
        if len(sdists) != 1:
            continue
        for i in members:
            report = outcomes[i].report
            if report is not None and report.kind == "wheel":
                hits = tuple(wheel_against_sdist(report, sdists[0]))
                paired[i] = replace(outcomes[i], extra=outcomes[i].extra + hits)
    return paired


def to_result(
    outcomes: Sequence[Outcome], *, capabilities: bool = False, missing: Sequence[str] = ()
) -> ControlResult:
    """One control result for every artifact: findings, and a verdict per artifact."""
    findings: list[Finding] = []
    errors = []
    for outcome in outcomes:
        if outcome.report is None:
            errors.append(f"{outcome.path.name}: {outcome.error}")
            continue
        hits = outcome.report.hits + outcome.extra
        findings.extend(
            to_findings(
                hits,
                outcome.path,
                package=outcome.name,
                version=outcome.version,
                capabilities=capabilities,
            )
        )
    verdicts = "; ".join(f"{o.path.name}: {o.verdict}" for o in outcomes[:20])
    more = f"; and {len(outcomes) - 20} more" if len(outcomes) > 20 else ""
    detail = f"{len(outcomes)} artifact(s): {verdicts}{more}"
    if errors:
        detail += f"; not readable: {'; '.join(errors[:10])}"
    if missing:
        detail += f"; not inspected (not in the cache): {', '.join(missing[:10])}"
    if errors or missing:
        status = ControlStatus.ERROR
    elif any(f.severity > 0 for f in findings):
        status = ControlStatus.FAIL
    else:
        status = ControlStatus.PASS
    threats = THREATS
    return ControlResult(CONTROL, status, threats, tuple(findings), detail)


def to_report(
    result: ControlResult, config: Config, root: Path, now: datetime | None = None
) -> Report:
    """The report ``bastion inspect`` prints: one control, waivers applied, its threats' rows."""
    from bastion._internal.threats import coverage
    from bastion._internal.waivers import apply_waivers

    moment = now or datetime.now(UTC)
    outcome = apply_waivers([result], config.waivers, moment)
    results = outcome.results + ((outcome.waiver_result,) if outcome.waiver_result else ())
    findings = [f for r in results for f in r.findings]
    return Report(
        root=root,
        sources=(),
        results=results,
        coverage=coverage(outcome.results, findings, frozenset(THREATS)),
        waived=outcome.waived,
        fail_on=config.fail_on,
        generated_at=moment,
    )


__all__ = ["BastionError", "Outcome", "inspect_paths", "name_and_version", "to_report", "to_result"]
