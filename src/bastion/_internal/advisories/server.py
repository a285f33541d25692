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

Hostile clients: request bodies are bounded (4 MiB, 1,000 queries); parsing
and matching run off the event loop in a small pool of worker threads (each
with its own read-only connection), so a few heavy batches cannot stall a
simple lookup; no stored record over ``MAX_RECORD_BYTES`` is ever loaded and
no answer grows over ``MAX_ANSWER_BYTES`` (a 500 that says so, never a
partial answer); header and body deadlines and per-client connection limits
come from ``hardened_server``. A bad request (not JSON, a huge integer, a lone
surrogate or a NUL in a name) is a 400 with a message, never a traceback; a
client that hangs up mid-upload is let go quietly. Needs the ``server`` extra
(starlette, uvicorn).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bastion._internal.advisories.audit import affects
from bastion._internal.advisories.osv import ECOSYSTEM, Advisory, ParseWarnings
from bastion._internal.advisories.store import open_database, record_by_id, records_for
from bastion._internal.inputs.common import canonical

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BATCH = 1000
MAX_RECORD_BYTES = 16 * 1024 * 1024  # as the import's own limit: a larger one was planted
MAX_ANSWER_BYTES = 64 * 1024 * 1024
MAX_TEXT = 1000  # characters of a name, version, purl or id
WORKERS = 2  # threads that parse and match: the event loop stays free for everyone else
_T = TypeVar("_T")


class BadRequestError(Exception):
    """A request the API cannot answer: 400 with this message."""


class TooLargeError(Exception):
    """A stored record or an answer over its bound: 500 with this message, never sent whole."""


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"code": 3 if status == 400 else 5, "message": message}, status)


async def _body(request: Request) -> bytes:
    """The request body, at most ``MAX_BODY_BYTES`` (``ClientDisconnect`` when it hangs up)."""
    declared = request.headers.get("content-length")
    if declared is not None and (
        not declared.isascii() or not declared.isdigit() or int(declared) > MAX_BODY_BYTES
    ):
        raise BadRequestError("request body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequestError("request body too large")
    return bytes(body)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # ValueError: also integers over 4,300 digits
        raise BadRequestError("request body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequestError("request body should be a JSON object")
    return data


def _text(value: object, field: str) -> str:
    """A string from a request that can be looked up: bounded, no NUL, no lone surrogate."""
    if not isinstance(value, str):
        raise BadRequestError(f"{field} should be a string")
    if len(value) > MAX_TEXT:
        raise BadRequestError(f"{field} is longer than {MAX_TEXT} characters")
    if "\x00" in value:
        raise BadRequestError(f"{field} holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequestError(f"{field} is not valid Unicode (a lone surrogate)") from None
    return value


def _package_query(query: object) -> tuple[str, str | None] | None:
    """(canonical name, version or None) for a PyPI query; ``None`` for other ecosystems."""
    if not isinstance(query, dict):
        raise BadRequestError("a query should be a JSON object")
    version = query.get("version")
    if version is not None:
        version = _text(version, "version")
    package = query.get("package")
    if package is None:
        if "commit" in query:
            return None  # commit queries name git revisions, not PyPI releases
        raise BadRequestError("a query needs a package")
    if not isinstance(package, dict):
        raise BadRequestError("package should be a JSON object")
    purl = package.get("purl")
    if isinstance(purl, str):
        return _from_purl(_text(purl, "purl"), version)
    name, ecosystem = package.get("name"), package.get("ecosystem")
    if not isinstance(name, str) or not name or not isinstance(ecosystem, str):
        raise BadRequestError("package needs a name and an ecosystem, or a purl")
    name, ecosystem = _text(name, "package name"), _text(ecosystem, "ecosystem")
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
    try:  # percent-decoding can make a NUL or invalid UTF-8: check what comes out
        name, in_purl = unquote(name, errors="strict"), unquote(in_purl, errors="strict")
    except UnicodeDecodeError:
        raise BadRequestError("purl is not percent-encoded UTF-8") from None
    name = _text(name, "purl name")
    return canonical(name), _text(in_purl, "purl version") if in_purl else version


class OsvApi:
    """The HTTP handlers over a read-only database: one connection per worker thread."""

    def __init__(self, db_path: Path, workers: int = WORKERS) -> None:
        self._path = db_path
        open_database(db_path).close()  # a missing or foreign file fails here, at start
        self._local = threading.local()
        self._warnings = ParseWarnings()
        self._limiter = anyio.CapacityLimiter(workers)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = open_database(self._path)
            self._local.db = db
        return db

    async def _off_loop(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` in the bounded pool; the event loop keeps serving meanwhile."""
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)

    def matching(
        self, query: object, loaded: dict[str, list[tuple[Advisory, str]]] | None = None
    ) -> list[tuple[dict[str, Any], str]]:
        """(record summary, stored JSON) of every record affecting the queried version.

        ``loaded`` keeps each package's parsed records for the rest of a batch, which
        often asks about one package many times.
        """
        parsed = _package_query(query)
        if parsed is None:
            return []
        name, version = parsed
        loaded = {} if loaded is None else loaded
        if name not in loaded:
            loaded[name] = self._records(name)
        found = []
        for advisory, raw in loaded[name]:
            if version is None or affects(advisory, name, version, self._warnings):
                modified = advisory.modified.isoformat().replace("+00:00", "Z")
                found.append(({"id": advisory.id, "modified": modified}, raw))
        found.sort(key=lambda item: str(item[0]["id"]))
        return found

    def _records(self, name: str) -> list[tuple[Advisory, str]]:
        """The package's records; none over ``MAX_RECORD_BYTES`` (checked before loading)."""
        db = self._db()
        largest = db.execute(
            "SELECT a.id, length(a.record) AS size FROM affected f "
            "JOIN advisory a ON a.id = f.advisory_id WHERE f.package = ? AND a.withdrawn = 0 "
            "ORDER BY size DESC LIMIT 1",
            (name,),
        ).fetchone()
        if largest is not None and largest[1] > MAX_RECORD_BYTES:
            raise TooLargeError(f"record {largest[0]} is larger than {_mib(MAX_RECORD_BYTES)}")
        return records_for(db, name)

    def _answer_query(self, body: bytes) -> str:
        matches = self.matching(_json_object(body))
        if sum(len(raw) for _, raw in matches) > MAX_ANSWER_BYTES:
            raise TooLargeError(
                f"the answer is larger than {_mib(MAX_ANSWER_BYTES)}; ask for one version"
            )
        return '{"vulns":[' + ",".join(raw for _, raw in matches) + "]}" if matches else "{}"

    def _answer_batch(self, body: bytes) -> list[dict[str, Any]]:
        queries = _json_object(body).get("queries")
        if not isinstance(queries, list):
            raise BadRequestError("queries should be a list")
        if len(queries) > MAX_BATCH:
            raise BadRequestError(f"at most {MAX_BATCH} queries per batch")
        results = []
        loaded: dict[str, list[tuple[Advisory, str]]] = {}
        for query in queries:
            vulns = [summary for summary, _ in self.matching(query, loaded)]
            results.append({"vulns": vulns} if vulns else {})
        return results

    async def query(self, request: Request) -> Response:
        """``POST /v1/query``."""
        try:
            body = await _body(request)
            answer = await self._off_loop(lambda: self._answer_query(body))
        except BadRequestError as exc:
            return _error(400, str(exc))
        except TooLargeError as exc:
            return _error(500, str(exc))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        return Response(answer, media_type="application/json")

    async def querybatch(self, request: Request) -> Response:
        """``POST /v1/querybatch``."""
        try:
            body = await _body(request)
            results = await self._off_loop(lambda: self._answer_batch(body))
        except BadRequestError as exc:
            return _error(400, str(exc))
        except TooLargeError as exc:
            return _error(500, str(exc))
        except ClientDisconnect:
            return Response(status_code=400)
        return JSONResponse({"results": results})

    async def vuln(self, request: Request) -> Response:
        """``GET /v1/vulns/{id}``: a short indexed lookup, on the loop."""
        try:
            wanted = _text(str(request.path_params["id"]), "id")
        except BadRequestError as exc:
            return _error(400, str(exc))
        db = self._db()
        row = db.execute("SELECT length(record) FROM advisory WHERE id = ?", (wanted,)).fetchone()
        if row is None:
            return _error(404, "Bug not found.")
        if row[0] > MAX_RECORD_BYTES:
            return _error(500, f"record {wanted} is larger than {_mib(MAX_RECORD_BYTES)}")
        raw = record_by_id(db, wanted)
        if raw is None:  # pragma: no cover - the database is read-only
            return _error(404, "Bug not found.")
        return Response(raw, media_type="application/json")


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


def create_app(db_path: Path, workers: int = WORKERS) -> Starlette:
    """The ASGI application serving ``db_path``; serve it with ``hardened_server.serve``."""
    api = OsvApi(db_path, workers)
    return Starlette(
        routes=[
            Route("/v1/query", api.query, methods=["POST"]),
            Route("/v1/querybatch", api.querybatch, methods=["POST"]),
            Route("/v1/vulns/{id:path}", api.vuln, methods=["GET"]),
        ]
    )
