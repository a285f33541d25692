"""What the proxy answers, read with httpx: PEP 691/503/592/658/700/792 and the policy's rules."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import httpx

from bastion._internal.proxy.parse import parse_html_page
from bastion._internal.proxy.render import HTML_TYPE, JSON_TYPE
from tests.proxy.conftest import NOW, OLD, YOUNG, Dist, LocalUpstream, MakeProxy, build_sdist

PIP_ACCEPT = f"{JSON_TYPE}, {HTML_TYPE}; q=0.1, text/html; q=0.01"


def page(proxy_url: str, project: str, accept: str = JSON_TYPE) -> httpx.Response:
    return httpx.get(f"{proxy_url}/simple/{project}/", headers={"Accept": accept}, timeout=30)


def test_content_negotiation_json_html_format_parameter_and_406(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    proxy = make_proxy()
    as_json = page(proxy.url, "qtalpha", PIP_ACCEPT)
    assert as_json.headers["content-type"].startswith(JSON_TYPE)
    assert as_json.headers["vary"] == "Accept"
    assert as_json.json()["meta"]["api-version"].startswith("1.")
    as_html = page(proxy.url, "qtalpha", "text/html")
    assert as_html.headers["content-type"].startswith("text/html")
    assert "qtalpha-1.0-py3-none-any.whl" in as_html.text
    forced = httpx.get(
        f"{proxy.url}/simple/qtalpha/",
        params={"format": JSON_TYPE},
        headers={"Accept": "text/html"},
    )
    assert forced.headers["content-type"].startswith(JSON_TYPE)
    assert page(proxy.url, "qtalpha", "image/png").status_code == 406
    assert (
        page(proxy.url, "qtalpha", f"{JSON_TYPE}; q=0, text/html")
        .headers["content-type"]
        .startswith("text/html")
    )
    # Non-normalised names are answered under the canonical name.
    assert page(proxy.url, "QtAlpha").json()["name"] == "qtalpha"
    root = httpx.get(f"{proxy.url}/simple/", headers={"Accept": JSON_TYPE}).json()
    assert root["projects"] == [{"name": "qtalpha"}]


def test_versions_times_and_sizes_after_filtering(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    old = upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    sdist_name, sdist = build_sdist("qtalpha", "1.0")
    upstream.add("qtalpha", Dist(sdist_name, sdist, OLD))
    proxy = make_proxy()
    data = page(proxy.url, "qtalpha").json()
    assert data["versions"] == ["1.0"]  # 2.0 is too young: not a version of this page
    served = {f["filename"]: f for f in data["files"] if f["yanked"] is False}
    assert set(served) == {old.filename, sdist_name}
    assert served[old.filename]["size"] == len(old.data)
    assert served[old.filename]["upload-time"].startswith(OLD.strftime("%Y-%m-%dT%H:%M"))
    assert served[old.filename]["hashes"] == {"sha256": old.sha256}
    refused = [f for f in data["files"] if f["yanked"] is not False]
    assert len(refused) == 1 and "younger than min-age" in refused[0]["yanked"]
    assert data["_bastion"]["hidden"][0]["rule"] == "age"
    # The sdist downloads too, verified.
    got = httpx.get(f"{proxy.url}/files/qtalpha/{sdist_name}")
    assert got.status_code == 200 and got.content == sdist


def test_without_explain_refused_files_are_left_out(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    upstream.wheel("reqeusts", "1.0", OLD)
    proxy = make_proxy(explain_refusals=False)
    data = page(proxy.url, "qtalpha").json()
    assert [f["filename"] for f in data["files"]] == ["qtalpha-1.0-py3-none-any.whl"]
    refused = page(proxy.url, "reqeusts")
    assert refused.status_code == 403 and "looks like requests" in refused.text


def test_html_page_round_trips_with_yanked_reasons(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    proxy = make_proxy()
    html = page(proxy.url, "qtalpha", "text/html")
    url = f"{proxy.url}/simple/qtalpha/"
    parsed = parse_html_page(
        html.content, "qtalpha", url, {f"127.0.0.1:{proxy.url.rsplit(':', 1)[1]}"}
    )
    by_version = {f.version: f for f in parsed.files}
    assert by_version["1.0"].yanked is False
    assert isinstance(by_version["2.0"].yanked, str) and "younger" in by_version["2.0"].yanked


def test_upstream_yanks_and_provenance_pass_through(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    body = {
        "meta": {"api-version": "1.1"},
        "name": "qtalpha",
        "files": [
            {
                "filename": dist.filename,
                "url": f"/files/{dist.filename}",
                "hashes": {"sha256": dist.sha256},
                "upload-time": OLD.isoformat(),
                "yanked": "broken build",
                "provenance": f"/integrity/qtalpha/1.0/{dist.filename}/provenance",
            }
        ],
    }
    upstream.raw_pages["qtalpha"] = (200, JSON_TYPE, json.dumps(body).encode(), {})
    proxy = make_proxy()
    (entry,) = page(proxy.url, "qtalpha").json()["files"]
    assert entry["yanked"] == "broken build"
    proof = f"{upstream.url}/integrity/qtalpha/1.0/{dist.filename}/provenance"
    assert entry["provenance"] == proof  # PEP 740: upstream's URL, absolute
    html = page(proxy.url, "qtalpha", "text/html").text
    assert 'data-yanked="broken build"' in html and f'data-provenance="{proof}"' in html


def test_metadata_files_are_served_verified(upstream: LocalUpstream, make_proxy: MakeProxy) -> None:
    metadata = b"Metadata-Version: 2.1\nName: qtalpha\nVersion: 1.0\n"
    good = upstream.wheel("qtalpha", "1.0", OLD, metadata=metadata)
    bad = upstream.wheel("qtalpha", "1.1", OLD, metadata=metadata.replace(b"1.0", b"1.1"))
    proxy = make_proxy()
    data = page(proxy.url, "qtalpha").json()  # the page (and its hashes) is kept
    digest = hashlib.sha256(metadata).hexdigest()
    assert data["files"][0]["core-metadata"] == {"sha256": digest}
    got = httpx.get(f"{proxy.url}/files/qtalpha/{good.filename}.metadata")
    assert got.status_code == 200 and got.content == metadata
    declared = hashlib.sha256(bad.metadata or b"").hexdigest()
    bad.metadata = b"Metadata-Version: 2.1\nName: qtalpha\nVersion: 1.1\nRequires-Dist: evil\n"
    tampered = httpx.get(f"{proxy.url}/files/qtalpha/{bad.filename}.metadata")
    assert tampered.status_code == 502 and "sha256 mismatch" in tampered.text
    assert not proxy.app.cache.has(declared)
    assert not any(Path(proxy.app.config.cache_dir, "tmp").iterdir())


def test_quarantined_project_is_refused(upstream: LocalUpstream, make_proxy: MakeProxy) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    body = {
        "meta": {"api-version": "1.4"},
        "name": "qtalpha",
        "project-status": {"status": "quarantined", "reason": "malware reported"},
        "files": [
            {
                "filename": dist.filename,
                "url": f"/files/{dist.filename}",
                "hashes": {"sha256": dist.sha256},
                "upload-time": OLD.isoformat(),
            }
        ],
    }
    upstream.raw_pages["qtalpha"] = (200, JSON_TYPE, json.dumps(body).encode(), {})
    proxy = make_proxy()
    data = page(proxy.url, "qtalpha").json()
    assert data["versions"] == []
    got = httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}")
    assert got.status_code == 403 and "quarantined upstream (PEP 792): malware reported" in got.text


def test_no_upload_time_fails_closed_unless_upstream_is_trusted(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dist = upstream.wheel("qtalpha", "1.0", None)
    closed = make_proxy()
    got = httpx.get(f"{closed.url}/files/qtalpha/{dist.filename}")
    assert got.status_code == 403 and "no upload time" in got.text
    trusted = make_proxy(
        trusted_upstream=True, cache_dir=str(Path(closed.app.config.cache_dir) / "t")
    )
    assert httpx.get(f"{trusted.url}/files/qtalpha/{dist.filename}").content == dist.data


def test_html_only_upstream_gets_times_from_its_json_api(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    upstream.html_only = True
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    without = make_proxy()
    data = page(without.url, "qtalpha").json()
    assert data["versions"] == []  # HTML carries no times: everything hidden
    upstream.json_api = True
    with_api = make_proxy(cache_dir=str(Path(without.app.config.cache_dir) / "api"))
    data = page(with_api.url, "qtalpha").json()
    assert data["versions"] == ["1.0"]


def test_cutoff_denylist_and_allowlist(upstream: LocalUpstream, make_proxy: MakeProxy) -> None:
    upstream.wheel("qtalpha", "1.0", NOW - timedelta(days=60))
    upstream.wheel("qtalpha", "1.1", NOW - timedelta(days=20))
    upstream.wheel("qtbeta", "1.0", OLD)
    cutoff = (NOW - timedelta(days=40)).isoformat()
    proxy = make_proxy(cutoff=cutoff, denylist=("qtbeta",))
    data = page(proxy.url, "qtalpha").json()
    assert data["versions"] == ["1.0"]
    assert "after the cutoff" in data["_bastion"]["hidden"][0]["reason"]
    assert page(proxy.url, "qtbeta").json()["versions"] == []
    ranged = make_proxy(
        denylist=("qtalpha>=1.1",), cache_dir=str(Path(proxy.app.config.cache_dir) / "r")
    )
    assert page(ranged.url, "qtalpha").json()["versions"] == ["1.0"]
    only = make_proxy(allowlist=("qtbeta",), cache_dir=str(Path(proxy.app.config.cache_dir) / "a"))
    assert page(only.url, "qtalpha").json()["versions"] == []
    assert page(only.url, "qtbeta").json()["versions"] == ["1.0"]
    assert "allowlist" in page(only.url, "qtalpha").json()["_bastion"]["hidden"][0]["reason"]


def test_whole_project_malware_record_refuses_every_version(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dist = upstream.wheel("qtmalware", "1.0", OLD)
    proxy = make_proxy()
    got = httpx.get(f"{proxy.url}/files/qtmalware/{dist.filename}")
    assert got.status_code == 403 and "MAL-2025-2" in got.text


def test_concurrent_requests_fetch_a_file_once(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    upstream.slow_files = 0.5
    proxy = make_proxy()
    page(proxy.url, "qtalpha")

    async def many() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            url = f"{proxy.url}/files/qtalpha/{dist.filename}"
            return await asyncio.gather(*(client.get(url) for _ in range(8)))

    answers = asyncio.run(many())
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.content == dist.data for a in answers)
    assert upstream.file_hits(dist.filename) == 1


def test_a_state_change_reaches_a_running_proxy(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    from datetime import UTC, datetime

    from bastion._internal.proxy.state import BLOCK, ProxyState, Rule

    dist = upstream.wheel("qtalpha", "1.0", OLD)
    proxy = make_proxy()
    assert httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}").status_code == 200
    state = ProxyState(proxy.app.config.state)
    state.put(Rule(BLOCK, "qtalpha", "<2", "incident 42", None, datetime.now(UTC)))
    state.close()
    import time

    deadline = time.monotonic() + 20
    while httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}").status_code != 403:
        assert time.monotonic() < deadline, "the block did not reach the proxy"
        time.sleep(0.1)
    got = httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}")
    assert "blocked: incident 42 (<2)" in got.text


def test_health_and_metrics(upstream: LocalUpstream, make_proxy: MakeProxy) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    proxy = make_proxy()
    health = httpx.get(f"{proxy.url}/-/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}")
    httpx.get(f"{proxy.url}/files/qtalpha/{dist.filename}")
    metrics = httpx.get(f"{proxy.url}/-/metrics").text
    assert "bastion_proxy_upstream_file_fetches_total 1" in metrics
    assert "bastion_proxy_file_cache_hits_total 1" in metrics
    assert "bastion_proxy_downloads_served_total 2" in metrics


def test_memory_stays_flat_while_a_large_file_streams(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    import os
    import tracemalloc

    size = 48 * 1024 * 1024
    dist = upstream.add("qtbig", Dist("qtbig-1.0-py3-none-any.whl", os.urandom(size), OLD))
    proxy = make_proxy()
    page(proxy.url, "qtbig")
    tracemalloc.start()
    try:
        received = 0
        digest = hashlib.sha256()
        url = f"{proxy.url}/files/qtbig/{dist.filename}"
        with httpx.stream("GET", url, timeout=120) as answer:
            assert answer.status_code == 200
            for chunk in answer.iter_bytes():
                received += len(chunk)
                digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size and digest.hexdigest() == dist.sha256
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 48 MiB file"


def test_a_kept_page_shows_a_release_the_moment_it_is_old_enough(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    from datetime import UTC, datetime

    uploaded = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", uploaded)
    ready = uploaded + timedelta(days=7)  # the default min-age
    moment = [uploaded + timedelta(hours=2)]
    proxy = make_proxy(clock=lambda: moment[0])
    assert page(proxy.url, "qtalpha").json()["versions"] == ["1.0"]
    assert page(proxy.url, "qtalpha").json()["versions"] == ["1.0"]  # the same answer again
    moment[0] = ready - timedelta(minutes=1)
    assert page(proxy.url, "qtalpha").json()["versions"] == ["1.0"]
    moment[0] = ready
    assert page(proxy.url, "qtalpha").json()["versions"] == ["1.0", "2.0"]
    assert len([h for h in upstream.hits if h.startswith("/simple/")]) == 1  # one fetch


def test_two_instances_sharing_a_cache_fetch_a_file_once(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dist = upstream.wheel("qtalpha", "1.0", OLD)
    upstream.slow_files = 0.5
    first = make_proxy(instance="a")
    second = make_proxy(instance="b")  # the same cache folder, its own process state

    async def many() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            urls = [f"{p.url}/files/qtalpha/{dist.filename}" for p in (first, second)] * 4
            return await asyncio.gather(*(client.get(url) for url in urls))

    answers = asyncio.run(many())
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.content == dist.data for a in answers)
    assert upstream.file_hits(dist.filename) == 1
