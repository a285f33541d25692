"""``bastion db serve``: the local database behind the OSV HTTP API (v1).

Endpoints, as api.osv.dev defines them, for the PyPI ecosystem:

- ``POST /v1/query``: ``{"package": {"name", "ecosystem"} | {"purl"}, "version"}``
  gives ``{"vulns": [full records]}``; without a version, every record of the
  package. Other ecosystems and commit queries get no results.
- ``POST /v1/querybatch``: ``{"queries": [...]}`` (at most 1,000) gives
  ``{"results": [{"vulns": [{"id", "modified"}]}]}``.
- ``GET /v1/vulns/{id}``: one record, or 404.

So pip-audit (``-s osv --osv-url http://HOST/v1/query``), uv audit
(``--service-url http://HOST/``) and osv-scanner can use one internal server.
Matching is bastion's matcher, so every client gets the same exact answers.
Request bodies are bounded; a bad request is a 400 with a message, never a
traceback. Needs the ``server`` extra (starlette, uvicorn).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bastion._internal.advisories.audit import affects
from bastion._internal.advisories.osv import ECOSYSTEM, ParseWarnings
from bastion._internal.advisories.store import open_database, record_by_id, records_for
from bastion._internal.inputs.common import canonical

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BATCH = 1000


class BadRequestError(Exception):
    """A request the API cannot answer: 400 with this message."""


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"code": 3 if status == 400 else 5, "message": message}, status)


async def _body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadRequestError("request body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequestError("request body too large")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise BadRequestError("request body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequestError("request body should be a JSON object")
    return data


def _package_query(query: object) -> tuple[str, str | None] | None:
    """(canonical name, version or None) for a PyPI query; ``None`` for other ecosystems."""
    if not isinstance(query, dict):
        raise BadRequestError("a query should be a JSON object")
    version = query.get("version")
    if version is not None and not isinstance(version, str):
        raise BadRequestError("version should be a string")
    package = query.get("package")
    if package is None:
        if "commit" in query:
            return None  # commit queries name git revisions, not PyPI releases
        raise BadRequestError("a query needs a package")
    if not isinstance(package, dict):
        raise BadRequestError("package should be a JSON object")
    purl = package.get("purl")
    if isinstance(purl, str):
        return _from_purl(purl, version)
    name, ecosystem = package.get("name"), package.get("ecosystem")
    if not isinstance(name, str) or not name or not isinstance(ecosystem, str):
        raise BadRequestError("package needs a name and an ecosystem, or a purl")
    if ecosystem != ECOSYSTEM:
        return None
    return canonical(name), version


def _from_purl(purl: str, version: str | None) -> tuple[str, str | None] | None:
    if not purl.startswith("pkg:"):
        raise BadRequestError("purl should start with 'pkg:'")
    kind, _, rest = purl[4:].partition("/")
    if kind.lower() != "pypi":
        return None
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    name, _, in_purl = rest.partition("@")
    if not name:
        raise BadRequestError("purl without a name")
    if in_purl and version is not None:
        raise BadRequestError("give the version in the purl or in 'version', not both")
    return canonical(unquote(name)), unquote(in_purl) if in_purl else version


class OsvApi:
    """The HTTP handlers over one read-only database connection."""

    def __init__(self, db_path: Path) -> None:
        self._db: sqlite3.Connection = open_database(db_path, any_thread=True)
        self._warnings = ParseWarnings()

    def matching(self, query: object) -> list[tuple[dict[str, Any], str]]:
        """(record summary, stored JSON) of every record affecting the queried version."""
        parsed = _package_query(query)
        if parsed is None:
            return []
        name, version = parsed
        found = []
        for advisory, raw in records_for(self._db, name):
            if version is None or affects(advisory, name, version, self._warnings):
                modified = advisory.modified.isoformat().replace("+00:00", "Z")
                found.append(({"id": advisory.id, "modified": modified}, raw))
        found.sort(key=lambda item: str(item[0]["id"]))
        return found

    async def query(self, request: Request) -> Response:
        """``POST /v1/query``."""
        try:
            matches = self.matching(await _body(request))
        except BadRequestError as exc:
            return _error(400, str(exc))
        body = '{"vulns":[' + ",".join(raw for _, raw in matches) + "]}" if matches else "{}"
        return Response(body, media_type="application/json")

    async def querybatch(self, request: Request) -> Response:
        """``POST /v1/querybatch``."""
        try:
            queries = (await _body(request)).get("queries")
            if not isinstance(queries, list):
                raise BadRequestError("queries should be a list")
            if len(queries) > MAX_BATCH:
                raise BadRequestError(f"at most {MAX_BATCH} queries per batch")
            results = []
            for query in queries:
                vulns = [summary for summary, _ in self.matching(query)]
                results.append({"vulns": vulns} if vulns else {})
        except BadRequestError as exc:
            return _error(400, str(exc))
        return JSONResponse({"results": results})

    async def vuln(self, request: Request) -> Response:
        """``GET /v1/vulns/{id}``."""
        raw = record_by_id(self._db, str(request.path_params["id"]))
        if raw is None:
            return _error(404, "Bug not found.")
        return Response(raw, media_type="application/json")


def create_app(db_path: Path) -> Starlette:
    """The ASGI application serving ``db_path``."""
    api = OsvApi(db_path)
    return Starlette(
        routes=[
            Route("/v1/query", api.query, methods=["POST"]),
            Route("/v1/querybatch", api.querybatch, methods=["POST"]),
            Route("/v1/vulns/{id:path}", api.vuln, methods=["GET"]),
        ]
    )
