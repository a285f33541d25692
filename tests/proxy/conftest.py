"""The proxy's test rig: real wheels, a local upstream index, the proxy on loopback, pip and uv.

Everything listens on 127.0.0.1 on ports the tests pick; nothing else is reached.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from bastion._internal.proxy.app import ProxyApp
from bastion._internal.proxy.config import ProxyConfig
from bastion._internal.proxy.serving import uvicorn_options
from tests.advisories.test_audit import build_db, osv

VENV_BIN = Path(sys.executable).parent
UV = VENV_BIN / "uv"
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=30)
YOUNG = NOW - timedelta(hours=2)


def build_wheel(name: str, version: str, body: str = "") -> tuple[str, bytes]:
    """A real, installable pure-Python wheel: (file name, bytes)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": (body or f"VERSION = {version!r}\n").encode(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n"
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{dist}-{version}-py3-none-any.whl", buffer.getvalue()


def build_sdist(name: str, version: str) -> tuple[str, bytes]:
    """A source distribution (PKG-INFO and a pyproject.toml): (file name, bytes)."""
    dist = name.replace("-", "_")
    root = f"{dist}-{version}"
    members = {
        f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{root}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode(),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return f"{root}.tar.gz", buffer.getvalue()


@dataclass
class Dist:
    """A file the upstream serves: its bytes, upload time, and what it claims."""

    filename: str
    data: bytes
    uploaded: datetime | None
    sha256: str = ""
    served_bytes: bytes | None = None  # set to serve other bytes than declared (tampering)
    metadata: bytes | None = None
    content_length: int | None = None  # a Content-Length to claim (then the connection ends)
    hang_up: bool = False  # end the connection after the answer, without saying so

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class LocalUpstream:
    """A PEP 691 index on loopback with chosen upload times; HTML when ``html_only``."""

    projects: dict[str, list[Dist]] = field(default_factory=dict)
    html_only: bool = False
    json_api: bool = False  # serve PyPI's /pypi/NAME/json (upload times for an HTML upstream)
    raw_pages: dict[str, tuple[int, str, bytes, dict[str, str]]] = field(default_factory=dict)
    raw_files: dict[str, tuple[int, str, bytes, dict[str, str]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    connections: int = 0
    files_in_flight: int = 0
    most_files_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    slow_files: float = 0.0
    server: http.server.ThreadingHTTPServer | None = None
    port: int = 0

    def add(self, project: str, dist: Dist) -> Dist:
        self.projects.setdefault(project, []).append(dist)
        return dist

    def wheel(self, project: str, version: str, uploaded: datetime | None, **kw: object) -> Dist:
        filename, data = build_wheel(project, version)
        return self.add(project, Dist(filename, data, uploaded, **kw))  # type: ignore[arg-type]

    def _page(self, project: str) -> tuple[int, str, bytes, dict[str, str]]:
        if project in self.raw_pages:
            return self.raw_pages[project]
        files = self.projects.get(project)
        if files is None:
            return 404, "text/plain", b"not found", {}
        if self.html_only:
            links = "".join(
                f'<a href="/files/{d.filename}#sha256={d.sha256}">{d.filename}</a>\n' for d in files
            )
            return 200, "text/html", f"<html><body>{links}</body></html>".encode(), {}
        entries = []
        for d in files:
            entry: dict[str, object] = {
                "filename": d.filename,
                "url": f"/files/{d.filename}",
                "hashes": {"sha256": d.sha256},
                "size": len(d.data),
            }
            if d.uploaded is not None:
                entry["upload-time"] = d.uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if d.metadata is not None:
                entry["core-metadata"] = {"sha256": hashlib.sha256(d.metadata).hexdigest()}
            entries.append(entry)
        body = {"meta": {"api-version": "1.1"}, "name": project, "files": entries}
        return 200, "application/vnd.pypi.simple.v1+json", json.dumps(body).encode(), {}

    def _json_api(self, project: str) -> tuple[int, str, bytes]:
        files = self.projects.get(project)
        if files is None:
            return 404, "text/plain", b""
        releases: dict[str, list[dict[str, object]]] = {}
        for d in files:
            version = d.filename.split("-")[1]
            when = d.uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if d.uploaded else None
            releases.setdefault(version, []).append(
                {"filename": d.filename, "upload_time_iso_8601": when}
            )
        return 200, "application/json", json.dumps({"releases": releases}).encode()

    def dist(self, filename: str) -> Dist | None:
        for files in self.projects.values():
            for d in files:
                if d.filename == filename:
                    return d
        return None

    def _file(self, filename: str) -> bytes | None:
        for files in self.projects.values():
            for d in files:
                if d.filename == filename:
                    return d.served_bytes if d.served_bytes is not None else d.data
                if d.metadata is not None and filename == d.filename + ".metadata":
                    return d.metadata
        return None

    def start(self) -> None:
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                upstream.connections += 1

            def do_GET(self) -> None:
                if upstream.server is None:  # stopped: kept-alive connections die too
                    self.close_connection = True
                    return
                upstream.hits.append(self.path)
                headers: dict[str, str] = {}
                if self.path.startswith("/simple/"):
                    project = self.path[len("/simple/") :].strip("/")
                    status, content_type, body, headers = upstream._page(project)
                elif self.path.startswith("/pypi/") and upstream.json_api:
                    status, content_type, body = upstream._json_api(self.path.split("/")[2])
                elif self.path[len("/files/") :] in upstream.raw_files:
                    status, content_type, body, headers = upstream.raw_files[self.path[7:]]
                elif self.path.startswith("/files/"):
                    data = upstream._file(self.path[len("/files/") :])
                    if upstream.slow_files:
                        with upstream.lock:
                            upstream.files_in_flight += 1
                            upstream.most_files_in_flight = max(
                                upstream.most_files_in_flight, upstream.files_in_flight
                            )
                        time.sleep(upstream.slow_files)
                        with upstream.lock:
                            upstream.files_in_flight -= 1
                    status, content_type, body = (
                        (200, "application/octet-stream", data)
                        if data is not None
                        else (404, "text/plain", b"")
                    )
                else:
                    status, content_type, body = 404, "text/plain", b""
                length = len(body)
                dist = upstream.dist(self.path[len("/files/") :])
                if dist is not None and self.path.startswith("/files/"):
                    if dist.content_length is not None:
                        length = dist.content_length
                    self.close_connection = dist.hang_up or dist.content_length is not None
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(length))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def file_hits(self, filename: str) -> int:
        return sum(1 for hit in self.hits if hit == f"/files/{filename}")


@pytest.fixture
def upstream() -> Iterator[LocalUpstream]:
    index = LocalUpstream()
    index.start()
    yield index
    index.stop()


@pytest.fixture
def advisory_db(tmp_path: Path) -> Path:
    """A small advisory database: a malicious version, a fixed vulnerability."""
    return build_db(
        tmp_path / "advisories",
        [
            osv("MAL-2025-1", "qtbad", versions=["1.5"], summary="malicious release"),
            osv("MAL-2025-2", "qtmalware", [{"introduced": "0"}], summary="malware"),
            osv("PYSEC-2025-7", "qtfix", [{"introduced": "0"}, {"fixed": "2.0"}], summary="rce"),
        ],
    )


@dataclass
class RunningProxy:
    url: str
    app: ProxyApp
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def index(self) -> str:
        return f"{self.url}/simple/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_proxy(config: ProxyConfig, **options: object) -> RunningProxy:
    """The proxy in a thread on a free loopback port (uvicorn and protocol as ``proxy serve``)."""
    app = ProxyApp(config, **options)  # type: ignore[arg-type]
    server = uvicorn.Server(
        uvicorn.Config(
            app.starlette(), host="127.0.0.1", port=0, log_level="error", **uvicorn_options()
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the proxy did not start"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return RunningProxy(f"http://127.0.0.1:{port}", app, server, thread)


MakeProxy = Callable[..., RunningProxy]


@pytest.fixture
def proxy_config(tmp_path: Path, upstream: LocalUpstream, advisory_db: Path) -> ProxyConfig:
    return ProxyConfig(
        upstream=f"{upstream.url}/simple/",
        file_hosts=(),
        advisory_db=str(advisory_db),
        cache_dir=str(tmp_path / "cache"),
        state=str(tmp_path / "state.sqlite"),
        audit_log=str(tmp_path / "audit.jsonl"),
        state_refresh_seconds=0.2,
        instance="test",
    )


@pytest.fixture
def make_proxy(proxy_config: ProxyConfig) -> Iterator[MakeProxy]:
    started: list[RunningProxy] = []

    def make(config: ProxyConfig | None = None, **changes: object) -> RunningProxy:
        chosen = config or proxy_config
        options = {k: changes.pop(k) for k in ("clock", "policy") if k in changes}
        running = start_proxy(replace(chosen, **changes), **options)  # type: ignore[arg-type]
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


def _client_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy"))
    }
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            "UV_NO_PROGRESS": "1",
            "UV_HTTP_RETRIES": "0",
        }
    )
    return env


def pip_install(index: str, target: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    """The real pip: install into ``target`` from the proxy only."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--index-url",
            index,
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=_client_env(target.parent),
        check=False,
    )


def uv_install(index: str, target: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    """The real uv: install into ``target`` from the proxy only."""
    return subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--no-config",
            "--index-url",
            index,
            "--python",
            sys.executable,
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=_client_env(target.parent),
        check=False,
    )


def installed_version(target: Path, dist: str) -> str | None:
    """The version of ``dist`` installed in ``target`` (from its dist-info), or None."""
    found = sorted(target.glob(f"{dist.replace('-', '_')}-*.dist-info"))
    return found[0].name[len(dist) + 1 : -len(".dist-info")] if found else None


def audit_lines(config: ProxyConfig) -> list[dict[str, object]]:
    assert config.audit_log is not None
    path = Path(config.audit_log)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
