"""The ASGI application: simple index pages, verified downloads, health and metrics.

Routes:

- ``GET /simple/`` and ``GET /simple/{project}/``: PEP 691 JSON or PEP 503 HTML
  (``Accept`` or ``?format=``; ``Vary: Accept``), after the policy;
- ``GET /files/{project}/{filename}``: the file, verified against upstream's
  sha256 before the first byte is sent; 403 with the reason when the policy
  hides it; ``…/{filename}.metadata``: its PEP 658 metadata, verified too;
- ``GET /-/health`` and ``GET /-/metrics`` (Prometheus text).

Project pages are kept in the cache folder for ``page_ttl`` seconds; when
upstream fails, a kept page is served (policy applied) however old, and a
project without one is a 502. Concurrent requests for one file or one page
in a process share one upstream fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from bastion._internal.db_url import sqlite_path
from bastion._internal.proxy.audit import AuditLog
from bastion._internal.proxy.cache import FileCache, IntegrityError
from bastion._internal.proxy.config import ProxyConfig
from bastion._internal.proxy.intel import Intel
from bastion._internal.proxy.model import IndexFile, ProjectPage
from bastion._internal.proxy.parse import project_name, safe_filename
from bastion._internal.proxy.policy import Policy, Verdict, judge, valid_until
from bastion._internal.proxy.render import (
    HTML_TYPE,
    JSON_TYPE,
    choose_format,
    page_html,
    page_json,
    root_html,
    root_json,
)
from bastion._internal.proxy.state import ProxyState, Rule
from bastion._internal.proxy.upstream import Upstream, UpstreamError

MAX_METADATA_BYTES = 16 * 1024 * 1024
REMEMBERED_PAGES = 2048  # fresh pages kept in memory per worker (the files stay the truth)


class _FileResponse(FileResponse):
    chunk_size = 4 * 1024 * 1024  # fewer thread hops than starlette's 64 KiB


def _text(status: int, message: str, **headers: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers or None)


def _refused(message: str, reason: str) -> Response:
    """403 with the reason in the body and (ASCII, bounded) in ``X-Bastion-Reason``."""
    printable = "".join(c if " " <= c <= "~" else " " for c in reason)  # no header injection
    header = printable[:1000]
    return _text(403, message, **{"X-Bastion-Reason": header})


@dataclass(frozen=True, slots=True)
class _Judged:
    """A verdict, what it was judged on, the time span it holds for, and its rendered pages."""

    page: ProjectPage
    rules: tuple[Rule, ...]
    verdict: Verdict
    since: datetime
    until: datetime
    pages: dict[str, bytes]


class _SingleFlight:
    """One running task per key: concurrent callers await the same result."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, work: Callable[[], Awaitable[Any]]) -> Any:
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            result = await work()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._running[key]


class ProxyApp:
    """The proxy's state: settings, policy, rules, cache, upstream, audit log, counters."""

    def __init__(
        self,
        config: ProxyConfig,
        *,
        policy: Policy | None = None,
        intel: Intel | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.policy = policy or config.policy()
        approved: frozenset[str] = frozenset()
        if config.approved_file:
            from bastion._internal.names.approved import read_approved

            approved = read_approved(Path(config.approved_file))
        self.intel = intel or Intel(
            sqlite_path(config.advisory_db, "--advisory-db") if config.advisory_db else None,
            approved=approved,
            judge_names=config.judge_names,
        )
        self.clock = clock or (lambda: datetime.now(UTC))
        self.cache = FileCache(Path(config.cache_dir))
        self.state = ProxyState(config.state)
        self.rules: tuple[Rule, ...] = self.state.rules()
        self.rules_read_at = time.monotonic()
        self.state_error = ""
        self.audit = AuditLog(Path(config.audit_log) if config.audit_log else None, config.instance)
        self.upstream: Upstream | None = None
        self.metrics: Counter[str] = Counter()
        self._pages = _SingleFlight()
        self._fresh: dict[str, ProjectPage] = {}
        self._verdicts: dict[str, _Judged] = {}
        self._files = _SingleFlight()
        self._fetch_slots: anyio.CapacityLimiter | None = None
        self._refresher: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.upstream = Upstream(
            self.config.upstream,
            file_hosts=self.config.file_hosts,
            timeout=self.config.upstream_timeout_seconds,
        )
        # file fetches have threads of their own: a slow upstream cannot take every thread
        # that page reads and writes need
        self._fetch_slots = anyio.CapacityLimiter(self.config.upstream_fetches)
        self._refresher = asyncio.create_task(self._refresh_rules())
        try:
            yield
        finally:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            await self.upstream.close()
            self.state.close()
            self.audit.close()

    async def _refresh_rules(self) -> None:
        while True:
            await asyncio.sleep(self.config.state_refresh_seconds)
            try:
                rules = await run_in_threadpool(self.state.rules)
                if rules != self.rules:  # the same object while nothing changed: verdicts stay
                    self.rules = rules
                self.rules_read_at = time.monotonic()
                self.state_error = ""
            except Exception as exc:
                self.state_error = f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
                self.metrics["state_errors_total"] += 1

    def starlette(self) -> Starlette:
        """The ASGI application."""
        return Starlette(
            routes=[
                Route("/simple/", self.root),
                Route("/simple/{project}/", self.project),
                Route("/simple/{project}", self.project_redirect),
                Route("/files/{project}/{filename}", self.download),
                Route("/-/health", self.health),
                Route("/-/metrics", self.prometheus),
            ],
            lifespan=self.lifespan,
        )

    # --- pages -----------------------------------------------------------------------

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else ""

    async def _page(self, name: str) -> ProjectPage | None:
        """The upstream page: kept and fresh, else fetched; kept and stale when upstream fails."""
        now = datetime.now(UTC)
        kept = self._fresh.get(name)
        if (
            kept is None
            or kept.fetched_at is None
            or ((now - kept.fetched_at).total_seconds() >= self.config.page_ttl_seconds)
        ):
            kept = await run_in_threadpool(self.cache.load_page, name)
        if (
            kept is not None
            and kept.fetched_at is not None
            and (now - kept.fetched_at).total_seconds() < self.config.page_ttl_seconds
        ):
            self.metrics["page_cache_hits_total"] += 1
            self._remember(kept)
            return kept

        async def fetch() -> ProjectPage | None:
            assert self.upstream is not None  # noqa: S101 - set by the lifespan
            self.metrics["upstream_page_fetches_total"] += 1
            page = await self.upstream.page(name)
            if page is not None:
                await run_in_threadpool(self.cache.save_page, page)
                self._remember(page)
            return page

        try:
            page: ProjectPage | None = await self._pages.run(name, fetch)
        except UpstreamError as exc:
            self.metrics["upstream_errors_total"] += 1
            if kept is None:
                raise
            self.audit.write("stale-page", project=name, reason=str(exc))
            return kept
        return page

    def _remember(self, page: ProjectPage) -> None:
        if len(self._fresh) >= REMEMBERED_PAGES and page.name not in self._fresh:
            self._fresh.clear()
        self._fresh[page.name] = page

    def _judged(self, page: ProjectPage) -> _Judged:
        """The verdict on a page, judged again only when the page, the rules or time change it."""
        now = self.clock()
        known = self._verdicts.get(page.name)
        if (
            known is not None
            and known.page is page
            and known.rules is self.rules
            and known.since <= now < known.until
        ):
            return known
        verdict = judge(page, self.policy, self.rules, self.intel, now)
        until = valid_until(page, self.policy, self.rules, now)
        judged = _Judged(page, self.rules, verdict, now, until, {})
        if len(self._verdicts) >= REMEMBERED_PAGES and page.name not in self._verdicts:
            self._verdicts.clear()
        self._verdicts[page.name] = judged
        return judged

    async def _verdict(self, raw: str) -> tuple[str, _Judged] | Response:
        name = project_name(raw)
        if name is None:
            return _text(400, f"{raw[:100]!r} is not a project name")
        try:
            page = await self._page(name)
        except UpstreamError as exc:
            return _text(502, f"upstream failed and no page of {name} is kept: {exc}")
        if page is None:
            return _text(404, f"{name}: no such project upstream")
        return name, self._judged(page)  # on the loop: cheaper than a thread hop

    async def root(self, request: Request) -> Response:
        fmt = choose_format(request.headers.get("accept", ""), request.query_params.get("format"))
        if fmt is None:
            return _text(406, f"offered: {JSON_TYPE}, {HTML_TYPE}, text/html")
        names = await run_in_threadpool(self.cache.page_names)
        if fmt == "json":
            return Response(root_json(names), media_type=JSON_TYPE, headers={"Vary": "Accept"})
        return Response(root_html(names), media_type="text/html", headers={"Vary": "Accept"})

    async def project_redirect(self, request: Request) -> Response:
        return Response(status_code=301, headers={"Location": f"{request.url.path}/"})

    async def project(self, request: Request) -> Response:
        self.metrics["page_requests_total"] += 1
        raw = request.path_params["project"]
        fmt = choose_format(request.headers.get("accept", ""), request.query_params.get("format"))
        if fmt is None:
            return _text(406, f"offered: {JSON_TYPE}, {HTML_TYPE}, text/html")
        found = await self._verdict(raw)
        if isinstance(found, Response):
            return found
        name, judged = found
        verdict = judged.verdict
        client = self._client(request)
        if verdict.refused is not None:
            self.metrics["pages_refused_total"] += 1
            self.audit.write(
                "refuse-project",
                project=name,
                rule=verdict.refused.rule,
                reason=verdict.refused.reason,
                client=client,
            )
            if not self.config.explain_refusals:
                return _refused(verdict.refused.reason, verdict.refused.reason)
        for item, decision in verdict.files if verdict.refused is None else ():
            if decision.rule not in ("age", "trusted") or not decision.served:
                self.audit.write(
                    "list" if decision.served else "hide",
                    project=name,
                    filename=item.filename,
                    rule=decision.rule,
                    reason=decision.reason,
                    client=client,
                )
        body = judged.pages.get(fmt)
        if body is None:
            explain = self.config.explain_refusals
            render = page_json if fmt == "json" else page_html
            body = judged.pages[fmt] = render(name, verdict, "active", explain)
        media = JSON_TYPE if fmt == "json" else "text/html"
        return Response(body, media_type=media, headers={"Vary": "Accept"})

    # --- files -----------------------------------------------------------------------

    async def download(self, request: Request) -> Response:
        self.metrics["download_requests_total"] += 1
        raw, filename = request.path_params["project"], request.path_params["filename"]
        metadata = filename.endswith(".metadata")
        wanted = filename.removesuffix(".metadata") if metadata else filename
        if not safe_filename(wanted):
            return _text(400, "not a distribution file name")
        found = await self._verdict(raw)
        if isinstance(found, Response):
            return found
        name, judged = found
        verdict = judged.verdict
        decision = verdict.decision(wanted)
        client = self._client(request)
        if decision is None:
            return _text(404, f"{name} has no file {wanted}")
        if not decision.served:
            self.metrics["downloads_refused_total"] += 1
            self.audit.write(
                "refuse-download",
                project=name,
                filename=wanted,
                rule=decision.rule,
                reason=decision.reason,
                client=client,
            )
            reason = f"bastion proxy refused {wanted}: {decision.reason}"
            return _refused(reason, decision.reason)
        item = next(f for f, _ in verdict.files if f.filename == wanted)
        if metadata:
            return await self._metadata(item)
        try:
            path = await self._fetch(item)
        except IntegrityError as exc:
            self.metrics["integrity_failures_total"] += 1
            self.audit.write(
                "tampered", project=name, filename=wanted, reason=str(exc), client=client
            )
            return _text(502, f"bastion proxy refused {wanted}: {exc}")
        except UpstreamError as exc:
            self.metrics["upstream_errors_total"] += 1
            return _text(502, f"upstream failed for {wanted}: {exc}")
        self.audit.write(
            "download",
            project=name,
            filename=wanted,
            sha256=item.sha256,
            rule=decision.rule,
            reason=decision.reason,
            client=client,
        )
        self.metrics["downloads_served_total"] += 1
        return _FileResponse(
            path,
            media_type="application/octet-stream",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    async def _fetch(self, item: IndexFile) -> Path:
        """The verified file in the cache, fetched from upstream once when missing."""
        path = self.cache.path(item.sha256)
        if path.is_file():
            self.metrics["file_cache_hits_total"] += 1
            return path

        async def fetch() -> Path:
            async with self.cache.exclusive(item.sha256):
                if path.is_file():  # another worker or instance fetched it meanwhile
                    self.metrics["file_cache_hits_total"] += 1
                    return path
                assert self.upstream is not None  # noqa: S101 - set by the lifespan
                self.metrics["upstream_file_fetches_total"] += 1
                upstream, cache, limit = self.upstream, self.cache, self.config.max_file_bytes

                def consume(read_into: Callable[[memoryview], int]) -> Path:
                    return cache.store_from(read_into, item.sha256, limit)

                # fetched, hashed and written in one worker thread: one hop per file
                stored = await anyio.to_thread.run_sync(
                    upstream.download, item.url, consume, limiter=self._fetch_slots
                )
            self.metrics["upstream_bytes_total"] += stored.stat().st_size
            return stored

        result: Path = await self._files.run(item.sha256, fetch)
        return result

    async def _metadata(self, item: IndexFile) -> Response:
        if item.core_metadata is None:
            return _text(404, f"upstream serves no metadata file for {item.filename}")
        path = self.cache.path(item.core_metadata)
        if not path.is_file():
            assert self.upstream is not None  # noqa: S101 - set by the lifespan
            url = item.url + ".metadata"
            try:
                async with self.upstream.stream(url) as chunks:
                    path = await self.cache.store(chunks, item.core_metadata, MAX_METADATA_BYTES)
            except IntegrityError as exc:
                self.metrics["integrity_failures_total"] += 1
                self.audit.write("tampered", filename=item.filename + ".metadata", reason=str(exc))
                return _text(502, f"bastion proxy refused the metadata of {item.filename}: {exc}")
            except UpstreamError as exc:
                return _text(502, f"upstream failed for the metadata of {item.filename}: {exc}")
        return _FileResponse(path, media_type="text/plain")

    # --- operations ------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        age = time.monotonic() - self.rules_read_at
        stale = age > max(30.0, 10 * self.config.state_refresh_seconds)
        writable = os.access(self.cache.tmp, os.W_OK)
        ok = not self.state_error and not stale and writable
        body = {
            "status": "ok" if ok else "degraded",
            "instance": self.config.instance,
            "rules": len(self.rules),
            "rules_age_seconds": round(age, 1),
            "state_error": self.state_error,
            "cache_writable": writable,
        }
        from starlette.responses import JSONResponse

        return JSONResponse(body, status_code=200 if ok else 503)

    async def prometheus(self, request: Request) -> Response:
        lines = []
        for key in sorted(self.metrics):
            metric = f"bastion_proxy_{key}"
            lines.append(f"# TYPE {metric} counter")
            lines.append(f"{metric} {self.metrics[key]}")
        lines.append("# TYPE bastion_proxy_rules gauge")
        lines.append(f"bastion_proxy_rules {len(self.rules)}")
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def create_app(config: ProxyConfig, **options: Any) -> Starlette:
    """The ASGI application for these settings."""
    return ProxyApp(config, **options).starlette()


def app_from_environment() -> Starlette:
    """The application for a uvicorn worker: settings from ``$BASTION_PROXY_CONFIG`` (JSON)."""
    return create_app(ProxyConfig.from_json(os.environ["BASTION_PROXY_CONFIG"]))
