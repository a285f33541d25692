"""The release path: long-lived PyPI tokens, caches restored in release jobs, and the chain.

The chain is the Ultralytics compromise as one finding: a privileged trigger
where outside input becomes code (an injected expression, or the pull
request's code checked out and run) can write the repository's Actions cache,
because any job holds a runtime token that saves cache entries; a job that
builds or publishes a release and restores a cache then ships what the
attacker put there.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.model import Confidence, Finding, Severity
from bastion._internal.safe_read import read_text
from bastion._internal.workflows import artifacts
from bastion._internal.workflows.flow import JobRun, Site
from bastion._internal.workflows.injection import ExecutionPoint
from bastion._internal.workflows.model import is_commit_sha
from bastion._internal.workflows.rules import finding

PYPI_PUBLISH_ACTION = "pypa/gh-action-pypi-publish"
TOKEN_VARIABLES = re.compile(
    r"\b(TWINE_PASSWORD|UV_PUBLISH_TOKEN|UV_PUBLISH_PASSWORD|POETRY_PYPI_TOKEN_[A-Z0-9_]+|"
    r"FLIT_PASSWORD|HATCH_INDEX_AUTH|PDM_PUBLISH_PASSWORD|PYPI_API_TOKEN|PYPI_TOKEN)\b"
)
TOKEN_FLAGS = re.compile(
    r"\b(twine\s+upload|uv\s+publish|poetry\s+publish|flit\s+publish|hatch\s+publish|"
    r"pdm\s+publish)\b[^\n]*\s(-p|--password|--token|-u\s+__token__|--username\s+__token__)\b"
)
PUBLISH_COMMAND = re.compile(
    r"\b(twine\s+upload|uv\s+publish|poetry\s+publish|flit\s+publish|hatch\s+publish|"
    r"pdm\s+publish|gh\s+release\s+(create|upload)|npm\s+publish|docker\s+push)\b"
)
BUILD_COMMAND = re.compile(
    r"\b(python3?\s+-m\s+build|uv\s+build|pip\s+wheel|hatch\s+build|poetry\s+build|"
    r"pdm\s+build|flit\s+build|cibuildwheel)\b"
)
RELEASE_ACTIONS = frozenset(
    {PYPI_PUBLISH_ACTION, "softprops/action-gh-release", "actions/upload-release-asset"}
)
# setup actions that restore a cache without being asked: slug -> (input, first major version)
CACHE_BY_DEFAULT = {
    "actions/setup-go": ("cache", 4),
    "astral-sh/setup-uv": ("enable-cache", 5),
    "actions/setup-node": ("package-manager-cache", 5),
}
_MAJOR = re.compile(r"^v?(\d+)")


def _major(ref: str) -> int | None:
    """The major version a tag names (``None`` for a SHA or a branch: assume the newest)."""
    match = _MAJOR.match(ref)
    return int(match.group(1)) if match is not None and not is_commit_sha(ref) else None


# a repository file a command runs, whatever its name: ./scripts/publish, bash scripts/x,
# python tools/y, scripts/release.sh
_SCRIPT_CALL = re.compile(
    r"(?:^|[\s;&|(\"'])(?:(?:bash|sh|zsh|python3?|node|ruby|perl)\s+)?"
    r"((?:\./)?[\w.-]+/[\w./-]+|\./[\w.-]+|[\w.-]+\.(?:sh|py))(?=$|[\s;&|)\"'])"
)
MAX_SCRIPT_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CacheStep:
    """A step that restores (and saves) a cache."""

    site: Site
    what: str


def cache_steps(run: JobRun) -> list[CacheStep]:
    """The steps of a job that restore a cache."""
    found = []
    for site in run.sites:
        uses = site.step.uses_ref
        if uses is None:
            continue
        with_ = site.step.with_
        slug = uses.slug
        path = uses.subpath
        if slug == "actions/cache" and path in ("", "restore"):
            found.append(CacheStep(site, f"{uses.raw}"))
        elif slug in ("actions/setup-python", "actions/setup-java"):
            if "cache" in with_ and with_["cache"].value.strip():
                found.append(CacheStep(site, f"{uses.raw} with cache: {with_['cache'].value}"))
        elif slug in CACHE_BY_DEFAULT:
            input_name, since = CACHE_BY_DEFAULT[slug]
            value = with_.get(input_name)
            if value is not None:
                if value.value.strip().lower() not in ("false", ""):
                    found.append(CacheStep(site, f"{uses.raw} with {input_name}: {value.value}"))
            elif _major(uses.ref) is None or (_major(uses.ref) or 0) >= since:
                found.append(CacheStep(site, f"{uses.raw} (caches by default from v{since})"))
        elif slug == "swatinem/rust-cache":
            found.append(CacheStep(site, uses.raw))
    return found


def release_point(run: JobRun) -> Site | None:
    """The step that publishes (or, in a release-triggered workflow, builds) a release."""
    for site in run.sites:
        uses = site.step.uses_ref
        if uses is not None and uses.slug in RELEASE_ACTIONS:
            return site
        if site.step.run is not None and PUBLISH_COMMAND.search(site.step.run.value):
            return site
    if _release_triggered(run):
        for site in run.sites:
            if site.step.run is not None and BUILD_COMMAND.search(site.step.run.value):
                return site
    return None


def _release_triggered(run: JobRun) -> bool:
    triggers = run.triggers
    if "release" in triggers:
        return True
    push = triggers.get("push")
    return isinstance(push, dict) and "tags" in push and "branches" not in push


def cache_poisoning(runs: list[JobRun], points: list[ExecutionPoint]) -> list[Finding]:
    """Caches restored in release jobs; one chain finding when a privileged writer exists."""
    findings = []
    writers = _Writers(runs, points)
    same_workflow: dict[Path, list[JobRun]] = {}  # artifacts travel within one workflow run
    for run in runs:
        same_workflow.setdefault(run.caller.path, []).append(run)
    for run in runs:
        release = release_point(run)
        if release is None:
            continue
        caches = cache_steps(run)
        if not caches:
            family = same_workflow[run.caller.path]
            findings.extend(_through_artifacts(run, family, release, writers))
            continue
        if points:
            writer, saved = _best_writer(writers.all(), caches[0])
            findings.append(_chain(writer, saved, caches[0], release))
            continue
        for cache in caches:
            findings.append(
                finding(
                    "cache-poisoning",
                    cache.site.display,
                    cache.site.step.line,
                    f"release job {run.job.id!r} restores a cache ({cache.what}) before "
                    f"{release.step.label}: an entry written by any other workflow run ships "
                    "in the release",
                    confidence=Confidence.MEDIUM,
                )
            )
    return findings


class _Writers:
    """Each execution point with the caches its job saves, worked out when first asked for.

    Most repositories have no release job that restores a cache: then the index of
    every site (one entry per step of every run) is never built.
    """

    def __init__(self, runs: list[JobRun], points: list[ExecutionPoint]) -> None:
        self.runs = runs
        self.points = points
        self.found: list[tuple[ExecutionPoint, list[CacheStep]]] | None = None

    def __bool__(self) -> bool:
        return bool(self.points)

    def all(self) -> list[tuple[ExecutionPoint, list[CacheStep]]]:
        if self.found is None:
            runs = self.runs
            wanted = {id(point.site) for point in self.points}
            where: dict[int, tuple[JobRun, int]] = {}
            for run in runs:
                for index, site in enumerate(run.sites):
                    if id(site) in wanted:
                        where[id(site)] = (run, index)
            self.found = [(point, _saved(runs, point, where)) for point in self.points]
        return self.found


def _through_artifacts(
    run: JobRun,
    runs: list[JobRun],
    release: Site,
    writers: _Writers,
) -> list[Finding]:
    """Caches restored by jobs whose artifacts the release job ships."""
    findings = []
    for source in artifacts.sources(run, runs, lambda r: bool(cache_steps(r))):
        cache = cache_steps(source.run)[0]
        route = " <- ".join(source.route)
        if writers:
            writer, saved = _best_writer(writers.all(), cache)
            findings.append(_chain(writer, saved, cache, release, route))
            continue
        findings.append(
            finding(
                "cache-poisoning",
                cache.site.display,
                cache.site.step.line,
                f"job {source.run.job.id!r} restores a cache ({cache.what}) and its build "
                f"reaches release job {run.job.id!r} ({route}) before {release.step.label}: "
                "an entry written by any other workflow run ships in the release",
                confidence=Confidence.MEDIUM,
            )
        )
    return findings


def _saved(
    runs: list[JobRun], point: ExecutionPoint, where: dict[int, tuple[JobRun, int]]
) -> list[CacheStep]:
    """The caches the job of ``point`` saves after the untrusted code ran.

    ``where`` maps each point's site (by identity) to its run and position: searching
    every run's sites by equality for every point grew with the square of the workflows.
    """
    found = where.get(id(point.site))
    if found is None:  # an equal site built apart: the slow search, never a wrong answer
        run = next((r for r in runs if point.site in r.sites), None)
        if run is None:
            return []
        found = (run, run.sites.index(point.site))
    run, after = found

    positions = {id(site): index for index, site in enumerate(run.sites)}

    def position(site: Site) -> int:
        hit = positions.get(id(site))
        return hit if hit is not None else run.sites.index(site)

    caches = cache_steps(run)
    return [c for c in caches if position(c.site) >= after] or caches


def _best_writer(
    writers: list[tuple[ExecutionPoint, list[CacheStep]]], restored: CacheStep
) -> tuple[ExecutionPoint, list[CacheStep]]:
    """The writer whose job saves the same kind of cache, else one that saves any, else any."""
    kind = _cache_kind(restored)
    for point, saved in writers:
        same = [c for c in saved if _cache_kind(c) == kind]
        if same:
            return point, same
    return next(((p, s) for p, s in writers if s), writers[0])


def _cache_kind(cache: CacheStep) -> str:
    uses = cache.site.step.uses_ref
    return uses.slug if uses is not None else ""


def _chain(
    writer: ExecutionPoint,
    saved: list[CacheStep],
    cache: CacheStep,
    release: Site,
    route: str = "",
) -> Finding:
    site = writer.site
    trigger_workflow = site.workflow.path
    links = [
        f"trigger: {', '.join(writer.triggers or _privileged(site))} "
        f"({trigger_workflow.as_posix()})",
        f"untrusted code runs: {writer.what} ({site.display.as_posix()}:{writer.line})",
        _writer_cache(site, saved),
        f"cache restored: {cache.what} ({cache.site.display.as_posix()}:{cache.site.step.line})",
        *([f"handed over as {route}"] if route else []),
        f"release: {release.step.label} ({release.display.as_posix()}:{release.step.line})",
    ]
    message = "cache-poisoning chain: " + " -> ".join(links)
    return finding(
        "cache-poisoning",
        cache.site.display,
        cache.site.step.line,
        message,
        severity=Severity.CRITICAL,
        references=tuple(links),
        remediation="remove the injection point (pass event data through env:), stop "
        "running pull request code under privileged triggers, and do not restore caches "
        "in release jobs",
    )


def _privileged(site: Site) -> list[str]:
    return [t for t in site.workflow.privileged_triggers] or ["privileged trigger"]


def _writer_cache(site: Site, saved: list[CacheStep]) -> str:
    if saved:
        first = saved[0]
        return (
            f"cache written: {first.what} saves an entry after the untrusted code ran "
            f"({first.site.display.as_posix()}:{first.site.step.line})"
        )
    return (
        "cache written: any step of that job can save entries with its runtime token "
        f"(job {site.job.id!r})"
    )


def trusted_publishing(run: JobRun, root: Path) -> list[Finding]:
    """PyPI tokens handed to an upload: the token outlives the workflow that leaked it."""
    findings: list[Finding] = []
    permissions = run.permissions
    oidc = permissions is not None and permissions.grants("id-token")
    severity = Severity.HIGH if oidc else Severity.MEDIUM
    beside = " beside id-token: write (trusted publishing is already possible)" if oidc else ""
    reported: set[tuple[str, int]] = set()

    def add(site_display: Path, line: int, what: str) -> None:
        if (site_display.as_posix(), line) in reported:
            return
        reported.add((site_display.as_posix(), line))
        findings.append(
            finding(
                "use-trusted-publishing",
                site_display,
                line,
                f"{what}{beside}; a leaked token keeps publishing after the workflow is fixed",
                severity=severity,
            )
        )

    for name, text in run.job.env.items():
        if TOKEN_VARIABLES.fullmatch(name) and "secrets." in text.value:
            add(run.display, text.line, f"job {run.job.id!r} exports a PyPI token as {name}")
    for site in run.sites:
        step = site.step
        uses = step.uses_ref
        if uses is not None and uses.slug == PYPI_PUBLISH_ACTION and "password" in step.with_:
            add(site.display, step.with_["password"].line, f"{step.label} passes password:")
        for name, text in step.env.items():
            if TOKEN_VARIABLES.fullmatch(name) and "${{" in text.value:
                add(site.display, text.line, f"{step.label} sets {name} from {text.value.strip()}")
        if step.run is None:
            continue
        match = TOKEN_FLAGS.search(step.run.value)
        if match is not None:
            line, _ = step.run.position(match.start())
            add(site.display, line, f"{step.label} passes a token to {match.group(1)}")
        script = _repository_script_with_token(step.run.value, root) if _secrets(site) else None
        if script is not None:
            add(
                site.display,
                step.run.line,
                f"{step.label} runs {script}, which uploads with a token variable",
            )
    return findings


def _secrets(site: Site) -> bool:
    """The step sees a secret in its environment (step, job or workflow ``env:``)."""
    return any(
        "secrets." in text.value
        for scope in (site.step.env, site.job.env, site.workflow.env)
        for text in scope.values()
    )


def _repository_script_with_token(command: str, root: Path) -> str | None:
    """A repository script the step runs that reads a PyPI token variable (read, never run)."""
    for match in _SCRIPT_CALL.finditer(command):
        relative = match.group(1)
        try:
            parts = shlex.split(relative)
        except ValueError:
            continue
        if not parts:
            continue
        path = (root / parts[0]).resolve()
        try:
            path.relative_to(root.resolve())
        except ValueError:
            continue
        if not path.is_file():
            continue
        try:
            text = read_text(path, limit=MAX_SCRIPT_BYTES)
        except InputError:
            continue
        if TOKEN_VARIABLES.search(text) or TOKEN_FLAGS.search(text):
            return relative
    return None
