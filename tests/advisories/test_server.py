"""bastion db serve: the OSV v1 API over the local database, on a real loopback server."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bastion._internal.advisories.server import MAX_BATCH, create_app
from tests.advisories.test_audit import build_db, osv


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = build_db(
        tmp_path_factory.mktemp("serve"),
        [
            osv(
                "PYSEC-1", "Requests", [{"introduced": "0"}, {"fixed": "2.20.0"}], aliases=["CVE-1"]
            ),
            osv("PYSEC-2", "requests", [{"introduced": "2.0"}, {"fixed": "2.31.0"}]),
            osv("MAL-1", "reqeusts", versions=["1.0"]),
            osv("PYSEC-3", "requests", [{"introduced": "0"}], withdrawn="2025-01-02T00:00:00Z"),
        ],
    )
    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def call(url: str, body: object | bytes | None = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - a loopback URL the test built
        url, data=data, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_query_returns_full_records_of_affecting_advisories(base_url: str) -> None:
    query = {"package": {"name": "REQUESTS", "ecosystem": "PyPI"}, "version": "2.19.1"}
    status, data = call(f"{base_url}/v1/query", query)
    assert status == 200
    assert [v["id"] for v in data["vulns"]] == ["PYSEC-1", "PYSEC-2"]
    assert data["vulns"][0]["aliases"] == ["CVE-1"]  # the record as stored, in full
    status, data = call(f"{base_url}/v1/query", {**query, "version": "2.31.0"})
    assert (status, data) == (200, {})
    # No version: every (non-withdrawn) record of the package.
    _, data = call(f"{base_url}/v1/query", {"package": query["package"]})
    assert [v["id"] for v in data["vulns"]] == ["PYSEC-1", "PYSEC-2"]


def test_purl_other_ecosystems_and_commits(base_url: str) -> None:
    _, data = call(f"{base_url}/v1/query", {"package": {"purl": "pkg:pypi/reqeusts@1.0"}})
    assert [v["id"] for v in data["vulns"]] == ["MAL-1"]
    npm = {"package": {"name": "requests", "ecosystem": "npm"}, "version": "1.0"}
    assert call(f"{base_url}/v1/query", npm) == (200, {})
    assert call(f"{base_url}/v1/query", {"commit": "a" * 40}) == (200, {})


def test_querybatch_gives_ids_and_modified_in_order(base_url: str) -> None:
    queries = [
        {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.25.0"},
        {"package": {"name": "idna", "ecosystem": "PyPI"}, "version": "3.7"},
        {"package": {"name": "reqeusts", "ecosystem": "PyPI"}, "version": "1.0"},
    ]
    status, data = call(f"{base_url}/v1/querybatch", {"queries": queries})
    assert status == 200
    assert data["results"] == [
        {"vulns": [{"id": "PYSEC-2", "modified": "2025-01-01T00:00:00Z"}]},
        {},
        {"vulns": [{"id": "MAL-1", "modified": "2025-01-01T00:00:00Z"}]},
    ]


def test_vulns_by_id(base_url: str) -> None:
    status, data = call(f"{base_url}/v1/vulns/PYSEC-3")
    assert status == 200 and data["withdrawn"] == "2025-01-02T00:00:00Z"
    assert call(f"{base_url}/v1/vulns/CVE-404")[0] == 404


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("query", b"{not json", "not JSON"),
        ("query", b"[]", "JSON object"),
        ("query", {"version": "1"}, "needs a package"),
        ("query", {"package": {"name": "x"}}, "name and an ecosystem"),
        ("query", {"package": {"purl": "pkg:pypi/x@1"}, "version": "2"}, "not both"),
        ("query", {"package": {"name": "x", "ecosystem": "PyPI"}, "version": 1}, "string"),
        ("querybatch", {"queries": "x"}, "should be a list"),
        ("querybatch", {"queries": [{}] * (MAX_BATCH + 1)}, "at most 1000"),
    ],
)
def test_bad_requests_are_400_with_a_message(
    base_url: str, path: str, body: object, message: str
) -> None:
    status, data = call(f"{base_url}/v1/{path}", body)
    assert status == 400 and message in data["message"]


def test_an_oversized_body_is_refused_before_it_is_read(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/v1/query")
    connection.putheader("Content-Length", str(64 * 1024 * 1024))
    connection.endheaders()
    connection.send(b'{"package": ')
    response = connection.getresponse()
    assert response.status == 400 and b"too large" in response.read()
    connection.close()


def test_serve_without_a_database_is_an_input_error(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    code, _, err = run_cli("db", "serve", "--db", str(tmp_path / "none.sqlite3"))
    assert code == 3 and "no advisory database" in err
