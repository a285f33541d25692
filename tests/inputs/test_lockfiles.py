"""The lockfile readers, on real output of uv, pip, poetry 1 and 2, pdm and pipenv."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion._internal.errors import InputError
from bastion._internal.inputs.pdm_lock import parse_pdm_lock
from bastion._internal.inputs.pipfile_lock import parse_pipfile_lock
from bastion._internal.inputs.poetry_lock import parse_poetry_lock
from bastion._internal.inputs.pylock import parse_pylock
from bastion._internal.inputs.uv_lock import parse_uv_lock
from bastion._internal.model import DependencySource, SourceKind
from tests.conftest import LOCKFILES, MakeProject

# What the fixture project resolves to, whichever tool locked it.
CORE = {
    "requests",
    "jinja2",
    "click",
    "urllib3",
    "idna",
    "certifi",
    "charset-normalizer",
    "markupsafe",
}

REAL_LOCKS: list[tuple[str, Callable[[Path], DependencySource], set[str]]] = [
    ("uv/uv.lock", parse_uv_lock, {"pyyaml", "iniconfig"}),
    ("pylock-uv/pylock.toml", parse_pylock, {"pyyaml", "iniconfig"}),
    ("pylock-pip/pylock.toml", parse_pylock, set()),
    ("poetry2/poetry.lock", parse_poetry_lock, {"pyyaml", "iniconfig"}),
    ("poetry1/poetry.lock", parse_poetry_lock, {"pyyaml", "iniconfig"}),
    ("pdm/pdm.lock", parse_pdm_lock, {"pyyaml", "iniconfig"}),
    ("pipenv/Pipfile.lock", parse_pipfile_lock, {"pyyaml", "iniconfig"}),
]


@pytest.mark.parametrize(
    ("relative", "reader", "optional"), REAL_LOCKS, ids=[r[0] for r in REAL_LOCKS]
)
def test_real_lockfiles_are_read_completely(
    relative: str, reader: Callable[[Path], DependencySource], optional: set[str]
) -> None:
    source = reader(LOCKFILES / relative)
    registry = [p for p in source.packages if not p.is_local]
    names = {p.name for p in registry}
    assert CORE | optional <= names
    assert all(p.version for p in registry)
    assert all(p.has_hash for p in registry), [p.name for p in registry if not p.has_hash]
    assert all(len(d) == 64 for p in registry for d in p.hashes["sha256"])
    requests = next(p for p in registry if p.name == "requests")
    assert requests.version == "2.31.0"
    assert requests.location.line is not None
    # the reported line really is where requests is declared in the file
    line = (LOCKFILES / relative).read_text().splitlines()[requests.location.line - 1]
    assert "requests" in line


def test_uv_lock_records_upload_times_edges_and_the_virtual_root() -> None:
    source = parse_uv_lock(LOCKFILES / "uv/uv.lock")
    by_name = {p.name: p for p in source.packages}
    assert by_name["fixture-app"].source_kind is SourceKind.VIRTUAL
    assert {"click", "jinja2", "requests", "pyyaml", "iniconfig"} <= set(
        by_name["fixture-app"].dependencies
    )
    assert {"urllib3", "idna", "certifi", "charset-normalizer"} <= set(
        by_name["requests"].dependencies
    )
    uploaded = by_name["requests"].upload_time
    assert uploaded is not None and uploaded.tzinfo is UTC
    assert datetime(2023, 5, 1, tzinfo=UTC) < uploaded < datetime(2023, 6, 1, tzinfo=UTC)
    assert source.per_package_index
    assert [i.value for i in source.indexes] == ["https://pypi.org/simple"]


def test_pylock_upload_times_are_toml_datetimes() -> None:
    source = parse_pylock(LOCKFILES / "pylock-uv/pylock.toml")
    requests = next(p for p in source.packages if p.name == "requests")
    assert requests.upload_time is not None
    assert requests.upload_time.year == 2023
    assert requests.source == "https://pypi.org/simple"


def test_poetry2_records_groups_and_legacy_sources() -> None:
    source = parse_poetry_lock(LOCKFILES / "poetry2/poetry.lock")
    iniconfig = next(p for p in source.packages if p.name == "iniconfig")
    assert iniconfig.groups == ("dev",)
    assert {i.value for i in source.indexes} == {"https://pypi.org/simple"}


def test_poetry_lock_version_1_1_keeps_files_in_metadata(make_project: MakeProject) -> None:
    root = make_project(
        {
            "poetry.lock": f"""\
            [[package]]
            name = "Idna"
            version = "3.7"
            description = ""
            category = "main"
            optional = false
            python-versions = ">=3.5"

            [metadata]
            lock-version = "1.1"
            python-versions = "^3.11"
            content-hash = "x"

            [metadata.files]
            Idna = [
                {{file = "idna-3.7.tar.gz", hash = "sha256:{"c" * 64}"}},
            ]
            """
        }
    )
    (idna,) = parse_poetry_lock(root / "poetry.lock").packages
    assert (idna.name, idna.version, idna.hashes["sha256"]) == ("idna", "3.7", ("c" * 64,))
    assert idna.location.line == 2


def test_pipfile_lock_sources_and_sections() -> None:
    source = parse_pipfile_lock(LOCKFILES / "pipenv/Pipfile.lock")
    assert [(i.kind, i.name) for i in source.indexes] == [("source", "pypi")]
    by_name = {p.name: p for p in source.packages}
    assert by_name["iniconfig"].groups == ("develop",)
    # pipenv names the index of direct dependencies only; transitive ones have none,
    # which is why several sources make such a lock ambiguous.
    assert by_name["requests"].source == "https://pypi.org/simple"
    assert by_name["urllib3"].source is None
    assert not source.per_package_index


@pytest.mark.parametrize(
    ("name", "reader", "text", "line", "message"),
    [
        ("uv.lock", parse_uv_lock, "version = 1\n[[package]]\nname = 3\n", 2, "'name'"),
        ("uv.lock", parse_uv_lock, "[[package]]\nname = 'x'\n", None, "not a uv.lock"),
        ("uv.lock", parse_uv_lock, "version = 1\n\n[[package]\n", 3, "invalid TOML"),
        (
            "uv.lock",
            parse_uv_lock,
            "version = 1\n[[package]]\nname = 'x'\nsdist = { hash = 'nocolon' }\n",
            3,
            "malformed hash",
        ),
        ("pylock.toml", parse_pylock, "lock-version = '2.0'\n", None, "unsupported lock-version"),
        (
            "pylock.toml",
            parse_pylock,
            "lock-version = '1.0'\n[[packages]]\nname = 'x'\nwheels = 'no'\n",
            3,
            "array of tables",
        ),
        ("poetry.lock", parse_poetry_lock, "x = 1\n", None, "not a poetry.lock"),
        (
            "poetry.lock",
            parse_poetry_lock,
            "[[package]]\nname = 'x'\nversion = '1'\n[package.source]\ntype = 'ftp'\n",
            2,
            "unknown source type",
        ),
        ("pdm.lock", parse_pdm_lock, "[[package]]\nname='x'\n", None, "not a pdm.lock"),
        ("Pipfile.lock", parse_pipfile_lock, '{"_meta": {}, "default": []}', None, "'default'"),
        ("Pipfile.lock", parse_pipfile_lock, '{\n"_meta": {},\n"default": {\n"x": 1}\n}', 4, "'x'"),
        ("Pipfile.lock", parse_pipfile_lock, '{\n  "_meta": {,\n}', 2, "invalid JSON"),
        ("Pipfile.lock", parse_pipfile_lock, "[1, 2]", None, "not a Pipfile.lock"),
    ],
)
def test_malformed_lockfiles_fail_with_file_and_line(
    tmp_path: Path,
    name: str,
    reader: Callable[[Path], DependencySource],
    text: str,
    line: int | None,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        reader(path)
    assert message in str(caught.value)
    assert caught.value.line == line
    assert caught.value.path == path


def test_uv_lock_relative_cutoff(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from bastion._internal.errors import InputError
    from bastion._internal.inputs.uv_lock import parse_uv_lock

    text = (LOCKFILES / "uv" / "uv.lock").read_text()
    options = (
        '[options]\nexclude-newer = "2026-04-07T13:31:47.446705813Z"\nexclude-newer-span = "P1W"\n'
    )
    lock = tmp_path / "uv.lock"
    lock.write_text(text.replace("\n[[package]]", f"\n{options}\n[[package]]", 1))
    source = parse_uv_lock(lock)
    assert source.exclude_newer_span == timedelta(days=7)
    assert source.exclude_newer is not None
    assert source.exclude_newer.replace(microsecond=0) == datetime(
        2026, 4, 7, 13, 31, 47, tzinfo=UTC
    )
    lock.write_text(
        text.replace("\n[[package]]", '\n[options]\nexclude-newer-span = "soon"\n\n[[package]]', 1)
    )
    with pytest.raises(InputError, match="invalid exclude-newer-span"):
        parse_uv_lock(lock)
    assert parse_uv_lock(LOCKFILES / "uv" / "uv.lock").exclude_newer is None
