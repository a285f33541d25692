"""Which files of a project page are served, and why: applied per answer, never at ingest.

Project level, in order: a PEP 792 ``quarantined`` project, a block or
denylist entry for the whole name, allowlist-only mode, a malicious-package
record for every version, a look-alike name (unless approved or exempted).

File level, in order: a block or denylist specifier that covers the version;
a known-malicious version (no exemption overrides malware); a live exemption
of the project or of this exact version (served); the absolute cutoff date; a
missing upload time (hidden unless the upstream is trusted: fail closed); the
minimum age, except for a security early release: a young version newer than
the newest version already served that is not affected by an advisory that
affects that newest version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bastion._internal.proxy.intel import Intel
from bastion._internal.proxy.model import Decision, IndexFile, ProjectPage
from bastion._internal.proxy.state import BLOCK, EXEMPT, Rule

DEFAULT_MIN_AGE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Policy:
    """The configured policy (rules from the state database come on top)."""

    min_age: timedelta = DEFAULT_MIN_AGE
    cutoff: datetime | None = None  # nothing uploaded after this is served
    trusted_upstream: bool = False  # serve files without an upload time
    denylist: tuple[tuple[str, str], ...] = ()  # (canonical name, specifier or "")
    allowlist: frozenset[str] | None = None  # allowlist-only mode when set
    early_release: bool = True
    judge_names: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decisions for one project page: refused as a whole, or per file."""

    refused: Decision | None
    files: tuple[tuple[IndexFile, Decision], ...] = field(default=())

    def served(self) -> tuple[IndexFile, ...]:
        """The files that are served."""
        return tuple(item for item, decision in self.files if decision.served)

    def decision(self, filename: str) -> Decision | None:
        """The decision about one file; the project's refusal when refused; None if unknown."""
        for item, decision in self.files:
            if item.filename == filename:
                return decision
        return None


def _covers(spec: str, version: str | None) -> bool:
    if not spec:
        return True
    if version is None:
        return True  # a version we cannot read cannot be shown to be outside the block
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


def _same_version(a: str, b: str | None) -> bool:
    if b is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:g} day" + ("" if days == 1 else "s")


def judge(
    page: ProjectPage,
    policy: Policy,
    rules: tuple[Rule, ...],
    intel: Intel,
    now: datetime,
) -> Verdict:
    """Decide every file of the page (``rules``: the state's rules; expired ones are ignored)."""
    name = page.name
    live = [r for r in rules if r.name == name and r.live(now)]
    exemptions = [r for r in live if r.kind == EXEMPT]
    blocks = [(r.spec, f"blocked: {r.reason}") for r in live if r.kind == BLOCK]
    blocks += [(spec, "on the denylist") for listed, spec in policy.denylist if listed == name]
    project_exempt = next((r for r in exemptions if not r.spec), None)

    refused = _refuse_project(page, policy, blocks, project_exempt, intel)
    if refused is not None:
        return Verdict(refused, tuple((item, refused) for item in page.files))

    decided: list[tuple[IndexFile, Decision | None]] = []
    for item in page.files:
        decided.append((item, _judge_file(name, item, policy, blocks, exemptions, intel, now)))

    # Security early release: young versions that fix what the newest served version suffers.
    served_versions = [
        Version(item.version or "")
        for item, decision in decided
        if decision is not None and decision.served and _parses(item.version)
    ]
    newest = str(max(served_versions)) if served_versions else None
    final: list[tuple[IndexFile, Decision]] = []
    for item, decision in decided:
        if decision is None:  # young: held back unless released early
            decision = _young(name, item, policy, intel, newest, now)
        final.append((item, decision))
    return Verdict(None, tuple(final))


def valid_until(
    page: ProjectPage, policy: Policy, rules: tuple[Rule, ...], now: datetime
) -> datetime:
    """Until when ``judge`` gives the same verdict for this page and these rules.

    Decisions change with time only when a file becomes old enough or a rule
    expires; anything else (the page, the rules, the settings) is a new input.
    """
    moments = [
        item.upload_time + policy.min_age
        for item in page.files
        if item.upload_time is not None and item.upload_time + policy.min_age > now
    ]
    moments += [
        r.expires_at
        for r in rules
        if r.name == page.name and r.expires_at is not None and r.expires_at > now
    ]
    return min(moments, default=datetime.max.replace(tzinfo=now.tzinfo))


def _parses(version: str | None) -> bool:
    try:
        Version(version or "")
    except InvalidVersion:
        return False
    return True


def _refuse_project(
    page: ProjectPage,
    policy: Policy,
    blocks: list[tuple[str, str]],
    project_exempt: Rule | None,
    intel: Intel,
) -> Decision | None:
    name = page.name
    if page.status == "quarantined":
        why = f": {page.status_reason}" if page.status_reason else ""
        return Decision(False, f"{name} is quarantined upstream (PEP 792){why}", "quarantined")
    for spec, why in blocks:
        if not spec:
            return Decision(False, f"{name} is {why}", "blocked")
    whole = intel.malicious(name, None)
    if whole is not None:
        return Decision(False, f"{name} is known malware ({whole.id})", "malicious")
    if project_exempt is not None:
        return None
    if policy.allowlist is not None and name not in policy.allowlist:
        return Decision(False, f"{name} is not on the allowlist (allowlist-only mode)", "allowlist")
    if policy.judge_names:
        found = intel.lookalike(name)
        if found is not None:
            return Decision(
                False,
                f"{name} looks like {found.imitates} ({found.transformation}, confidence "
                f"{found.confidence:.2f}); approve it with 'bastion names approve' or "
                "'bastion proxy exempt'",
                "lookalike",
            )
    return None


def _judge_file(
    name: str,
    item: IndexFile,
    policy: Policy,
    blocks: list[tuple[str, str]],
    exemptions: list[Rule],
    intel: Intel,
    now: datetime,
) -> Decision | None:
    """The decision, or None for a file that is only too young (see early release)."""
    label = item.filename
    for spec, why in blocks:
        if spec and _covers(spec, item.version):
            return Decision(False, f"{label}: {name} {item.version} is {why} ({spec})", "blocked")
    bad = intel.malicious(name, item.version)
    if bad is not None:
        return Decision(
            False, f"{label}: {name} {item.version} is known malware ({bad.id})", "malicious"
        )
    for rule in exemptions:
        if not rule.spec or _same_version(rule.spec, item.version):
            until = f" until {rule.expires_at:%Y-%m-%d %H:%M} UTC" if rule.expires_at else ""
            return Decision(
                True, f"{label}: exempted ({rule.label()}{until}): {rule.reason}", "exempt"
            )
    uploaded = item.upload_time
    if uploaded is None:
        if policy.trusted_upstream:
            return Decision(True, f"{label}: no upload time; upstream trusted", "trusted")
        return Decision(
            False,
            f"{label}: upstream gives no upload time, so its age is unknown (fail closed)",
            "no-upload-time",
        )
    if policy.cutoff is not None and uploaded > policy.cutoff:
        return Decision(
            False,
            f"{label}: uploaded {uploaded:%Y-%m-%d %H:%M} UTC, after the cutoff "
            f"{policy.cutoff:%Y-%m-%d %H:%M} UTC",
            "cutoff",
        )
    if now - uploaded >= policy.min_age:
        return Decision(
            True, f"{label}: uploaded {_age((now - uploaded).total_seconds())} ago", "age"
        )
    return None


def _young(
    name: str,
    item: IndexFile,
    policy: Policy,
    intel: Intel,
    newest: str | None,
    now: datetime,
) -> Decision:
    uploaded = item.upload_time
    assert uploaded is not None  # noqa: S101 - only files with a time are young
    age = _age(max(0.0, (now - uploaded).total_seconds()))
    version = item.version or ""
    if (
        policy.early_release
        and newest is not None
        and _parses(version)
        and Version(version) > Version(newest)
    ):
        fixed = intel.fixes(name, newest, version)
        if fixed is not None:
            return Decision(
                True,
                f"{item.filename}: security early release: uploaded {age} ago, fixes "
                f"{fixed.id}, which affects {newest}",
                "early-release",
            )
    ready = uploaded + policy.min_age
    return Decision(
        False,
        f"{item.filename}: uploaded {age} ago, younger than min-age {_days(policy.min_age)}; "
        f"served from {ready:%Y-%m-%d %H:%M} UTC",
        "age",
    )
