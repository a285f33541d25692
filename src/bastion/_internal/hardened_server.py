"""Serving bastion's HTTP APIs (``db serve``, ``inventory serve``): one client cannot stall them.

uvicorn alone keeps a connection open for as long as a client takes to send
its headers and body (50 slowloris sockets stayed open for 60 s), and lets
one address open as many connections as it likes. ``server_config`` gives
uvicorn an HTTP protocol (h11) that adds, per connection:

- a header deadline: the request line and headers within ``header_timeout``
  seconds of the connection opening (or of the previous response ending);
- a body deadline: the whole body within ``body_timeout`` seconds of the
  headers; a late connection is closed, and the handler reading the body sees
  a disconnect;
- a header bound: at most ``max_header_bytes`` before the headers end (``431``,
  closed), whether they arrive in one packet or a byte at a time;
- a per-client bound: at most ``per_client`` open connections from one
  address; the next one gets ``429`` and is closed;

and sets uvicorn's own bounds: ``max_connections`` in all (``503`` beyond)
and a short keep-alive. Handlers
keep their own body-size limits and run slow work off the event loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The bounds a server keeps, per connection, per client address and in all."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    per_client: int = 32
    max_connections: int = 512
    max_header_bytes: int = 64 * 1024
    keep_alive: float = 5.0


def _refusal(status: bytes, message: bytes) -> bytes:
    """A whole HTTP/1.1 response that closes the connection, written before any request runs."""
    body = b'{"error": "' + message + b'"}'
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n" % len(body) + body
    )


_TOO_MANY = _refusal(b"429 Too Many Requests", b"too many connections from this host")
_HEADERS_TOO_LARGE = _refusal(b"431 Request Header Fields Too Large", b"headers too large")


def guarded_protocol(limits: ServerLimits) -> type[H11Protocol]:
    """An h11 protocol class keeping ``limits``; one class (and client count) per server."""
    open_per_client: Counter[str] = Counter()

    class GuardedH11Protocol(H11Protocol):
        _guard: asyncio.TimerHandle | None = None
        _phase = ""
        _counted: str | None = None
        _header_bytes = 0
        _tail = b""

        def data_received(self, data: bytes) -> None:
            if self._phase == "headers":  # count up to the blank line: a body may follow
                window = self._tail + data
                end = window.find(b"\r\n\r\n")
                self._header_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
                self._tail = window[-3:]
                if self._header_bytes > limits.max_header_bytes:
                    self._disarm()
                    self.transport.write(_HEADERS_TOO_LARGE)
                    self.transport.close()
                    return
            super().data_received(data)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            host = self.client[0] if self.client else "?"
            if open_per_client[host] >= limits.per_client:
                transport.write(_TOO_MANY)
                transport.close()
                return
            open_per_client[host] += 1
            self._counted = host
            self._arm("headers", limits.header_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._counted is not None:
                open_per_client[self._counted] -= 1
                if open_per_client[self._counted] <= 0:
                    del open_per_client[self._counted]
                self._counted = None
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            state = self.conn.their_state
            if state is h11.IDLE:
                if self._phase != "headers":
                    self._arm("headers", limits.header_timeout)
            elif state is h11.SEND_BODY:
                if self._phase != "body":
                    self._arm("body", limits.body_timeout)
            else:
                self._disarm()

        def _arm(self, phase: str, seconds: float) -> None:
            self._disarm()
            self._phase = phase
            self._header_bytes, self._tail = 0, b""
            self._guard = self.loop.call_later(seconds, self._late)

        def _disarm(self) -> None:
            if self._guard is not None:
                self._guard.cancel()
            self._guard = None
            self._phase = ""

        def _late(self) -> None:
            """The client took too long to send its headers or body: close the connection."""
            self._guard = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def server_config(
    app: Any, host: str, port: int, limits: ServerLimits | None = None, **options: Any
) -> uvicorn.Config:
    """The uvicorn configuration of a bastion server: guarded protocol, bounded connections."""
    limits = limits or ServerLimits()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(limits),
        limit_concurrency=limits.max_connections,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        timeout_keep_alive=int(limits.keep_alive),
        log_level=options.pop("log_level", "warning"),
        **options,
    )


def serve(app: Any, host: str, port: int, limits: ServerLimits | None = None) -> None:
    """Run ``app`` until interrupted."""
    uvicorn.Server(server_config(app, host, port, limits)).run()
