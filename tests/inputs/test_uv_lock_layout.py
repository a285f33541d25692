"""uv's layout read by one regex: whatever it answers, tomli answers the same; else None."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import pytest
import tomli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs import uv_lock
from bastion._internal.inputs.fields import Fields
from bastion._internal.inputs.uv_lock_layout import entry_fields, read_entry
from tests.conftest import LOCKFILES
from tests.inputs.test_big_locks import big_uv_lock

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters a TOML string or key treats specially, and a few it does not.
TRICKY = list("ab-_. \"'\\\t\x01\x7f\n\r#=,{}[]é0")

ANYIO = """[[package]]
name = "anyio"
version = "4.4.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "exceptiongroup", marker = "python_full_version < '3.11'" },
    { name = "idna" },
    { name = "httpx", extra = ["http2", "socks"] },
]
sdist = { url = "https://files.example/anyio-4.4.0.tar.gz", hash = "sha256:5aadc6a1", size = 173126, upload-time = "2024-05-26T22:21:55.837Z" }
wheels = [
    { url = "https://files.example/anyio-4.4.0-py3-none-any.whl", hash = "sha256:c1b2d8f4", size = 86780, upload-time = "2024-05-26T22:21:54.034Z" },
    { path = "anyio-4.4.0-py3-none-any.whl" },
]

[package.optional-dependencies]
trio = [
    { name = "trio" },
]
test = [
]

"""  # noqa: E501 - uv writes these lines at this length


def agrees(text: str) -> dict[str, Any] | None:
    """read_entry's answer, checked against tomli's."""
    ours = read_entry(text)
    if ours is not None:
        assert ours == tomli.loads(text), text
    return ours


def test_uv_s_layout_is_read_as_tomli_reads_it() -> None:
    entry = agrees(ANYIO)
    assert entry is not None
    assert entry["package"][0]["optional-dependencies"]["trio"] == [{"name": "trio"}]


strings = st.text(st.sampled_from(TRICKY), max_size=6)


@st.composite
def entries(draw: st.DrawFn) -> str:
    def quoted() -> str:
        return '"' + draw(strings) + '"'

    size = draw(st.sampled_from(["0", "7", "00", "-1", "1_0", "9" * 16, "9" * 17, "1.5"]))
    artifact = f"{{ url = {quoted()}, hash = {quoted()}, size = {size}, upload-time = {quoted()} }}"
    if draw(st.booleans()):
        artifact = f"{{ path = {quoted()} }}"
    dependency = (
        f"{{ name = {quoted()}"
        + draw(
            st.sampled_from(["", f", marker = {quoted()}", f", extra = [{quoted()}, {quoted()}]"])
        )
        + " }"
    )
    kind = draw(st.sampled_from(["registry", "git", "editable", "other"]))
    parts = [
        "[[package]]\n",
        f"name = {quoted()}\n",
        f"version = {quoted()}\n",
        f"source = {{ {kind} = {quoted()} }}\n",
    ]
    if draw(st.booleans()):
        parts.append(f"dependencies = [\n    {dependency},\n]\n")
    if draw(st.booleans()):
        parts.append(f"sdist = {artifact}\n")
    if draw(st.booleans()):
        parts.append(f"wheels = [\n    {artifact},\n    {artifact},\n]\n")
    if draw(st.booleans()):
        first, second = draw(st.sampled_from(["a", "b", "a b", "é"])), draw(strings)
        parts.append(
            f"\n[package.optional-dependencies]\n{first} = [\n    {dependency},\n]\n"
            f"{second} = [\n]\n"
        )
    parts.append(draw(st.sampled_from(["", "\n", "\n\n", " ", "# c\n", "x = 1\n"])))
    return "".join(parts)


@FUZZ
@given(entries())
def test_generated_entries_are_read_as_tomli_reads_them_or_left_to_it(text: str) -> None:
    agrees(text)


@FUZZ
@given(st.integers(min_value=0, max_value=len(ANYIO)), st.sampled_from(TRICKY), st.integers(0, 2))
def test_an_entry_mutated_anywhere_is_read_as_tomli_reads_it_or_left_to_it(
    position: int, char: str, how: int
) -> None:
    if how == 0:
        text = ANYIO[:position] + char + ANYIO[position:]
    elif how == 1:
        text = ANYIO[:position] + ANYIO[position + 1 :]
    else:
        text = ANYIO[:position] + char + ANYIO[position + 1 :]
    agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        ANYIO.replace('name = "anyio"', 'name = "any\\u0069o"'),  # an escape
        ANYIO.replace("trio = [\n", "test = [\n"),  # a group defined twice
        ANYIO.replace("size = 173126", "size = 17_3126"),
        ANYIO.replace('version = "4.4.0"\n', 'version = "4.4.0"  # pinned\n'),
        ANYIO.replace("[[package]]", "[[ package ]]"),
        ANYIO.replace("\n", "\r\n"),
        ANYIO + "[package.metadata]\nrequires-dist = []\n",
    ],
    ids=["escape", "duplicate-group", "underscore", "comment", "spaced-header", "crlf", "metadata"],
)
def test_anything_else_is_left_to_the_toml_parser(text: str) -> None:
    assert read_entry(text) is None


def parts_of(text: str) -> list[str]:
    cuts = [m.start() for m in re.finditer(r"^\[\[package\]\]", text, re.MULTILINE)]
    return [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]


def test_a_real_uv_lock_is_read_by_layout_but_the_project_entry() -> None:
    read = [agrees(part) for part in parts_of((LOCKFILES / "uv" / "uv.lock").read_text())]
    assert [entry is None for entry in read].count(True) == 1  # the project: metadata tables
    assert len(read) == 11


def test_other_layouts_are_left_to_the_toml_parser() -> None:
    parts = parts_of(big_uv_lock(20))  # one-line arrays: valid TOML, not uv's layout
    assert [read_entry(part) for part in parts] == [None] * 20


BIG = 200_000
HOSTILE = {
    "open-dependencies": ANYIO.split("dependencies")[0]
    + "dependencies = [\n"
    + '    { name = "a" },\n' * BIG,
    "open-wheels": ANYIO.split("wheels")[0] + "wheels = [\n" + '    { path = "w" },\n' * BIG,
    "long-string": ANYIO.replace('"anyio"', '"' + "a" * 5 * BIG),
    "many-groups": ANYIO + "x = [\n]\n" * BIG + "y",
    "trailing-newlines": ANYIO + "\n" * 5 * BIG + "x",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_entries_fail_in_linear_time(text: str) -> None:
    started = time.monotonic()
    assert read_entry(text) is None
    assert time.monotonic() - started < 10  # quadratic backtracking would take minutes


def uv_layout_lock(count: int) -> str:
    """A lock in uv's layout (as benchmarks/bench_foundation.py writes its 5,000 packages)."""
    names = [f"pkg-{i}" for i in range(count)]
    parts = ['version = 1\nrevision = 3\nrequires-python = ">=3.11"\n']
    for i, name in enumerate(names):
        digest = hashlib.sha256(name.encode()).hexdigest()
        deps = "".join(f'    {{ name = "{d}" }},\n' for d in names[i + 1 : i + 4])
        wheels = "".join(
            f'    {{ url = "https://files.example/{name}-1.0-cp3{k}.whl", '
            f'hash = "sha256:{digest}", size = 1000, upload-time = "2025-01-0{k}T00:00:00Z" }},\n'
            for k in range(1, 6)
        )
        parts.append(
            f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            f"dependencies = [\n{deps}]\n"
            f'sdist = {{ url = "https://files.example/{name}-1.0.tar.gz", '
            f'hash = "sha256:{digest}", size = 1000, upload-time = "2025-01-01T00:00:00Z" }}\n'
            f"wheels = [\n{wheels}]\n"
        )
    return "\n".join(parts)


def test_a_generated_5000_package_lock_is_read_by_layout_identically() -> None:
    parts = parts_of(uv_layout_lock(5000))
    assert len(parts) == 5000
    assert [read_entry(part) for part in parts] == [tomli.loads(part) for part in parts]


@st.composite
def package_entries(draw: st.DrawFn) -> str:
    """Entries in uv's layout whose values test every conversion _package makes."""
    name = draw(st.sampled_from(["anyio", "Django", "zope.interface", "typing_extensions", ""]))
    version = draw(st.sampled_from(["1.0", "", "2!1.0.post1"]))
    source = draw(
        st.sampled_from(
            [
                'registry = "https://pypi.org/simple"',
                'git = "https://github.com/a/b?rev=main#' + "a" * 40 + '"',
                'git = "https://github.com/a/b#short"',
                'virtual = "."',
                'editable = "pkg"',
            ]
        )
    )
    digest = draw(st.sampled_from(["sha256:ab", "sha256:AB", "md5:00", "", "nocolon", ":x"]))
    moment = draw(
        st.sampled_from(
            [
                "2024-05-26T22:21:55.837Z",
                "2024-05-26T22:21:55+02:00",
                "2024-05-26T22:21:55",
                "2024-13-01T00:00:00Z",
                "",
            ]
        )
    )
    fields = [f'url = "https://f/{name}.whl"']
    if draw(st.booleans()):
        fields.append(f'hash = "{digest}"')
    if draw(st.booleans()):
        fields.append("size = 10")
    if draw(st.booleans()):
        fields.append(f'upload-time = "{moment}"')
    artifact = "{ " + ", ".join(fields) + " }"
    dependency = draw(st.sampled_from(['{ name = "Idna" }', '{ name = "a_b", marker = "x" }']))
    text = f'[[package]]\nname = "{name}"\nversion = "{version}"\nsource = {{ {source} }}\n'
    if draw(st.booleans()):
        text += f'dependencies = [\n    {dependency},\n    {{ name = "idna" }},\n]\n'
    if draw(st.booleans()):
        text += f"sdist = {artifact}\n"
    if draw(st.booleans()):
        text += f"wheels = [\n    {artifact},\n    {artifact.replace('ab', 'cd')},\n]\n"
    if draw(st.booleans()):
        text += f"\n[package.optional-dependencies]\nx = [\n    {dependency},\n]\n"
    return text


@FUZZ
@given(package_entries())
def test_a_package_read_from_uv_s_layout_is_the_one_its_toml_table_gives(text: str) -> None:
    fields = Fields(Path("uv.lock"), lambda index: 7)
    found = entry_fields(text)
    assert found is not None, text  # every generated entry is in uv's layout
    ours = uv_lock._layout_package(fields, 0, found)
    try:
        expected = uv_lock._package(fields, 0, tomli.loads(text)["package"][0])
    except InputError:
        assert ours is None  # the TOML path raises it, with its message
    else:
        assert ours == expected


REAL_LOCKS = sorted((Path(__file__).resolve().parents[1] / "realworld").rglob("uv.lock"))


@pytest.mark.parametrize("lock", REAL_LOCKS, ids=lambda p: p.parent.name)
def test_real_world_locks_give_the_same_packages_by_layout_as_by_toml(lock: Path) -> None:
    fields = Fields(lock, lambda index: index)
    parts = parts_of(lock.read_text())
    by_layout = 0
    for index, part in enumerate(parts):
        found = entry_fields(part)
        expected = uv_lock._package(fields, index, tomli.loads(part)["package"][0])
        if found is not None:
            assert uv_lock._layout_package(fields, index, found) == expected
            by_layout += 1
    assert by_layout >= len(parts) * 3 // 4  # most registry entries are in uv's layout
