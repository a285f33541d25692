"""The ``cooldown`` control (threat compromised-release): was anything locked while still new?

Most compromised releases are found and pulled within days (Ultralytics'
were live for about a day). A lock that takes only artifacts at least N days
old (``cooldown-days``, 7 by default) lets the community find them first.
uv and pip can refuse recent uploads per install; this control checks what a
lockfile actually holds, and says why.

- Upload times come from the lockfile (uv.lock and pylock.toml record them);
  with ``--online``, from the index for inputs that lack them.
- The lock time is, in order: uv.lock's relative ``exclude-newer`` cutoff plus
  its span; the commit time of the lockfile when the copy on disk is the
  committed one (git, read-only and hardened); else now.
- A young release that fixes an advisory affecting the version locked before
  (from the lockfile's previous commit; without one, a release named as the
  fix of an advisory) is an allowed security exemption, reported as info.
- Each finding suggests the newest version old enough to pass (online), or
  the previously locked version when that one passes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from bastion._internal.advisories.audit import AdvisoryIndex, fixed_by
from bastion._internal.advisories.store import default_db_path, ensure_database, open_database
from bastion._internal.controls.base import Project, not_configured
from bastion._internal.cooldown.installer import InstallerCutoff, installer_cutoffs
from bastion._internal.errors import BastionError, DownloadError
from bastion._internal.git import file_at, file_history
from bastion._internal.inputs.discovery import reader_for
from bastion._internal.inputs.uv_lock import UvLockOptions, lock_options
from bastion._internal.model import (
    ControlResult,
    ControlStatus,
    DependencySource,
    Finding,
    LockedPackage,
    Severity,
    SourceFormat,
    SourceKind,
)
from bastion._internal.rulesets.cooldown import CONTROL

if TYPE_CHECKING:  # the client (urllib, threads) is imported only with --online
    from bastion._internal.index_client import IndexClient, ProjectPage


@dataclass(frozen=True, slots=True)
class LockMoment:
    """When a lockfile was made, how bastion knows, and what it held before."""

    when: datetime
    basis: str
    previous_commit: str | None = None


@dataclass(slots=True)
class _Young:
    """A package found young at lock time."""

    source: DependencySource
    package: LockedPackage
    uploaded: datetime
    moment: LockMoment
    notes: list[str] = field(default_factory=list)


def lock_moment(source: DependencySource, now: datetime) -> LockMoment:
    """The best evidence of when ``source`` was locked.

    uv before 0.9.17 wrote the moment a relative ``exclude-newer`` was applied
    (cutoff plus span); later versions write a ``0001-01-01`` placeholder
    (read as no cutoff), so the lock's commit time is the evidence.
    """
    if source.exclude_newer is not None and source.exclude_newer_span is not None:
        when = source.exclude_newer + source.exclude_newer_span
        return LockMoment(when, f"uv exclude-newer cutoff {_date(source.exclude_newer)} + span")
    moment = _lock_moment(source, now)
    if source.exclude_newer_span is not None:
        relative = f"relative exclude-newer-span of {_span(source.exclude_newer_span)}"
        return replace(moment, basis=f"{moment.basis}, uv.lock with a {relative}")
    return moment


def _lock_moment(source: DependencySource, now: datetime) -> LockMoment:
    if source.format is SourceFormat.ENVIRONMENT:
        return LockMoment(now, "now (an installed environment)")
    history = file_history(source.path)
    if history is None:
        return LockMoment(now, "now (the file is not in a git repository)")
    if not history.unmodified:
        return LockMoment(now, "now (changed since its last commit)", history.last_commit)
    return LockMoment(
        history.committed_at,
        f"committed {_date(history.committed_at)} in {history.last_commit[:10]}",
        history.previous_commit,
    )


def previous_lock(source: DependencySource, commit: str | None) -> dict[str, LockedPackage]:
    """The packages of ``source`` as of ``commit`` (empty when unknown or unreadable)."""
    if commit is None:
        return {}
    reader = reader_for(source.path)
    data = file_at(source.path, commit)
    if reader is None or data is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="bastion-previous-") as folder:
        copy = Path(folder) / source.path.name
        copy.write_bytes(data)
        try:
            old = reader(copy)
        except BastionError:
            return {}
    return {p.name: p for p in old.packages}


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return f"{_span(-delta)} after"
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    if days:
        return f"{days} day{'s' * (days != 1)} {hours} h" if hours else f"{days} days"
    return f"{hours} h" if hours else f"{rest // 60} min"


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def suggestion(page: ProjectPage | None, locked: str, old_enough: datetime) -> str | None:
    """The newest release uploaded before ``old_enough`` (finals unless ``locked`` is a pre)."""
    if page is None:
        return None
    current = _version(locked)
    allow_pre = current is not None and current.is_prerelease
    best: tuple[Version, str] | None = None
    for release in page.releases.values():
        parsed = _version(release.version)
        if (
            parsed is None
            or release.yanked
            or release.uploaded is None
            or release.uploaded > old_enough
            or (parsed.is_prerelease and not allow_pre)
        ):
            continue
        if best is None or parsed > best[0]:
            best = (parsed, release.version)
    return best[1] if best else None


class CooldownControl:
    """Every locked artifact's age when the lock was made."""

    id = CONTROL
    title = "Release-age cooldown"
    threats: tuple[str, ...] = ("compromised-release",)

    def __init__(
        self,
        db_path: Path | None = None,
        now: datetime | None = None,
        client: Callable[[], IndexClient] | None = None,
    ) -> None:
        self.db_path = db_path
        self.now = now
        self.client = client  # set with --online

    def run(self, project: Project) -> ControlResult:
        """Find young artifacts, exempt security fixes, suggest older versions."""
        now = self.now or datetime.now(UTC)
        window = timedelta(days=project.config.cooldown_days)
        packages = [
            (source, package)
            for source in project.inputs.sources
            for package in source.packages
            if package.source_kind is SourceKind.REGISTRY and package.version
        ]
        if not packages:
            return not_configured(self, "no pinned packages from an index")
        cutoffs = installer_cutoffs(project.root)
        enforcing = [c for c in cutoffs if c.enforced_age(now) >= window]
        installer_notes = _installer_notes(project.root, cutoffs, enforcing, now, window)
        enforced = True if enforcing else None
        pages: dict[tuple[str, str], ProjectPage] = {}
        public = project.config.public_index
        if self.client is not None:
            try:
                pages = self._pages(packages, public, now, window)
            except DownloadError as exc:
                detail = f"cannot read upload times from the index: {exc}"
                return ControlResult(CONTROL, ControlStatus.ERROR, self.threats, (), detail)
        moments: dict[Path, LockMoment] = {}
        young: list[_Young] = []
        timed = untimed = 0
        for source, package in packages:
            uploaded = package.upload_time or _page_upload(pages, package, public)
            if uploaded is None:
                untimed += 1
                continue
            timed += 1
            if source.path not in moments:
                moments[source.path] = lock_moment(source, now)
            moment = moments[source.path]
            if moment.when - uploaded < window:
                young.append(_Young(source, package, uploaded, moment))
        if not timed:
            missing = (
                f"no upload times for {untimed} packages: these inputs do not record them "
                "(uv.lock and pylock.toml do); use --online to read them from the index"
            )
            if enforcing:  # the installer holds young releases back even so
                detail = "; ".join([*installer_notes, f"lock not checked: {missing}"])
                return ControlResult(
                    CONTROL, ControlStatus.PASS, self.threats, (), detail, enforced=True
                )
            return not_configured(self, "; ".join([missing, *installer_notes]))
        exempted = _exempted(young)
        findings = self._judge(young, pages, public, now, window, project.config.cooldown_days)
        findings = [_with_exemption(f, exempted) for f in findings]
        notes = [f"{timed} packages checked against a {project.config.cooldown_days}-day cooldown"]
        bases = sorted({f"{p.name}: {m.basis}" for p, m in moments.items()})
        notes.append("lock time " + "; ".join(bases))
        notes += installer_notes
        if untimed:
            notes.append(f"{untimed} packages without upload times (use --online)")
        status = (
            ControlStatus.FAIL
            if any(f.severity > Severity.INFO for f in findings)
            else (ControlStatus.PASS)
        )
        return ControlResult(
            CONTROL, status, self.threats, tuple(findings), "; ".join(notes), enforced=enforced
        )

    def _pages(
        self,
        packages: list[tuple[DependencySource, LockedPackage]],
        public: str,
        now: datetime,
        window: timedelta,
    ) -> dict[tuple[str, str], ProjectPage]:
        """Pages for packages without upload times, and for young ones (for a suggestion)."""
        assert self.client is not None  # noqa: S101 - checked by the caller
        wanted = {
            (package.source or public, package.name)
            for _, package in packages
            if package.upload_time is None or now - package.upload_time < window * 2
        }
        return self.client().pages(wanted)

    def _judge(
        self,
        young: list[_Young],
        pages: dict[tuple[str, str], ProjectPage],
        public: str,
        now: datetime,
        window: timedelta,
        days: int,
    ) -> list[Finding]:
        if not young:
            return []
        with self._advisories() as index:
            findings = []
            previous: dict[tuple[Path, str | None], dict[str, LockedPackage]] = {}
            for item in young:
                key = (item.source.path, item.moment.previous_commit)
                if key not in previous:
                    previous[key] = previous_lock(item.source, item.moment.previous_commit)
                before = previous[key].get(item.package.name)
                earlier = before.version if before and before.version else None
                if earlier == item.package.version:
                    earlier = None
                fixes = fixed_by(index, item.package.name, item.package.version or "", earlier)
                if index is not None and fixes:
                    findings.append(_exemption(item, sorted({a.id for a in fixes}), earlier))
                else:
                    findings.append(_young_finding(item, before, pages, public, now, window, days))
        return findings

    @contextmanager
    def _advisories(self) -> Iterator[AdvisoryIndex | None]:
        """The advisory index for exemptions; ``None`` (no exemptions) when unavailable."""
        path = self.db_path or default_db_path()
        try:
            if self.db_path is None:
                ensure_database(path)
            db = open_database(path)
        except BastionError:
            yield None
            return
        with closing(db):
            yield AdvisoryIndex(db)


def _installer_notes(
    root: Path,
    cutoffs: list[InstallerCutoff],
    enforcing: list[InstallerCutoff],
    now: datetime,
    window: timedelta,
) -> list[str]:
    """What the project's installer settings enforce, and which fall short of the cooldown."""
    notes = []
    if enforcing:
        shown = ", ".join(c.describe(root) for c in enforcing[:3])
        notes.append(f"enforced at install time by {shown}")
        exempt = sorted({name for c in enforcing for name in c.exempt})
        if exempt:
            names = ", ".join(exempt[:8]) + (
                f" and {len(exempt) - 8} more" if len(exempt) > 8 else ""
            )
            notes.append(f"not held back by the installer (exclude-newer-package): {names}")
    for cutoff in cutoffs:
        if cutoff not in enforcing:
            age = _span(cutoff.enforced_age(now))
            notes.append(
                f"{cutoff.describe(root)} holds back only {age}, less than the "
                f"{_span(window)} cooldown: not counted"
            )
    return notes


def _exempted(young: list[_Young]) -> set[tuple[Path, str]]:
    """(lockfile, package) pairs that uv.lock's exclude-newer-package sets to ``false``."""
    exempted: set[tuple[Path, str]] = set()
    options: dict[Path, UvLockOptions | None] = {}
    for item in young:
        path = item.source.path
        if item.source.format is not SourceFormat.UV_LOCK:
            continue
        if path not in options:
            try:
                options[path] = lock_options(path)
            except BastionError:
                options[path] = None
        found = options[path]
        name = item.package.name
        if found is not None and name in found.per_package and found.per_package[name] is None:
            exempted.add((path, name))
    return exempted


def _with_exemption(finding: Finding, exempted: set[tuple[Path, str]]) -> Finding:
    location = finding.location
    if location is None or (location.path, finding.package or "") not in exempted:
        return finding
    note = "; uv.lock exempts it from exclude-newer (exclude-newer-package = false)"
    return replace(finding, message=finding.message + note)


def _page_upload(
    pages: dict[tuple[str, str], ProjectPage], package: LockedPackage, public: str
) -> datetime | None:
    page = pages.get((package.source or public, package.name))
    release = page.release(package.version or "") if page else None
    return release.uploaded if release else None


def _exemption(item: _Young, fixes: list[str], before: str | None) -> Finding:
    package = item.package
    shown = ", ".join(fixes[:3]) + (f" and {len(fixes) - 3} more" if len(fixes) > 3 else "")
    of = f"the previously locked {before}" if before else "earlier versions"
    return Finding(
        rule_id="cooldown-security-exemption",
        severity=Severity.INFO,
        threat="compromised-release",
        control=CONTROL,
        message=(
            f"{package.name} {package.version} was {_span(item.moment.when - item.uploaded)} old "
            f"at lock time, allowed: it fixes {shown} affecting {of}"
        ),
        location=package.location,
        remediation="none: a security fix is worth taking early; review the release diff",
        package=package.name,
        version=package.version,
        aliases=tuple(fixes),
    )


def _young_finding(
    item: _Young,
    before: LockedPackage | None,
    pages: dict[tuple[str, str], ProjectPage],
    public: str,
    now: datetime,
    window: timedelta,
    days: int,
) -> Finding:
    package = item.package
    age_at_lock = item.moment.when - item.uploaded
    age_now = now - item.uploaded
    still_young = age_now < window
    message = (
        f"{package.name} {package.version} was uploaded {_span(age_at_lock)} before the lock "
        f"(lock time: {item.moment.basis}; cooldown {days} days)"
    )
    if age_at_lock < timedelta(0):
        message = (
            f"{package.name} {package.version} was uploaded {_span(-age_at_lock)} after the "
            f"lock time ({item.moment.basis}): an artifact was added or the lock is newer"
        )
    message += "; still inside the cooldown" if still_young else f"; now {_span(age_now)} old"
    old_enough = now - window
    suggested = suggestion(
        pages.get((package.source or public, package.name)), package.version or "", old_enough
    )
    if (
        suggested is None
        and before is not None
        and before.upload_time is not None
        and before.upload_time <= old_enough
        and before.version != package.version
    ):
        suggested = before.version
    if suggested:
        advice = f"lock {package.name}=={suggested} (uploaded before {old_enough.date()})"
    elif still_young:
        advice = "re-lock once it is older, or review the release and waive it"
    else:
        advice = "it has aged past the cooldown since: re-locking now records that"

    settings = (
        f'uv: exclude-newer = "{days} days" under [tool.uv]; pip: --uploaded-prior-to P{days}D'
    )
    return Finding(
        rule_id="young-release",
        severity=Severity.MEDIUM if still_young else Severity.LOW,
        threat="compromised-release",
        control=CONTROL,
        message=message,
        location=package.location,
        remediation=f"{advice}; to enforce the cooldown when locking, {settings}",
        package=package.name,
        version=package.version,
    )
