"""Build artifacts handed between the jobs of one workflow run.

A job that restores a cache, builds and uploads an artifact which a release job
downloads ships whatever the cache held, just as if the release job had
restored the cache itself (aiohttp ``ci-cd.yml``: ``gen-llhttp`` restores a
cache and uploads ``llhttp``; ``build-pure-python-dists`` builds ``dist-pure``
with it; ``deploy`` publishes ``dist-*``). Artifacts are shared by every job
of a run, the jobs of called reusable workflows included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from bastion._internal.workflows.flow import JobRun, Site

MAX_HOPS = 4
DEFAULT_NAME = "artifact"  # upload-artifact's default name
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)


@dataclass(frozen=True, slots=True)
class Source:
    """A job up the artifact chain that restores a cache, and the way there."""

    run: JobRun
    route: tuple[str, ...]  # e.g. ("'dist-*' from job 'build'", "'llhttp' from job 'gen'")


def _step_of(site: Site, action: str) -> bool:
    uses = site.step.uses_ref
    return uses is not None and uses.slug == "actions/" + action


def uploads(run: JobRun) -> list[str]:
    """The names of the artifacts the job uploads (expressions become ``*``)."""
    names = []
    for site in run.sites:
        if _step_of(site, "upload-artifact"):
            text = site.step.with_.get("name")
            value = " ".join(text.value.split()) if text is not None else DEFAULT_NAME
            names.append(_EXPRESSION.sub("*", value).replace(" ", ""))
    return names


def downloads(run: JobRun) -> list[str]:
    """The names or patterns of the artifacts the job downloads (``*``: every one)."""
    wanted = []
    for site in run.sites:
        if _step_of(site, "download-artifact"):
            given = site.step.with_.get("name") or site.step.with_.get("pattern")
            value = given.value.strip() if given is not None else "*"
            wanted.append(_EXPRESSION.sub("*", value) or "*")
    return wanted


def _matches(pattern: str, name: str) -> bool:
    """Whether an upload named ``name`` (its ``*`` unknown) can match ``pattern``."""
    if fnmatchcase(name, pattern) or fnmatchcase(pattern, name):
        return True
    literal = name.split("*", 1)[0]
    return "*" in name and fnmatchcase(literal + "x", pattern.split("*", 1)[0] + "*")


def sources(
    release: JobRun, runs: list[JobRun], restores: Callable[[JobRun], bool]
) -> Iterator[Source]:
    """Jobs of the same workflow run whose artifacts reach ``release`` and that restore a cache."""
    family = [r for r in runs if r.caller.path == release.caller.path and r is not release]
    seen: set[int] = {id(release)}
    frontier: list[tuple[JobRun, tuple[str, ...]]] = [(release, ())]
    for _ in range(MAX_HOPS):
        following: list[tuple[JobRun, tuple[str, ...]]] = []
        for consumer, route in frontier:
            for pattern in downloads(consumer):
                for producer in family:
                    if id(producer) in seen:
                        continue
                    names = [n for n in uploads(producer) if _matches(pattern, n)]
                    if not names:
                        continue
                    seen.add(id(producer))
                    hop = (*route, f"artifact {names[0]!r} from job {producer.job.id!r}")
                    if restores(producer):
                        yield Source(producer, hop)
                    following.append((producer, hop))
        frontier = following
        if not frontier:
            return
