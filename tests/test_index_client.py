"""Project pages from a package index on loopback: parsing, fallback, cache and refusals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion._internal import index_client
from bastion._internal.errors import DownloadError
from bastion._internal.index_client import IndexClient
from tests.conftest import FakeIndex

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def test_pep691_page_gives_the_newest_upload_of_each_version(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.simple_json(
        "demo",
        [
            {"filename": "demo-1.0.tar.gz", "upload-time": "2026-01-01T00:00:00Z"},
            {"filename": "demo-1.0-py3-none-any.whl", "upload-time": "2026-03-01T00:00:00.5Z"},
            {
                "filename": "demo-2.0-py3-none-any.whl",
                "upload-time": "2026-04-01T00:00:00Z",
                "yanked": "broken",
            },
            {"filename": "not-an-archive.txt", "upload-time": "2026-04-01T00:00:00Z"},
            {"filename": 7},
        ],
    )
    page = IndexClient(tmp_path, NOW).page(f"{fake_index.url}/simple", "demo")
    assert page.exists
    assert sorted(r.version for r in page.releases.values()) == ["1.0", "2.0"]
    one = page.release("1.0.0")  # compared in normalised form
    assert one is not None and one.uploaded == datetime(2026, 3, 1, 0, 0, 0, 500000, tzinfo=UTC)
    two = page.release("2.0")
    assert two is not None and two.yanked


def test_missing_project_and_html_only_index(fake_index: FakeIndex, tmp_path: Path) -> None:
    client = IndexClient(tmp_path, NOW)
    assert not client.page(f"{fake_index.url}/simple", "nothing-here").exists
    html = b'<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>'
    fake_index.pages["/simple/demo/"] = (200, "text/html", html)
    page = client.page(f"{fake_index.url}/simple", "demo")
    assert page.exists and not page.releases  # no JSON API either: exists, no upload times
    asked = [path for path, _ in fake_index.requests]
    assert asked == ["/simple/nothing-here/", "/simple/demo/", "/pypi/demo/json"]
    fake_index.requests.clear()
    client.page(f"{fake_index.url}/simple", "demo", times=False)
    assert fake_index.requests == []  # existence was cached


def test_cache_is_used_then_expires_and_survives_damage(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.simple_json(
        "demo", [{"filename": "demo-1.0.tar.gz", "upload-time": "2026-01-01T00:00:00Z"}]
    )
    index = f"{fake_index.url}/simple"
    IndexClient(tmp_path, NOW).page(index, "demo")
    IndexClient(tmp_path, NOW + timedelta(hours=23)).page(index, "demo")
    assert len(fake_index.requests) == 1
    IndexClient(tmp_path, NOW + timedelta(days=2)).page(index, "demo")
    assert len(fake_index.requests) == 2
    for cached in (tmp_path / "index-pages").glob("*.json"):
        cached.write_text("{not json")
    page = IndexClient(tmp_path, NOW).page(index, "demo")
    assert page.release("1.0") is not None
    assert len(fake_index.requests) == 3


@pytest.mark.parametrize(
    ("index", "name", "message"),
    [
        ("http://pypi.example/simple", "demo", "https (or http to loopback) only"),
        ("file:///etc", "demo", "https (or http to loopback) only"),
        ("https://bob:secret@pypi.example/simple", "demo", "credentials"),
        ("https://pypi.example/simple", "../admin", "refusing to query"),
        ("https://pypi.example/simple", "x" * 300, "refusing to query"),
    ],
)
def test_refusals(index: str, name: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=re.escape(message)) as caught:
        IndexClient(tmp_path, NOW).page(index, name)
    assert "secret" not in str(caught.value)


def test_bad_answers_are_download_errors(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = IndexClient(None, NOW)  # no cache at all
    index = f"{fake_index.url}/simple"
    fake_index.pages["/simple/a/"] = (200, "application/vnd.pypi.simple.v1+json", b"{broken")
    with pytest.raises(DownloadError, match="not valid JSON"):
        client.page(index, "a")
    fake_index.pages["/simple/b/"] = (200, "application/vnd.pypi.simple.v1+json", b'{"files": 3}')
    with pytest.raises(DownloadError, match="not a PEP 691 project page"):
        client.page(index, "b")
    fake_index.pages["/simple/c/"] = (200, "text/html", b"")
    fake_index.pages["/pypi/c/json"] = (
        200,
        "application/json",
        json.dumps({"releases": []}).encode(),
    )
    with pytest.raises(DownloadError, match="not a PyPI JSON API answer"):
        client.page(index, "c")
    deep = b"[" * 100_000 + b"]" * 100_000
    fake_index.pages["/simple/d/"] = (200, "application/vnd.pypi.simple.v1+json", deep)
    with pytest.raises(DownloadError):
        client.page(index, "d")
    monkeypatch.setattr(index_client, "MAX_PAGE_BYTES", 10)
    fake_index.simple_json("e", [])
    with pytest.raises(DownloadError, match="larger than"):
        client.page(index, "e")


def test_unreachable_index(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="cannot reach"):
        IndexClient(tmp_path, NOW).page("http://127.0.0.1:9/simple", "demo")


def test_many_pages_at_once(fake_index: FakeIndex, tmp_path: Path) -> None:
    for i in range(30):
        fake_index.simple_json(
            f"p{i}", [{"filename": f"p{i}-1.0.tar.gz", "upload-time": "2026-01-01T00:00:00Z"}]
        )
    index = f"{fake_index.url}/simple"
    pages = IndexClient(tmp_path, NOW).pages((index, f"p{i}") for i in range(30))
    assert len(pages) == 30 and all(p.exists for p in pages.values())
