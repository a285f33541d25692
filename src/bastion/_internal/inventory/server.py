"""``bastion inventory serve``: the inventory over HTTP, behind a bearer token.

- ``POST /v1/sboms?service=S&release=R[&released_at=T]``: the body is an SBOM
  (CycloneDX JSON/XML or SPDX JSON, at most 64 MiB); 201 with the count, 400
  when it cannot be read (nothing stored), 409 when the release exists.
- ``GET /v1/components?purl_prefix=P`` or ``?package=SPEC`` (``&latest_only=1``).
- ``GET /v1/advisories/{id}/services`` (``?latest_only=1``): the services and
  releases that ship a version the advisory (or an alias) affects.

Every request needs ``Authorization: Bearer TOKEN`` (compared in constant
time); errors are JSON with a message, never a traceback. Service and
release names are checked before the body is read (at most 200 printable
characters); the body streams into a buffer bounded by ``MAX_SBOM_BYTES``
and is read, element counts first, in a worker thread, at most
``PARSERS`` uploads at a time, so a large upload neither blocks other
requests nor multiplies its memory by the number of clients. A client that
hangs up mid-upload is let go without a traceback. Serve it with
``hardened_server.serve`` (deadlines, per-client limits). Needs the server
and inventory extras.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bastion._internal.errors import BastionError, InputError, UsageError
from bastion._internal.inputs.common import parse_timestamp
from bastion._internal.inventory.query import (
    UnknownAdvisoryError,
    by_advisory,
    by_requirement,
    rows,
)
from bastion._internal.inventory.store import (
    Inventory,
    StoredComponent,
    check_name,
    components_of,
)
from bastion._internal.report.common import printable
from bastion._internal.sbom.read import read_sbom

MAX_SBOM_BYTES = 64 * 1024 * 1024
MIN_TOKEN_LENGTH = 16
PARSERS = 1  # uploads read at a time (a 64 MiB SBOM of 200,000 components: ~600 MiB); others wait


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class InventoryApi:
    """The endpoints, over one inventory and one advisory database."""

    def __init__(self, inventory: Inventory, token: str, advisory_db: Path | None) -> None:
        if len(token) < MIN_TOKEN_LENGTH:
            raise UsageError(f"the bearer token should have at least {MIN_TOKEN_LENGTH} characters")
        self.inventory = inventory
        self.token = token.encode()
        self.advisory_db = advisory_db
        self._parsers = anyio.CapacityLimiter(PARSERS)

    def _allowed(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token
        )

    async def ingest(self, request: Request) -> Response:
        if not self._allowed(request):
            return _error(401, "a valid bearer token is required")
        service = request.query_params.get("service", "")
        release = request.query_params.get("release", "")
        if not service or not release:
            return _error(400, "service and release are required query parameters")
        try:  # before a byte of the body is read
            check_name("service", service)
            check_name("release", release)
        except UsageError as exc:
            return _error(400, str(exc))
        when = None
        if "released_at" in request.query_params:
            when = parse_timestamp(request.query_params["released_at"])
            if when is None:
                return _error(400, "released_at is not a date or time")
        declared = request.headers.get("content-length", "0")
        if not declared.isascii() or not declared.isdigit() or int(declared) > MAX_SBOM_BYTES:
            return _error(413, f"an SBOM is at most {MAX_SBOM_BYTES // 2**20} MiB")
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_SBOM_BYTES:
                    return _error(413, f"an SBOM is at most {MAX_SBOM_BYTES // 2**20} MiB")
        except ClientDisconnect:
            return Response(status_code=400)  # the client hung up: nobody reads this
        try:
            components = await anyio.to_thread.run_sync(_components, body, limiter=self._parsers)
            del body
            count = await run_in_threadpool(
                self.inventory.ingest, service, release, components, when
            )
        except InputError as exc:
            return _error(400, printable(exc.message))
        except UsageError as exc:
            status = 409 if "already in the inventory" in str(exc) else 400
            return _error(status, printable(str(exc)))
        return JSONResponse(
            {"service": service, "release": release, "stored": count}, status_code=201
        )

    async def components(self, request: Request) -> Response:
        if not self._allowed(request):
            return _error(401, "a valid bearer token is required")
        latest = request.query_params.get("latest_only", "") in ("1", "true", "yes")
        prefix = request.query_params.get("purl_prefix")
        package = request.query_params.get("package")
        if bool(prefix) == bool(package):
            return _error(400, "give purl_prefix or package")
        try:
            if prefix:
                hits = await run_in_threadpool(self.inventory.by_purl_prefix, prefix, latest)
            else:
                hits = await run_in_threadpool(by_requirement, self.inventory, str(package), latest)
        except BastionError as exc:
            return _error(400, str(exc))
        return JSONResponse({"matches": rows(hits)})

    async def advisory(self, request: Request) -> Response:
        if not self._allowed(request):
            return _error(401, "a valid bearer token is required")
        latest = request.query_params.get("latest_only", "") in ("1", "true", "yes")
        wanted = request.path_params["id"]
        try:
            found, hits = await run_in_threadpool(
                by_advisory, self.inventory, wanted, self.advisory_db, latest
            )
        except UnknownAdvisoryError as exc:
            return _error(404, exc.public())  # not the server's database path
        except UsageError as exc:
            return _error(400, str(exc))
        services: dict[str, list[str]] = {}
        for hit in hits:
            services.setdefault(hit.service, [])
            if hit.release not in services[hit.service]:
                services[hit.service].append(hit.release)
        payload: dict[str, Any] = {"advisory": found, "services": services, "matches": rows(hits)}
        return JSONResponse(payload)


def _components(body: bytearray) -> list[StoredComponent]:
    """The components of an uploaded SBOM (``InputError`` when it cannot be read)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("<upload>", "the SBOM is not UTF-8 text") from None
    return components_of(read_sbom(Path("<upload>"), text))


def create_app(inventory: Inventory, token: str, advisory_db: Path | None = None) -> Starlette:
    """The ASGI application."""
    api = InventoryApi(inventory, token, advisory_db)
    return Starlette(
        routes=[
            Route("/v1/sboms", api.ingest, methods=["POST"]),
            Route("/v1/components", api.components, methods=["GET"]),
            Route("/v1/advisories/{id:path}/services", api.advisory, methods=["GET"]),
        ]
    )
