"""Hostile lockfiles: whatever the bytes, a reader returns a source or raises InputError."""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal import config, safe_read, safe_yaml
from bastion._internal.advisories import store
from bastion._internal.config import find_config, load_config
from bastion._internal.errors import InputError
from bastion._internal.inputs import (
    common,
    environment,
    fields,
    index_config,
    pdm_lock,
    pipfile_lock,
    poetry_lock,
    pylock,
    pyproject,
    requirements,
    uv_lock,
)
from bastion._internal.inputs.pdm_lock import parse_pdm_lock
from bastion._internal.inputs.pipfile_lock import parse_pipfile_lock
from bastion._internal.inputs.poetry_lock import parse_poetry_lock
from bastion._internal.inputs.pylock import parse_pylock
from bastion._internal.inputs.pyproject import parse_pyproject
from bastion._internal.inputs.requirements import parse_requirements
from bastion._internal.inputs.uv_lock import parse_uv_lock
from bastion._internal.model import DependencySource
from bastion._internal.names import typosquat
from bastion._internal.names.typosquat import without_trailing_version
from bastion._internal.safe_read import TomlLines, key_line
from bastion._internal.workflows import hygiene, wiring
from bastion._internal.workflows.hygiene import download_execute_matches
from tests.conftest import LOCKFILES

INPUT_MODULES: list[ModuleType] = [
    safe_read,
    safe_yaml,
    config,
    store,
    common,
    environment,
    fields,
    index_config,
    pdm_lock,
    pipfile_lock,
    poetry_lock,
    pylock,
    pyproject,
    requirements,
    uv_lock,
    typosquat,
]

READERS: list[tuple[str, Callable[[Path], DependencySource], str]] = [
    ("uv.lock", parse_uv_lock, "uv/uv.lock"),
    ("pylock.toml", parse_pylock, "pylock-uv/pylock.toml"),
    ("poetry.lock", parse_poetry_lock, "poetry2/poetry.lock"),
    ("pdm.lock", parse_pdm_lock, "pdm/pdm.lock"),
    ("Pipfile.lock", parse_pipfile_lock, "pipenv/Pipfile.lock"),
]

# TOML/JSON-shaped values of every type, nested a little: wrong shapes in right places.
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.floats(allow_nan=False)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _read(name: str, reader: Callable[[Path], DependencySource], data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            reader(path)
        except InputError as exc:
            assert exc.path == path
            assert "\n" not in exc.one_line()


@pytest.mark.parametrize(("name", "reader", "real"), READERS, ids=[r[0] for r in READERS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.floats(min_value=0, max_value=1), noise=st.binary(max_size=64))
def test_truncated_and_corrupted_real_files(
    name: str, reader: Callable[[Path], DependencySource], real: str, cut: float, noise: bytes
) -> None:
    original = (LOCKFILES / real).read_bytes()
    position = int(len(original) * cut)
    _read(name, reader, original[:position] + noise + original[position + len(noise) :])


@pytest.mark.parametrize(("name", "reader", "real"), READERS, ids=[r[0] for r in READERS])
@settings(max_examples=80, deadline=None)
@given(
    package=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "version",
                "source",
                "sdist",
                "wheels",
                "files",
                "hashes",
                "dependencies",
                "groups",
                "marker",
                "markers",
                "index",
                "vcs",
                "directory",
                "git",
                "path",
                "url",
            ]
        ),
        _VALUES,
        max_size=6,
    )
)
def test_wrong_shapes_in_package_entries(
    name: str, reader: Callable[[Path], DependencySource], real: str, package: dict[str, object]
) -> None:
    import json

    del real
    if name == "Pipfile.lock":
        data = json.dumps({"_meta": {"sources": []}, "default": {"pkg": package}})
    else:
        table = "packages" if name == "pylock.toml" else "package"
        head = {
            "uv.lock": "version = 1\n",
            "pylock.toml": 'lock-version = "1.0"\n',
            "pdm.lock": '[metadata]\nlock_version = "4.5.0"\n',
            "poetry.lock": '[metadata]\nlock-version = "2.1"\n',
        }[name]
        data = (
            head
            + f"[[{table}]]\n"
            + "".join(
                f"{json.dumps(k)} = {_toml(v)}\n"
                for k, v in package.items()
                if _toml(v) is not None
            )
        )
    _read(name, reader, data.encode())


def _toml(value: object) -> str | None:
    """A TOML inline value for simple data (None where TOML has no such value)."""
    import json

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, int) or value == value else None
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        items = [_toml(v) for v in value]
        return None if None in items else "[" + ", ".join(i for i in items if i) + "]"
    if isinstance(value, dict):
        pairs = [(json.dumps(k), _toml(v)) for k, v in value.items()]
        if any(v is None for _, v in pairs):
            return None
        return "{" + ", ".join(f"{k} = {v}" for k, v in pairs) + "}"
    return None


# --- Adversarial generators (issue 14): deep nesting, long runs, huge integers ---------
#
# The "adversarial" shapes that broke parsers: nesting past the recursion limit,
# one character repeated until a backtracking regex goes quadratic, and integer
# literals past Python's 4,300-digit conversion limit. Every reader must return
# or raise InputError, quickly, whatever the shape and wherever it lands.

ADVERSARIAL = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_OPENERS = st.sampled_from(["[", "{a = ", "[[", "{", '{"a": '])
_RUN_CHARS = st.sampled_from([*list(" \t\n#[]{}=-_.\"'\\$@;:/,0a"), "\r\n", "${", "a ", "- "])


@st.composite
def _hostile_chunk(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["deep", "run", "integer"]))
    if kind == "deep":
        opener = draw(_OPENERS)
        return opener * draw(st.integers(min_value=100, max_value=20_000))
    if kind == "run":
        return draw(_RUN_CHARS) * draw(st.integers(min_value=1_000, max_value=200_000))
    return "1" * draw(st.integers(min_value=4_000, max_value=6_000))


def _budgeted_read(name: str, reader: Callable[[Path], DependencySource], data: bytes) -> None:
    started = time.monotonic()
    _read(name, reader, data)
    assert time.monotonic() - started < 10, "a reader took more than 10 s on one input"


@pytest.mark.parametrize(("name", "reader", "real"), READERS, ids=[r[0] for r in READERS])
@ADVERSARIAL
@given(chunk=_hostile_chunk(), cut=st.floats(min_value=0, max_value=1))
def test_adversarial_chunks_inside_real_lockfiles(
    name: str, reader: Callable[[Path], DependencySource], real: str, chunk: str, cut: float
) -> None:
    original = (LOCKFILES / real).read_text()
    position = int(len(original) * cut)
    _budgeted_read(name, reader, (original[:position] + chunk + original[position:]).encode())


@pytest.mark.parametrize("kind", ["requirements", "pyproject", "workflow", "config"])
@ADVERSARIAL
@given(chunk=_hostile_chunk(), prefix=st.sampled_from(["", "x = ", "idna==3.7 ", "on: "]))
def test_adversarial_chunks_in_other_inputs(kind: str, chunk: str, prefix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.monotonic()
        try:
            if kind == "requirements":
                (root / "requirements.txt").write_text(prefix + chunk + "\nidna==3.7\n")
                parse_requirements(root / "requirements.txt", root=root)
            elif kind == "pyproject":
                (root / "pyproject.toml").write_text("[project]\nname = 'p'\n" + prefix + chunk)
                parse_pyproject(root / "pyproject.toml")
            elif kind == "workflow":
                (root / "ci.yml").write_text(prefix + chunk + "\njobs: {}\n")
                safe_yaml.load(root / "ci.yml", (root / "ci.yml").read_text())
            else:
                (root / "bastion.toml").write_text(prefix + chunk)
                load_config(root)
        except InputError as exc:
            assert "\n" not in exc.one_line()
        assert time.monotonic() - started < 10


# --- Every regex that sees input, on ~1 MB of adversarial text (issue 14.4) -----------
#
# A backtracking regex took minutes on 200,000 spaces. Each case is a real entry
# point fed 1 MB of the text that hurts its pattern; 2 s is generous on a loaded
# machine (linear code takes milliseconds; the quadratic originals took minutes).

MB = 1_000_000
BUDGET_SECONDS = 2.0


def _within_budget(action: Callable[[], object]) -> None:
    started = time.monotonic()
    with contextlib.suppress(InputError):
        action()
    assert time.monotonic() - started < BUDGET_SECONDS


def _requirements(tmp_path: Path, text: str) -> Callable[[], object]:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return lambda: parse_requirements(path, root=tmp_path)


REQUIREMENT_LINES = {
    "comment-spaces": "a" + " " * MB + "b\n",  # (^|\s+)#.*$ : the reported case
    "comment-tabs": "a" + "\t " * (MB // 2) + "#\n",
    "hashes-no-space": "a" + "#" * MB + "\n",
    "extras-brackets": "./x" + "[" * MB + "\n",  # \[([^\]]*)\]$ searched from each [
    "name-at-spaces": "a" + " " * MB + "[x]" + " " * 10 + "\n",
    "env-vars": "${" * (MB // 2) + "\n",
    "env-var-open": "${" + "A" * MB + "\n",
    "egg-dashes": "https://h/x.zip#egg=" + "a-" * (MB // 2) + "1\n",
    "egg-equals": "https://h/x.zip#" + "a==" * (MB // 3) + "\n",
    "option-equals": "--hash=" + "=" * MB + "\n",  # shlex built words char by char
    "quoted-option": '-r "' + "a" * MB + '"\n',
    "continuations": "a \\\n" * (MB // 4) + "b\n",  # re-summed every pending line
}


@pytest.mark.parametrize("text", REQUIREMENT_LINES.values(), ids=REQUIREMENT_LINES.keys())
def test_requirements_regexes_stay_linear(tmp_path: Path, text: str) -> None:
    _within_budget(_requirements(tmp_path, text))


TOML_TEXTS = {
    "blank-lines": "\n" * MB,
    "space-lines": " \n" * (MB // 2),
    "bracket-runs": "[" * MB,
    "header-spaces": "[[" + " " * MB + "package",
    "key-spaces": " " * MB + "name",
    "quoted-escapes": 'a = "' + "\\\\" * (MB // 2),
    "digits-underscores": "a = " + "1_" * (MB // 2),
}


@pytest.mark.parametrize("text", TOML_TEXTS.values(), ids=TOML_TEXTS.keys())
def test_toml_side_regexes_stay_linear(tmp_path: Path, text: str) -> None:
    for name, reader in (("uv.lock", parse_uv_lock), ("poetry.lock", parse_poetry_lock)):
        path = tmp_path / name
        path.write_text(text)
        _within_budget(lambda path=path, reader=reader: reader(path))  # type: ignore[misc]
    lines = text.splitlines()
    _within_budget(lambda: TomlLines(text, "package").line_of(0))
    _within_budget(lambda: key_line(lines, "name"))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    _within_budget(lambda: find_config(tmp_path))
    _within_budget(lambda: parse_pyproject(pyproject))


PIPFILE_TEXTS = {
    "key-escapes": '{\n "' + "\\a" * (MB // 2) + "\n}",
    "url-quotes": '{\n "url": "' + '\\"' * (MB // 2) + "\n}",
    "spaces": "{" + " " * MB + "}",
}


@pytest.mark.parametrize("text", PIPFILE_TEXTS.values(), ids=PIPFILE_TEXTS.keys())
def test_pipfile_regexes_stay_linear(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pipfile.lock"
    path.write_text(text)
    _within_budget(lambda: parse_pipfile_lock(path))


YAML_TEXTS = {
    "digits": "a: " + "1" * MB,
    "sexagesimal": "a: " + "1:" * (MB // 2) + "x",
    "float-ish": "a: " + "1." * (MB // 2) + "e",
    "spaces": "a:" + " " * MB + "b",
    "flow-commas": "a: [" + "," * MB,
}


@pytest.mark.parametrize("text", YAML_TEXTS.values(), ids=YAML_TEXTS.keys())
def test_yaml_resolver_regexes_stay_linear(text: str) -> None:
    _within_budget(lambda: safe_yaml.load(Path("w.yml"), text))


def test_typosquat_trailing_version_stays_linear() -> None:
    # "(-?\d+)+$" backtracked exponentially: a 40-digit package name hung a run.
    name = "a" + "1" * MB + "b"
    _within_budget(lambda: without_trailing_version(name))
    assert without_trailing_version("django-2-0") == "django"
    assert without_trailing_version("py3") == "py"
    assert without_trailing_version("a--1") == "a-"
    assert without_trailing_version("requests") == "requests"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab1-", max_size=12))
def test_typosquat_trailing_version_matches_the_regex_it_replaced(name: str) -> None:
    assert without_trailing_version(name) == re.sub(r"(-?\d+)+$", "", name)


def test_module_level_input_patterns_stay_linear() -> None:
    """Every compiled pattern of the input modules, on 1 MB runs of each risky unit."""
    patterns = [
        value
        for module in INPUT_MODULES
        for value in vars(module).values()
        if isinstance(value, re.Pattern)
    ]
    assert len(patterns) >= 10
    units = [" ", "\n", "\t", "a", "1", "-", "[", "a ", "a-", "${", "#", "=", '"', "\\", "1_"]
    for pattern in patterns:
        for unit in units:
            text = unit * (MB // len(unit)) + "!"
            started = time.monotonic()
            pattern.search(text.encode() if isinstance(pattern.pattern, bytes) else text)
            elapsed = time.monotonic() - started
            assert elapsed < BUDGET_SECONDS, (pattern.pattern, unit, elapsed)


# --- Workflow scripts: the same audit over run: text (issue 14.4) ---------------------

_SCRIPT_WORDS = st.sampled_from(
    [
        "curl",
        "wget",
        "sh",
        "bash",
        "zsh",
        "|",
        ";",
        "&",
        "\n",
        " ",
        "-fsSL",
        "x",
        "sudo",
        "python3",
        "<(",
        "$(",
        "-c",
        "'",
        "iwr",
        "iex",
        "URL",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCRIPT_WORDS, max_size=30))
def test_download_execute_scan_equals_the_regex(words: list[str]) -> None:
    script = " ".join(words)
    expected = [(m.start(), m.end()) for m in hygiene._DOWNLOAD_EXECUTE.finditer(script)]
    found = [(m.start(), m.end()) for m in download_execute_matches(script)]
    assert found == expected


WORKFLOW_SCRIPTS = {
    "curl-words": "curl " * (MB // 5),
    "curl-pipes-nothing": "curl x " * (MB // 7) + "| cat",
    "bash-words": "bash " * (MB // 5),
    "blank-lines-before-set": "\n" * MB + "set -e",
}


@pytest.mark.parametrize("script", WORKFLOW_SCRIPTS.values(), ids=WORKFLOW_SCRIPTS.keys())
def test_workflow_script_patterns_stay_linear(script: str) -> None:
    _within_budget(lambda: list(download_execute_matches(script)))
    _within_budget(lambda: list(wiring._SET_PLUS_E.finditer(script)))
    assert list(download_execute_matches("curl -fsSL https://x | sudo bash\n"))
