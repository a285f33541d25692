"""uv.lock read one [[package]] at a time means what the whole document means, or defers to it."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs import uv_lock
from bastion._internal.inputs.fields import Fields
from bastion._internal.inputs.uv_lock import parse_uv_lock
from bastion._internal.model import LockedPackage
from bastion._internal.safe_read import TomlLines
from tests.inputs.test_big_locks import big_uv_lock

HEAD = 'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n'
OPTIONS = '[options]\nexclude-newer = "2025-01-01T00:00:00Z"\n'


def package(name: str) -> str:
    return (
        f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        'dependencies = [\n    { name = "six" },\n]\n'
        f'sdist = {{ url = "https://files.example/{name}.tar.gz", hash = "sha256:{"ab" * 32}", '
        'upload-time = "2024-03-01T00:00:00Z" }\n'
    )


# Pieces of uv.lock text: ordinary entries and every way a cut could mislead.
FRAGMENTS = [
    package("alpha"),
    package("beta"),
    package("gamma"),
    '[package.optional-dependencies]\nextra = [{ name = "idna" }]\n',
    '[package.metadata]\nrequires-dist = [{ name = "six" }]\n',
    '[package.dev-dependencies]\ndev = [\n    { name = "pytest" },\n]\n',
    '[[package.wheels]]\nurl = "https://files.example/w.whl"\nhash = "sha256:00"\n',
    'description = """\n[[package]]\nname = "hidden"\n"""\n',  # a header in a string
    "notes = '''\n[[package]]\n'''\n",
    "dependencies = [\n[[package]]\n]\n",  # a header inside an array: invalid
    '  [[ package ]]  # spaced, commented\nname = "spaced"\n',
    '[["package"]]\nname = "quoted"\n',  # a header the cut does not see
    '[[package]]\r\nname = "crlf"\r\n',
    OPTIONS,  # a top-level table after the packages
    '[manifest]\nmembers = ["app"]\n',
    "package = []\n",
    '[package]\nname = "single"\n',
    "[[package]]\n",
    'name = "stray"\n',
    "version = 2\n",
    "[options.extra]\nx = 1\n",
    'source = { git = "https://example/repo#' + "a" * 40 + '" }\n',
    "x = 1\n",
    "= broken\n",
]


def outcome(read: object) -> tuple[str, object]:
    try:
        return "ok", read() if callable(read) else read
    except InputError as exc:
        return "error", str(exc)


Read = tuple[dict[str, Any], list[LockedPackage]]


def both(text: str, path: Path = Path("uv.lock")) -> tuple[Read | None, tuple[str, object]]:
    lines = TomlLines(text, "package")
    fields = Fields(path, lines.line_of)
    by_package = uv_lock._read_by_package(fields, text, lines.offsets)
    return by_package, outcome(lambda: uv_lock._read_whole(fields, text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8), st.booleans(), st.booleans())
def test_by_package_equals_the_whole_parse_or_defers_to_it(
    pieces: list[str], head: bool, options: bool
) -> None:
    text = (HEAD if head else "") + (OPTIONS if options else "") + "".join(pieces)
    by_package, whole = both(text)
    if by_package is not None:
        assert whole == ("ok", by_package)


def test_an_ordinary_lock_is_read_by_package_with_the_whole_parse_s_answer() -> None:
    text = (
        HEAD
        + OPTIONS
        + "".join(
            package(name) + '[package.metadata]\nrequires-dist = [{ name = "six" }]\n'
            for name in ("alpha", "beta", "gamma")
        )
    )
    by_package, whole = both(text)
    assert by_package is not None
    assert whole == ("ok", by_package)
    head, packages = by_package
    assert head["options"]["exclude-newer"] == "2025-01-01T00:00:00Z"
    assert [p.name for p in packages] == ["alpha", "beta", "gamma"]
    assert [p.location.line for p in packages] == [7, 17, 27]  # each name line


UNTERMINATED = 'description = """\n[[package]]\nname = "b"\n'


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (
            HEAD + package("a") + 'description = """\n[[package]]\nname = "b"\n',
            "Unterminated",
            None,
        ),
        (HEAD + package("a") + "[package]\nname = 'b'\n", "Cannot declare", 12),
        (
            HEAD + package("a") + package("a").replace('version = "1.0"', "version = 1"),
            "'version'",
            13,
        ),
        (HEAD + "package = 1\n" + package("a"), "invalid TOML", None),
    ],
    ids=["unterminated-string", "table-over-array", "wrong-type", "package-key-in-head"],
)
def test_errors_come_from_the_whole_parse_with_its_line(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        parse_uv_lock(lock)
    by_package, whole = both(text, lock)
    assert by_package is None
    assert whole == ("error", str(caught.value))
    if line is not None:
        assert caught.value.line == line


def test_a_header_inside_a_multiline_string_is_not_a_package(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(
        HEAD + package("a") + 'notes = """\n[[package]]\nname = "ghost"\n"""\n' + package("b")
    )
    assert [p.name for p in parse_uv_lock(lock).packages] == ["a", "b"]


def test_a_5000_package_lock_peaks_at_its_text_not_its_parse_tree(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(big_uv_lock(5000))
    size = lock.stat().st_size
    tracemalloc.start()
    try:
        source = parse_uv_lock(lock)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(source.packages) == 5000
    assert source.packages[-1].location.line is not None
    # bytes and text (2x the file), the packages and one entry's tree: parsed whole, the
    # tree alone was 4x the file and the read buffer was sized by the 64 MiB limit
    assert peak < 3 * size, (peak, size)
