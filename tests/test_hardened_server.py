"""hardened_server: header and body deadlines, per-client limits, on a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bastion._internal.hardened_server import ServerLimits, server_config

FAST = ServerLimits(header_timeout=1.0, body_timeout=1.5, per_client=8, keep_alive=1.0)


@contextmanager
def running(app: object, limits: ServerLimits | None = None) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1 with bastion's server configuration; yield the port."""
    config = server_config(app, "127.0.0.1", 0, limits, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)


async def _echo(request: Request) -> Response:
    try:
        body = await request.body()
    except ClientDisconnect:
        return Response(status_code=400)
    return JSONResponse({"size": len(body)})


APP = Starlette(routes=[Route("/", _echo, methods=["GET", "POST"])])


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP response (headers and a content-length body) read from ``sock``."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.startswith(b"content-length")).split(
            b":"
        )[1]
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def _get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return data


def test_slowloris_headers_are_cut_off() -> None:
    with running(APP, ServerLimits(header_timeout=1.0, per_client=100)) as port:
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
        try:
            for sock in sockets:
                sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: ")  # and never the rest
            started = time.monotonic()
            assert all(_closed_within(sock, 15) for sock in sockets)
            assert time.monotonic() - started < 15  # was: open for 60 s and more
            assert _get(port).startswith(b"HTTP/1.1 200")  # the server still answers
        finally:
            for sock in sockets:
                sock.close()


def test_slow_body_is_cut_off_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with running(APP, FAST) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n" + b"x" * 10)
        assert _closed_within(sock, 15)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_a_fast_client_is_not_cut_off() -> None:
    with running(APP, FAST) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\nabcd")
        assert _response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(0.5)  # within the keep-alive: the next request on the same connection works
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert _response(sock).startswith(b"HTTP/1.1 200")


def test_connections_per_client_are_bounded() -> None:
    with running(APP, FAST) as port:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(FAST.per_client)]
        try:
            time.sleep(0.2)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
                assert extra.recv(4096).startswith(b"HTTP/1.1 429")
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.3)  # the held ones are gone: the address may connect again
        assert _get(port).startswith(b"HTTP/1.1 200")


def test_oversized_headers_are_refused() -> None:
    limits = ServerLimits(max_header_bytes=4096)
    with running(APP, limits) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 10_000 + b"\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 431")
    with running(APP, limits) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n")
        for _ in range(50):  # a byte-at-a-time header grows past the bound too
            sock.sendall(b"x-h: " + b"a" * 100 + b"\r\n")
        sock.settimeout(10)
        assert _response(sock).startswith(b"HTTP/1.1 431")


def test_a_large_body_in_the_first_packet_is_not_taken_for_headers() -> None:
    limits = ServerLimits(max_header_bytes=4096)
    body = b"x" * 200_000
    with running(APP, limits) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body)
        sock.sendall(head + body)
        assert _response(sock).endswith(b'{"size":200000}')
