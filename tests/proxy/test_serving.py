"""The proxy's server: files by sendfile (pathsend), keep-alive, HEAD, Range, disconnects, limits.

A real uvicorn server with the proxy's protocol on loopback, read with raw sockets
and http.client so every byte and every connection is the test's own.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from bastion._internal.proxy.serving import LIMITS, PATHSEND, uvicorn_options
from tests.proxy.conftest import OLD, Dist, LocalUpstream, MakeProxy

BIG = 24 * 1024 * 1024  # far beyond the socket buffers: sendfile must loop


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serving") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """``app`` under the proxy's uvicorn settings on 127.0.0.1; yield the port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", **uvicorn_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(15)


def file_app(path: Path) -> Any:
    """Starlette's FileResponse at /file, and a raw ASGI route that says if pathsend is offered."""

    async def file(request: Request) -> Response:
        return FileResponse(path, media_type="application/octet-stream")

    starlette = Starlette(routes=[Route("/file", file, methods=["GET", "HEAD"])])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/raw":
            if PATHSEND not in scope.get("extensions", {}):
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"no pathsend offered"})
                return
            size = str(path.stat().st_size).encode()
            headers = [(b"content-length", size)]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": PATHSEND, "path": str(path)})
            return
        await starlette(scope, receive, send)

    return app


def test_pathsend_is_offered_and_answered_with_the_files_bytes(big_file: Path) -> None:
    with serving(file_app(big_file)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/raw")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body[:100]
        assert int(response.headers["content-length"]) == BIG
        assert hashlib.sha256(body).digest() == hashlib.sha256(big_file.read_bytes()).digest()
        connection.close()


def test_keep_alive_two_whole_files_then_a_head_on_one_connection(big_file: Path) -> None:
    expected = big_file.read_bytes()
    with serving(file_app(big_file)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sockets = []
        for _ in range(2):
            connection.request("GET", "/file")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == expected
            assert response.headers.get("connection", "").lower() != "close"
            sockets.append(connection.sock)
        connection.request("HEAD", "/file")
        head = connection.getresponse()
        assert head.status == 200
        assert int(head.headers["content-length"]) == BIG
        assert head.read() == b""
        sockets.append(connection.sock)
        assert sockets[0] is sockets[1] is sockets[2]  # never reconnected
        connection.close()


def test_a_range_request_gets_exactly_those_bytes(big_file: Path) -> None:
    expected = big_file.read_bytes()
    with serving(file_app(big_file)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/file", headers={"Range": "bytes=1000-1999"})
        response = connection.getresponse()
        assert response.status == 206
        assert response.read() == expected[1000:2000]
        connection.request("GET", "/file", headers={"Range": f"bytes={BIG + 10}-"})
        refused = connection.getresponse()
        refused.read()
        assert refused.status == 416
        connection.close()


def test_a_client_gone_mid_file_leaves_the_server_serving(big_file: Path) -> None:
    expected_digest = hashlib.sha256(big_file.read_bytes()).digest()
    with serving(file_app(big_file)) as port:
        for _ in range(3):
            quitter = socket.create_connection(("127.0.0.1", port), timeout=30)
            quitter.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            quitter.sendall(b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
            assert quitter.recv(4096).startswith(b"HTTP/1.1 200")
            # a reset, not a polite close: the server's sendfile meets a dead socket
            quitter.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            quitter.close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/file")
        response = connection.getresponse()
        assert hashlib.sha256(response.read()).digest() == expected_digest
        connection.close()


def test_a_vanished_file_before_the_body_is_a_closed_connection_not_a_hang(
    tmp_path: Path,
) -> None:
    doomed = tmp_path / "doomed.bin"
    doomed.write_bytes(b"x" * 1000)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        doomed.unlink(missing_ok=True)
        await send({"type": PATHSEND, "path": str(doomed)})

    with serving(app) as port:
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        assert not received.endswith(b"x" * 10)  # the body never came; the socket closed
        client.close()


def test_oversized_headers_and_too_many_connections_are_refused() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    with serving(app) as port:
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        junk = b"X-Junk: " + b"a" * (LIMITS.max_header_bytes + 10) + b"\r\n"
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + junk + b"\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 431")
        client.close()
        held = [socket.create_connection(("127.0.0.1", port), timeout=30)]
        for _ in range(LIMITS.per_client - 1):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=30))
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", port), timeout=30)
        assert extra.recv(4096).startswith(b"HTTP/1.1 429")
        for sock in [*held, extra]:
            sock.close()


def test_the_proxy_serves_a_cached_file_whole_with_head_and_range(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    dist = upstream.add("qtbig", Dist("qtbig-1.0-py3-none-any.whl", data, OLD))
    proxy = make_proxy()
    port = int(proxy.url.rsplit(":", 1)[1])
    path = f"/files/qtbig/{dist.filename}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/simple/qtbig/")
    connection.getresponse().read()
    for _ in range(2):  # cold (fetched and verified), then from the cache
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        assert response.read() == data
    assert upstream.file_hits(dist.filename) == 1
    connection.request("HEAD", path)
    head = connection.getresponse()
    assert head.read() == b""
    assert int(head.headers["content-length"]) == len(data)
    connection.request("GET", path, headers={"Range": "bytes=5-9"})
    ranged = connection.getresponse()
    assert (ranged.status, ranged.read()) == (206, data[5:10])
    connection.close()
