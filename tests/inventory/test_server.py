"""bastion inventory serve: a real loopback server, a bearer token, both database engines."""

from __future__ import annotations

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

from bastion._internal.inventory.server import create_app
from bastion._internal.inventory.store import Inventory
from tests.advisories.test_audit import build_db, osv

TOKEN = "s3cret-token-for-tests"  # noqa: S105 - a test token for a loopback server
SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "components": [
        {"name": "urllib3", "version": "1.26.4", "purl": "pkg:pypi/urllib3@1.26.4"},
        {"name": "idna", "version": "3.7", "purl": "pkg:pypi/idna@3.7"},
    ],
}


@pytest.fixture
def base_url(inventory_db: str, tmp_path: Path) -> Iterator[str]:
    advisories = build_db(
        tmp_path,
        [osv("PYSEC-9", "urllib3", [{"introduced": "0"}, {"fixed": "1.26.5"}], aliases=["CVE-9"])],
    )
    inventory = Inventory(inventory_db)
    config = uvicorn.Config(
        create_app(inventory, TOKEN, advisories), host="127.0.0.1", port=0, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    inventory.close()


def call(url: str, body: bytes | None = None, token: str | None = TOKEN) -> tuple[int, Any]:
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - loopback
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_ingest_and_query_over_http(base_url: str) -> None:
    status, data = call(f"{base_url}/v1/sboms?service=api&release=2.0", json.dumps(SBOM).encode())
    assert (status, data["stored"]) == (201, 2)
    status, data = call(f"{base_url}/v1/components?purl_prefix=pkg:pypi/urllib3")
    assert status == 200 and [m["version"] for m in data["matches"]] == ["1.26.4"]
    status, data = call(f"{base_url}/v1/components?package=idna%3E%3D3&latest_only=1")
    assert status == 200 and data["matches"][0]["service"] == "api"
    status, data = call(f"{base_url}/v1/advisories/CVE-9/services")
    assert status == 200
    assert data["advisory"] == "PYSEC-9" and data["services"] == {"api": ["2.0"]}
    status, data = call(f"{base_url}/v1/sboms?service=api&release=2.0", json.dumps(SBOM).encode())
    assert status == 409


def test_token_and_bad_input(base_url: str) -> None:
    assert call(f"{base_url}/v1/components?purl_prefix=pkg:", token=None)[0] == 401
    assert call(f"{base_url}/v1/components?purl_prefix=pkg:", token="wrong-token-xxxxxxx")[0] == 401  # noqa: S106
    status, data = call(f"{base_url}/v1/sboms?service=api&release=1", b"not an sbom")
    assert status == 400 and "neither JSON nor XML" in data["error"]
    bad = dict(SBOM, components=[{"name": "x", "version": "1", "purl": "nope"}])
    status, data = call(f"{base_url}/v1/sboms?service=api&release=1", json.dumps(bad).encode())
    assert status == 400 and "does not parse" in data["error"]
    assert call(f"{base_url}/v1/components?purl_prefix=pkg:pypi/x")[1] == {"matches": []}
    assert call(f"{base_url}/v1/sboms?service=api", b"{}")[0] == 400
    assert call(f"{base_url}/v1/advisories/NOPE-1/services")[0] == 404
    assert call(f"{base_url}/v1/components")[0] == 400


def test_short_tokens_are_refused(tmp_path: Path) -> None:
    from bastion._internal.errors import UsageError

    inventory = Inventory(tmp_path / "i.sqlite")
    with pytest.raises(UsageError, match="at least 16"):
        create_app(inventory, "short")
    inventory.close()
