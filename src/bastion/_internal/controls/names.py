"""The ``typosquat`` and ``approved-packages`` controls (threat typosquat).

``typosquat`` judges every locked name against the popularity corpus, names
alone (no advisory data); a name on the approved-packages list was reviewed
by a person and is not judged. ``approved-packages`` reports every locked package
missing from the project's approved list, when one is configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bastion._internal.config import Config
from bastion._internal.controls.base import Project, not_configured, result
from bastion._internal.model import (
    ControlResult,
    DependencySource,
    Finding,
    LockedPackage,
    Severity,
    SourceKind,
)
from bastion._internal.names.approved import read_approved
from bastion._internal.names.index_cache import configured_index
from bastion._internal.names.typosquat import TyposquatIndex, validate

REPORT_CONFIDENCE = 0.6
HIGH_CONFIDENCE = 0.8


def locked_names(
    sources: Iterable[DependencySource], *, index_only: bool = False
) -> Iterator[LockedPackage]:
    """The first locked occurrence of every non-local package name.

    ``index_only`` leaves out packages fetched from a git or archive URL.
    """
    seen: set[str] = set()
    skipped = (SourceKind.VCS, SourceKind.URL) if index_only else ()
    for source in sources:
        for package in source.packages:
            if package.source_kind in skipped:
                continue
            if not package.is_local and package.name not in seen:
                seen.add(package.name)
                yield package


def approved_names(config: Config) -> frozenset[str] | None:
    """The approved-package list (inline and file), ``None`` when none is configured."""
    if config.approved_packages is None and config.approved_packages_file is None:
        return None
    approved = set(config.approved_packages or ())
    if config.approved_packages_file is not None:
        approved |= read_approved(config.approved_packages_file)
    return frozenset(approved)


def typosquat_index(config: Config) -> TyposquatIndex:
    """The typosquat index over the configured corpus, with the configured exemptions
    (its tables from the user cache when they were built for this corpus before)."""
    return configured_index(config)


def _valid(name: str) -> bool:
    try:
        validate(name)
    except ValueError:
        return False
    return True


class TyposquatControl:
    """Look-alikes of popular names among the locked packages."""

    id = "typosquat"
    title = "Typosquat check (names against the 15,000 most-downloaded)"
    threats: tuple[str, ...] = ("typosquat",)

    def run(self, project: Project) -> ControlResult:
        """Judge every locked name not on the approved list (a person reviewed those).

        Only names resolved on an index can be typosquatted: a package fetched from a
        git or archive URL is installed from that URL whatever it is called (celery's
        ``git+https://github.com/celery/py-amqp.git`` was judged as a look-alike of
        ``pyamqp``); the pinning layer reports such URLs.
        """
        packages = list(locked_names(project.inputs.sources, index_only=True))
        if not packages:
            return not_configured(self, "no packages to judge")
        index = typosquat_index(project.config)
        approved = approved_names(project.config) or frozenset()
        reviewed = [p for p in packages if p.name in approved]
        findings = []
        # a reader already refused invalid names; any left are not judged
        candidates = [p for p in packages if p.name not in approved and _valid(p.name)]
        resemblances = index.judge_many([p.name for p in candidates])
        for package, found in zip(candidates, resemblances, strict=True):
            if found is None or found.confidence < REPORT_CONFIDENCE:
                continue
            findings.append(
                Finding(
                    rule_id="typosquat",
                    severity=Severity.HIGH
                    if found.confidence >= HIGH_CONFIDENCE
                    else Severity.MEDIUM,
                    threat="typosquat",
                    control=self.id,
                    message=(
                        f"{package.name} looks like {found.imitates} (download rank "
                        f"{found.imitated_rank}): {found.transformation}, confidence "
                        f"{found.confidence:.2f}"
                    ),
                    location=package.location,
                    remediation=(
                        f"if you meant {found.imitates}, fix the name; if {package.name} is "
                        "intended, review it and add it to the approved list ('bastion names "
                        "approve'), or waive 'typosquat' for it with a reason"
                    ),
                    package=package.name,
                    version=package.version,
                )
            )
        judged = len(packages) - len(reviewed)
        detail = f"{judged} names against {len(index.corpus)} popular names"
        if reviewed:
            detail += f"; {len(reviewed)} on the approved-packages list not judged (reviewed)"
        return result(self, findings, detail)


class ApprovedPackagesControl:
    """Every locked package must be on the approved list (when there is one)."""

    id = "approved-packages"
    title = "Approved-package list"
    threats: tuple[str, ...] = ("typosquat",)

    def run(self, project: Project) -> ControlResult:
        """Report packages not on the list."""
        approved = approved_names(project.config)
        if approved is None:
            return not_configured(self, "no approved-packages list configured")
        packages = list(locked_names(project.inputs.sources))
        findings = [
            Finding(
                rule_id="unapproved-package",
                severity=Severity.MEDIUM,
                threat="typosquat",
                control=self.id,
                message=f"{package.name} is a new dependency, not yet approved",
                location=package.location,
                remediation="review it, then run 'bastion names approve' to add it",
                package=package.name,
                version=package.version,
            )
            for package in packages
            if package.name not in approved
        ]
        return result(self, findings, f"{len(packages)} names against {len(approved)} approved")
