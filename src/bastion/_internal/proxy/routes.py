"""Where a project's installs get their packages: every index a setting names, and where.

Read offline from what the repository holds: requirement files
(``--index-url``, ``--extra-index-url``, as the readers keep them), uv and
Poetry settings in pyproject.toml, ``uv.toml``, a ``pip.conf``/``pip.ini`` at
the root, and the GitHub Actions workflows (``PIP_INDEX_URL``,
``UV_INDEX_URL``, ``UV_DEFAULT_INDEX`` and their extra-index variables in
``env:``, and ``--index-url``/``--extra-index-url``/``--default-index``/
``--index`` on install command lines). The quarantine-index control compares
them with the configured quarantine indexes.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bastion._internal.controls.base import Project
from bastion._internal.errors import BastionError
from bastion._internal.model import Location
from bastion._internal.safe_read import read_text

PRIMARY_VARIABLES = frozenset({"PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"})
EXTRA_VARIABLES = frozenset({"PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX"})
PIP_CONFIGS = ("pip.conf", "pip.ini", ".pip/pip.conf", ".config/pip/pip.conf")
_OPTION = re.compile(
    r"(?P<option>--index-url|--default-index|--extra-index-url|--index|(?<=\s)-i)"
    r"(?:=|[ \t]+)['\"]?(?P<url>[^\s'\"]+)"
)
_SEPARATOR = re.compile(r"\n|;|&&|\|\||\|")
_INSTALLER = re.compile(r"\b(pip3?|uv|poetry|pdm|pipenv)\b")


@dataclass(frozen=True, slots=True)
class Route:
    """An index some install setting points at."""

    url: str  # as written (trailing slash removed)
    primary: bool  # replaces the default index (else: searched besides it)
    via: str  # the setting: "PIP_INDEX_URL", "--extra-index-url", "pip.conf index-url", ...
    location: Location
    ci: bool  # set in a CI workflow

    @property
    def known(self) -> bool:
        """False for a URL only CI knows (``${{ secrets.INDEX }}``, ``$INDEX``)."""
        return "${{" not in self.url and not self.url.startswith("$")


def _route(url: str, primary: bool, via: str, where: Location, ci: bool = False) -> Route:
    return Route(url.strip().rstrip("/"), primary, via, where, ci)


def install_routes(project: Project) -> list[Route]:
    """Every index the project's install settings name (unreadable files are skipped)."""
    routes: list[Route] = []
    for source in project.inputs.sources:
        for setting in source.indexes:
            if setting.kind in ("index-url", "extra-index-url"):
                primary = setting.kind == "index-url"
                routes.append(_route(setting.value, primary, f"--{setting.kind}", setting.location))
    for declared in project.inputs.declared:
        for config in declared.index_configs:
            for index in config.indexes:
                if not index.explicit:
                    primary = config.default_replaced and (index.last or config.tool == "poetry")
                    via = f"{config.tool} index {index.name or index.url}"
                    routes.append(_route(index.url, primary, via, index.location))
    for reader in (_pip_configs, _uv_toml, _workflows):
        try:
            routes.extend(reader(project.root))
        except (BastionError, OSError, ValueError):
            continue  # a file another layer reports; this control only looks for routes
    return routes


def _pip_configs(root: Path) -> Iterator[Route]:
    for name in PIP_CONFIGS:
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        text = read_text(path, limit=1024 * 1024)
        parser.read_string(text, str(path))
        for section in parser.sections():
            for key, primary in (("index-url", True), ("extra-index-url", False)):
                for url in parser.get(section, key, fallback="").split():
                    line = next(
                        (n for n, row in enumerate(text.splitlines(), 1) if url in row), None
                    )
                    yield _route(url, primary, f"{name} {key}", Location(path, line))


def _uv_toml(root: Path) -> Iterator[Route]:
    path = root / "uv.toml"
    if not path.is_file():
        return
    data = tomllib.loads(read_text(path, limit=1024 * 1024))
    where = Location(path, None)
    if isinstance(data.get("index-url"), str):
        yield _route(data["index-url"], True, "uv.toml index-url", where)
    for url in (
        data.get("extra-index-url", []) if isinstance(data.get("extra-index-url"), list) else []
    ):
        if isinstance(url, str):
            yield _route(url, False, "uv.toml extra-index-url", where)
    for table in data.get("index", []) if isinstance(data.get("index"), list) else []:
        if (
            isinstance(table, dict)
            and isinstance(table.get("url"), str)
            and not table.get("explicit")
        ):
            yield _route(table["url"], bool(table.get("default")), "uv.toml [[index]]", where)


def _env_routes(env: Mapping[str, object], path: Path) -> Iterator[Route]:
    for name, text in env.items():
        value = getattr(text, "value", None)
        line = getattr(text, "line", None)
        if not isinstance(value, str):
            continue
        if name in PRIMARY_VARIABLES or name in EXTRA_VARIABLES:
            urls = [value.strip()] if "${{" in value else value.split()
            for url in urls:
                yield _route(url, name in PRIMARY_VARIABLES, name, Location(path, line), ci=True)


def _workflows(root: Path) -> Iterator[Route]:
    from bastion._internal.workflows.audit import workflow_files
    from bastion._internal.workflows.parse import parse_workflow

    for path in workflow_files(root):
        try:
            workflow = parse_workflow(path)
        except BastionError:
            continue
        yield from _env_routes(workflow.env, path)
        for job in workflow.jobs:
            yield from _env_routes(job.env, path)
            for step in job.steps:
                yield from _env_routes(step.env, path)
                if step.run is None:
                    continue
                for offset, segment in _commands(step.run.value):
                    if not _INSTALLER.search(segment):
                        continue
                    for match in _OPTION.finditer(segment):
                        option = match["option"]
                        primary = option in ("--index-url", "--default-index", "-i")
                        where = Location(path, step.run.position(offset + match.start())[0])
                        yield _route(match["url"], primary, option, where, ci=True)


def _commands(script: str) -> Iterator[tuple[int, str]]:
    """Each command of a script (split at newlines, ``;``, ``&&``, ``||``, ``|``) and its offset."""
    start = 0
    for match in _SEPARATOR.finditer(script + "\n"):
        yield start, script[start : match.start()]
        start = match.end()
