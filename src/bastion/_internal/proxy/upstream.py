"""The upstream index: pages over httpx, files over http.client in a worker thread.

Both follow redirects on the same origin only (at most three), take no proxy
from the environment and verify TLS against certifi's roots.

Pages and metadata files go through httpx (async, streamed, bounded). A
distribution file goes through :meth:`Upstream.download`, a blocking call
made from a worker thread: http.client reads the body straight into the
caller's buffer (``readinto``), which the cache hashes and writes in the same
thread, so the event loop waits once per file, not once per 64 KiB read as
with httpx over h11 (a cProfile of a 300 MB cold download through httpx spent
more time in httpcore's and h11's per-read Python than in sha256). Its
connections are kept alive per origin, a few at most, so many small files do
not pay a handshake each.
"""

from __future__ import annotations

import dataclasses
import http.client
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

from bastion._internal.proxy.model import ProjectPage
from bastion._internal.proxy.parse import (
    MAX_PAGE_BYTES,
    PageError,
    parse_html_page,
    parse_json_page,
    upload_times_from_json_api,
)

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
MAX_REDIRECTS = 3
CHUNK = 256 * 1024
IDLE_PER_ORIGIN = 4  # kept-alive file connections per upstream origin
REDIRECTS = frozenset({301, 302, 303, 307, 308})

T = TypeVar("T")
ReadInto = Callable[[memoryview], int]


class UpstreamError(Exception):
    """Upstream could not be asked, or answered something unusable."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Upstream:
    """One upstream simple index (``https://pypi.org/simple/``)."""

    def __init__(
        self,
        url: str,
        *,
        file_hosts: Collection[str] = (),
        timeout: float = 30.0,
        json_api: bool = True,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream {url!r} is not an http(s) URL")
        self.url = url if url.endswith("/") else url + "/"
        host = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
        self.allowed_hosts = frozenset({host, *(h.lower() for h in file_hosts)})
        self.json_api = json_api
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": "bastion-proxy"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            trust_env=False,
        )
        self._tls: ssl.SSLContext | None = None
        self._idle: dict[str, list[http.client.HTTPConnection]] = {}
        self._idle_lock = threading.Lock()

    async def close(self) -> None:
        """Close the connections."""
        await self.client.aclose()
        with self._idle_lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    @asynccontextmanager
    async def _open(self, url: str, accept: str) -> AsyncIterator[httpx.Response]:
        """A streamed response, after redirects on the same origin only."""
        for _ in range(MAX_REDIRECTS + 1):
            request = self.client.build_request("GET", url, headers={"Accept": accept})
            try:
                response = await self.client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise UpstreamError(f"cannot reach {url}: {exc.__class__.__name__}") from None
            if response.is_redirect:
                target = urljoin(url, response.headers.get("location", ""))
                await response.aclose()
                if _origin(target) != _origin(url):
                    raise UpstreamError(f"{url} redirects to another host ({_origin(target)})")
                url = target
                continue
            try:
                yield response
            finally:
                await response.aclose()
            return
        raise UpstreamError(f"{url}: more than {MAX_REDIRECTS} redirects")

    async def _read(self, url: str, accept: str) -> tuple[int, str, bytes]:
        async with self._open(url, accept) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_PAGE_BYTES:
                raise UpstreamError(f"{url}: page larger than {MAX_PAGE_BYTES // 2**20} MiB")
            body = bytearray()
            try:
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > MAX_PAGE_BYTES:
                        raise UpstreamError(
                            f"{url}: page larger than {MAX_PAGE_BYTES // 2**20} MiB"
                        )
            except httpx.HTTPError as exc:
                raise UpstreamError(f"{url}: {exc.__class__.__name__}") from None
            return response.status_code, response.headers.get("content-type", ""), bytes(body)

    async def page(self, name: str) -> ProjectPage | None:
        """The project page (None when upstream has no such project)."""
        url = urljoin(self.url, f"{name}/")
        status, content_type, body = await self._read(url, ACCEPT)
        if status in (404, 410):
            return None
        if status != 200:
            raise UpstreamError(f"{url}: HTTP {status}")
        try:
            if "json" in content_type:
                page = parse_json_page(body, name, url, self.allowed_hosts)
            else:
                page = parse_html_page(body, name, url, self.allowed_hosts)
                if self.json_api:
                    page = await self._with_times(page)
        except PageError as exc:
            raise UpstreamError(f"{url}: {exc}") from None
        return dataclasses.replace(page, fetched_at=datetime.now(UTC))

    async def _with_times(self, page: ProjectPage) -> ProjectPage:
        """Upload times from the upstream's JSON API (PyPI's HTML pages carry none)."""
        url = urljoin(self.url, f"../pypi/{page.name}/json")
        try:
            status, _, body = await self._read(url, "application/json")
            times = upload_times_from_json_api(body) if status == 200 else {}
        except (UpstreamError, PageError):
            times = {}
        if not times:
            return page
        files = tuple(
            dataclasses.replace(f, upload_time=times.get(f.filename, f.upload_time))
            for f in page.files
        )
        return dataclasses.replace(page, files=files)

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """The bytes of a file, as they arrive (HTTP errors are ``UpstreamError``)."""
        async with self._open(url, "*/*") as response:
            if response.status_code != 200:
                raise UpstreamError(f"{url}: HTTP {response.status_code}")

            async def chunks() -> AsyncIterator[bytes]:
                try:
                    async for chunk in response.aiter_raw(CHUNK):
                        yield chunk
                except httpx.HTTPError as exc:
                    raise UpstreamError(f"{url}: {exc.__class__.__name__}") from None

            yield chunks()

    # --- files, blocking (call from a worker thread) -------------------------------------

    def download(self, url: str, consume: Callable[[ReadInto], T]) -> T:
        """Fetch ``url`` and hand its body to ``consume`` as a ``readinto`` function.

        ``consume`` reads until it gets 0; a body that ends before its declared
        length, a status other than 200, a redirect to another origin or a
        network failure is ``UpstreamError``. Blocking: call it from a thread.
        """
        url, connection, response = self._open_file(url)

        def read_into(buffer: memoryview) -> int:
            try:
                count = response.readinto(buffer)
            except (OSError, http.client.HTTPException) as exc:
                raise UpstreamError(f"{url}: {exc.__class__.__name__}") from None
            if not count and response.length:  # http.client counts Content-Length down
                raise UpstreamError(f"{url}: the connection closed before the end")
            return count

        try:
            result = consume(read_into)
        except BaseException:
            connection.close()
            raise
        self._release(url, connection, response)
        return result

    def _open_file(
        self, url: str
    ) -> tuple[str, http.client.HTTPConnection, http.client.HTTPResponse]:
        """(final URL, connection, its 200 response) after same-origin redirects."""
        for _ in range(MAX_REDIRECTS + 1):
            connection, response = self._request(url)
            if response.status in REDIRECTS:
                target = urljoin(url, response.getheader("location") or "")
                self._finish(url, connection, response)
                if _origin(target) != _origin(url):
                    raise UpstreamError(f"{url} redirects to another host ({_origin(target)})")
                url = target
                continue
            if response.status != 200:
                self._finish(url, connection, response)
                raise UpstreamError(f"{url}: HTTP {response.status}")
            return url, connection, response
        raise UpstreamError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, bool]:
        """A kept-alive connection to the origin of ``url`` (and True), or a new one."""
        with self._idle_lock:
            idle = self._idle.get(_origin(url))
            if idle:
                return idle.pop(), True
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
        if parts.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context(cafile=certifi.where())
            return http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self._tls
            ), False
        if parts.scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self.timeout), False
        raise UpstreamError(f"{url}: not an http(s) URL")

    def _request(self, url: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": "bastion-proxy", "Accept": "*/*"}
        for attempt in (1, 2):
            connection, kept = self._connection(url)
            try:
                connection.request("GET", target, headers=headers)
                return connection, connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if kept and attempt == 1:  # the upstream closed an idle connection: once more
                    continue
                raise UpstreamError(f"cannot reach {url}: {exc.__class__.__name__}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _finish(
        self, url: str, connection: http.client.HTTPConnection, response: http.client.HTTPResponse
    ) -> None:
        """Read a short answer we do not use (a redirect, an error) and keep the connection."""
        try:
            body = response.read(64 * 1024 + 1)
        except (OSError, http.client.HTTPException):
            connection.close()
            return
        if len(body) > 64 * 1024:
            connection.close()
            return
        self._release(url, connection, response)

    def _release(
        self, url: str, connection: http.client.HTTPConnection, response: http.client.HTTPResponse
    ) -> None:
        if not response.isclosed() or response.will_close:
            connection.close()
            return
        with self._idle_lock:
            idle = self._idle.setdefault(_origin(url), [])
            if len(idle) < IDLE_PER_ORIGIN:
                idle.append(connection)
                return
        connection.close()
