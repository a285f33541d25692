"""Hostile lockfiles: whatever the bytes, a reader returns a source or raises InputError."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs.pdm_lock import parse_pdm_lock
from bastion._internal.inputs.pipfile_lock import parse_pipfile_lock
from bastion._internal.inputs.poetry_lock import parse_poetry_lock
from bastion._internal.inputs.pylock import parse_pylock
from bastion._internal.inputs.uv_lock import parse_uv_lock
from bastion._internal.model import DependencySource
from tests.conftest import LOCKFILES

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
