"""The bulk-ingest manifest: every row checked, errors name the line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inventory.manifest import read_manifest


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "releases.csv"
    path.write_text(text)
    return path


def test_rows_resolve_relative_to_the_manifest(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "service,release,sbom,released_at\n"
        "shop,1.0,sboms/shop-1.0.json,2026-01-02\n"
        "\n"
        "shop,1.1,sboms/shop-1.1.json,\n",
    )
    first, second = read_manifest(path)
    assert first.sbom == tmp_path / "sboms" / "shop-1.0.json"
    assert (first.service, first.release, first.line) == ("shop", "1.0", 2)
    assert first.released_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert second.released_at is None and second.line == 4


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "empty manifest"),
        ("sbom,service\n", 1, "needs column(s) release"),
        ("sbom,service,release\na.json,shop\n", 2, "expected 3 fields"),
        ("sbom,service,release\na.json,,1\n", 2, "must not be empty"),
        ("sbom,service,release,released_at\na.json,s,1,soon\n", 2, "not a date"),
        ("sbom,service,release\na.json,s,1\nb.json,s,1\n", 3, "also on line 2"),
        ('sbom,service,release\n"a.json,s,1\n', 2, "not CSV"),
        ("sbom,service,release\n" + "x" * 3000 + ",s,1\n", 2, "sane length"),
    ],
)
def test_bad_manifests_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_manifest(_write(tmp_path, text))
    assert message in str(caught.value)
    assert caught.value.line == line


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_rows_or_one_input_error(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.csv"
        path.write_text("sbom,service,release\n" + text, encoding="utf-8", errors="replace")
        try:
            entries = read_manifest(path)
        except InputError as exc:
            assert exc.one_line().count("\n") == 0
        else:
            assert all(e.service and e.release for e in entries)
