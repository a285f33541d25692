"""How the proxy is served: uvicorn with the hardened server's limits, files by ``sendfile``.

``ProxyProtocol`` is uvicorn's h11 protocol with two additions:

- the bounds of :mod:`bastion._internal.hardened_server` (header and body
  deadlines, a header size bound, connections per client address), at the
  proxy's own figures (a CI fleet behind one NAT address opens many
  connections);
- the ASGI ``http.response.pathsend`` extension: it is advertised in every
  HTTP scope, so Starlette's ``FileResponse`` sends the path of a whole file
  instead of its bytes, and the protocol answers it with ``loop.sendfile``
  (``os.sendfile``: the kernel copies page cache to socket, no read into
  Python). Headers (``Content-Length`` set by the response) go first, through
  h11, which also counts the file's length against ``Content-Length``; then the
  file; then the end of the message, after which keep-alive goes on as for any
  response. HEAD and Range answers never use it (Starlette sends those itself).
  A client that goes away mid-file closes only its own connection.

``uvicorn_options`` is what ``bastion proxy serve`` and the tests give uvicorn.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from bastion._internal.hardened_server import ServerLimits, guarded_protocol

LIMITS = ServerLimits(per_client=256, max_connections=1024)
PATHSEND = "http.response.pathsend"
PROTOCOL = "bastion._internal.proxy.serving:ProxyProtocol"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _Span:
    """What h11 passes through in place of a file's bytes: their count."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


class _PathsendProtocol(H11Protocol):
    """uvicorn's h11 protocol answering ``http.response.pathsend`` with ``sendfile``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.app

        async def with_pathsend(scope: Scope, receive: Receive, send: Send) -> None:
            cycle = self.cycle
            if scope["type"] != "http" or cycle is None or cycle.scope is not scope:
                await app(scope, receive, send)
                return
            scope["extensions"] = {**scope.get("extensions", {}), PATHSEND: {}}

            async def send_or_sendfile(message: Message) -> None:
                if message["type"] == PATHSEND:
                    await self._sendfile(cycle, str(message["path"]), send)
                else:
                    await send(message)

            await app(scope, receive, send_or_sendfile)

        self.app = with_pathsend

    async def _sendfile(self, cycle: RequestResponseCycle, path: str, send: Send) -> None:
        if cycle.disconnected:
            return
        if not cycle.response_started or cycle.response_complete:
            raise RuntimeError("pathsend outside a response body")
        if cycle.scope["method"] != "HEAD":
            with Path(path).open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                if self.flow.write_paused:
                    await self.flow.drain()
                try:
                    span = h11.Data(data=_Span(size))  # type: ignore[arg-type]  # passed through
                    pieces = self.conn.send_with_data_passthrough(span)
                    for piece in pieces or ():
                        if self.transport.is_closing():
                            raise ConnectionResetError("the client went away")
                        if isinstance(piece, _Span):
                            await self.loop.sendfile(self.transport, file, 0, size)
                        else:
                            self.transport.write(piece)
                except OSError:  # mid-file: only this connection ends
                    cycle.disconnected = True
                    self.transport.close()
                    return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


ProxyProtocol: type[H11Protocol] = type(
    "ProxyProtocol", (_PathsendProtocol, guarded_protocol(LIMITS)), {}
)


def uvicorn_options() -> dict[str, Any]:
    """uvicorn settings of the proxy: the protocol above and the hardened bounds."""
    return {
        "http": PROTOCOL,
        "limit_concurrency": LIMITS.max_connections,
        "h11_max_incomplete_event_size": LIMITS.max_header_bytes,
        "timeout_keep_alive": int(LIMITS.keep_alive),
    }
