"""The upstream index, over httpx (async, streaming, bounded, no redirects to other hosts)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

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
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": "bastion-proxy"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the connections."""
        await self.client.aclose()

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
