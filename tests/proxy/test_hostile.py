"""Hostile upstream answers and malformed client requests: a clear status, nothing cached."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.proxy.parse import (
    PageError,
    parse_html_page,
    parse_json_page,
    safe_filename,
)
from bastion._internal.proxy.render import JSON_TYPE
from tests.proxy.conftest import OLD, LocalUpstream, MakeProxy

HOSTS = frozenset({"127.0.0.1:9"})
PAGE_URL = "http://127.0.0.1:9/simple/qtalpha/"
SHA = "a" * 64


def _entry(filename: str, url: str, sha: str | None = SHA) -> dict[str, object]:
    entry: dict[str, object] = {"filename": filename, "url": url, "upload-time": OLD.isoformat()}
    if sha is not None:
        entry["hashes"] = {"sha256": sha}
    return entry


def _json(files: list[dict[str, object]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "qtalpha", "files": files}).encode()


def test_unsafe_files_are_dropped_from_a_page() -> None:
    body = _json(
        [
            _entry("qtalpha-1.0-py3-none-any.whl", "/files/qtalpha-1.0-py3-none-any.whl"),
            _entry("../qtalpha-1.1-py3-none-any.whl", "/files/x"),
            _entry("/etc/qtalpha-1.2.tar.gz", "/files/y"),
            _entry("qtalpha-1.3..tar.gz", "/files/z"),
            _entry("other-1.0-py3-none-any.whl", "/files/other"),  # another project's file
            _entry("qtalpha-1.4-py3-none-any.whl", "http://203.0.113.9/evil.whl"),  # other host
            _entry("qtalpha-1.5-py3-none-any.whl", "file:///etc/passwd"),
            _entry("qtalpha-1.6-py3-none-any.whl", "/files/a", sha=None),  # no sha256
            _entry("qtalpha-1.7-py3-none-any.whl", "/files/b", sha="xyz"),
            _entry("qtalpha-1.0-py3-none-any.whl", "/files/dup"),  # duplicate name
        ]
    )
    page = parse_json_page(body, "qtalpha", PAGE_URL, HOSTS)
    assert [f.filename for f in page.files] == ["qtalpha-1.0-py3-none-any.whl"]
    assert page.files[0].url == "http://127.0.0.1:9/files/qtalpha-1.0-py3-none-any.whl"


def test_pages_that_are_not_pages_are_refused() -> None:
    for body in (
        b"{",
        b"[]",
        b'{"files": []}',  # no meta
        b'{"meta": {"api-version": "2.0"}, "files": []}',
        b'{"meta": {"api-version": "1.0"}, "files": {}}',
        b"[" * 100_000,
    ):
        try:
            parse_json_page(body, "qtalpha", PAGE_URL, HOSTS)
        except PageError:
            continue
        raise AssertionError(f"accepted {body[:40]!r}")
    try:
        parse_html_page(b"\xff\xfe<a>", "qtalpha", PAGE_URL, HOSTS)
    except PageError:
        pass
    else:
        raise AssertionError("accepted non-UTF-8 HTML")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=30,
    ),
    st.lists(
        st.fixed_dictionaries(
            {
                "filename": st.text(max_size=40) | st.just("qtalpha-1.0.tar.gz"),
                "url": st.text(max_size=40) | st.just("/f/qtalpha-1.0.tar.gz"),
                "hashes": st.dictionaries(st.just("sha256"), st.text(max_size=70) | st.just(SHA)),
                "upload-time": st.text(max_size=30) | st.integers(),
                "size": st.integers() | st.text(max_size=5),
                "yanked": st.booleans() | st.text(max_size=10) | st.integers(),
            }
        ),
        max_size=6,
    ),
)
def test_json_pages_fuzzed(junk: object, files: list[dict[str, object]]) -> None:
    for data in (junk, {"meta": {"api-version": "1.1"}, "files": files, "x": junk}):
        try:
            page = parse_json_page(json.dumps(data).encode(), "qtalpha", PAGE_URL, HOSTS)
        except PageError:
            continue
        for item in page.files:
            assert safe_filename(item.filename) and len(item.sha256) == 64
            assert item.url.startswith("http://127.0.0.1:9/")
            assert item.size is None or item.size >= 0


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=300),
    st.sampled_from(["", '<a href="', "<a href='/f/qtalpha-1.0.tar.gz#sha256=" + SHA + "'>"]),
)
def test_html_pages_fuzzed(text: str, prefix: str) -> None:
    try:
        page = parse_html_page((prefix + text).encode(), "qtalpha", PAGE_URL, HOSTS)
    except PageError:
        return
    for item in page.files:
        assert safe_filename(item.filename) and item.url.startswith("http://127.0.0.1:9/")


def test_invalid_upstream_answers_are_502_and_the_server_keeps_serving(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    upstream.wheel("qtgood", "1.0", OLD)
    upstream.raw_pages["qtjson"] = (200, JSON_TYPE, b'{"meta": ', {})
    upstream.raw_pages["qthtml"] = (200, "text/html", b"\xff\xfe\x00garbage", {})
    upstream.raw_pages["qtbig"] = (200, JSON_TYPE, b" " * (33 * 1024 * 1024), {})
    upstream.raw_pages["qt500"] = (500, "text/plain", b"boom", {})
    proxy = make_proxy()
    for name, expected in (
        ("qtjson", "not valid JSON"),
        ("qthtml", "not UTF-8"),
        ("qtbig", "larger than 32 MiB"),
        ("qt500", "HTTP 500"),
    ):
        got = httpx.get(f"{proxy.url}/simple/{name}/", timeout=60)
        assert got.status_code == 502 and expected in got.text, (name, got.text)
        assert proxy.app.cache.load_page(name) is None
    assert httpx.get(f"{proxy.url}/simple/qtgood/").status_code == 200


def test_redirects_to_other_hosts_are_refused_same_host_ones_followed(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    other = LocalUpstream()
    other.start()
    try:
        other.wheel("qtaway", "1.0", OLD)
        upstream.raw_pages["qtaway"] = (
            302,
            "text/plain",
            b"",
            {"Location": f"{other.url}/simple/qtaway/"},
        )
        upstream.wheel("qtgood", "1.0", OLD)
        upstream.raw_pages["QtGood"] = (301, "text/plain", b"", {"Location": "/simple/qtgood/"})
        proxy = make_proxy()
        away = httpx.get(f"{proxy.url}/simple/qtaway/")
        assert away.status_code == 502 and "redirects to another host" in away.text
        assert other.hits == []  # never contacted
        assert httpx.get(f"{proxy.url}/simple/qtgood/").status_code == 200
    finally:
        other.stop()


def test_a_file_over_the_size_limit_is_502_and_not_cached(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    proxy = make_proxy(max_file_bytes=100)
    got = httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}")
    assert got.status_code == 502 and "larger than the limit" in got.text
    assert not proxy.app.cache.has(dist.sha256)
    assert not any(Path(proxy.app.config.cache_dir, "tmp").iterdir())


def test_malformed_client_requests(upstream: LocalUpstream, make_proxy: MakeProxy) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    proxy = make_proxy()
    for path, status in (
        ("/simple/a%20b/", 400),
        ("/simple/-qtalpha/", 400),
        ("/simple/" + "a" * 300 + "/", 400),
        ("/files/qtalpha/..%2F..%2Fetc%2Fpasswd", 404),  # decoded to a path: no such route
        ("/files/qtalpha/qtalpha-9.0-py3-none-any.whl", 404),
        ("/files/qtnothing/qtnothing-1.0.tar.gz", 404),
        ("/files/qtalpha/%00", 400),
    ):
        got = httpx.get(proxy.url + path)
        assert got.status_code == status, (path, got.status_code, got.text)
    assert httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}").status_code == 200
    slashed = httpx.get(f"{proxy.url}/simple/qtalpha", follow_redirects=True)
    assert slashed.status_code == 200 and slashed.url.path == "/simple/qtalpha/"


def test_a_reason_with_line_breaks_cannot_inject_headers(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    from datetime import UTC, datetime

    from bastion._internal.proxy.state import BLOCK, ProxyState, Rule

    dist = upstream.wheel("qtalpha", "1.0", OLD)
    proxy = make_proxy()
    state = ProxyState(proxy.app.config.state)
    reason = "incident\r\nSet-Cookie: owned=1\r\n\r\n<script> ünïcode"
    state.put(Rule(BLOCK, "qtalpha", "", reason, None, datetime.now(UTC)))
    state.close()
    proxy.app.rules = proxy.app.state.rules()  # as the refresher would, without waiting
    got = httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}")
    assert got.status_code == 403 and "set-cookie" not in got.headers
    assert got.headers["x-bastion-reason"].startswith("qtalpha is blocked: incident  Set-Cookie")
    page = httpx.get(f"{proxy.url}/simple/qtalpha/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<script>" not in page.text
