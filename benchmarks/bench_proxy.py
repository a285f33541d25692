"""Figures for the quarantine proxy: bastion proxy beside devpi-server and proxpi.

Run from the repository root (bastion[proxy] installed) with the peers in a
throwaway virtualenv:

    python3 -m venv /tmp/proxy-peers
    /tmp/proxy-peers/bin/pip install devpi-server proxpi gunicorn
    python benchmarks/bench_proxy.py --peers-venv /tmp/proxy-peers [--rounds 3] [--big-mb 300]
        [--baseline TREE]   # also the proxy of an older tree (git archive COMMIT src | tar -x)

One local upstream (a separate process on 127.0.0.1: PEP 691 JSON with upload
times, or PEP 503 HTML, by Accept; files by sendfile) serves 50 projects of 20
small wheels each and one large file. Each round starts every proxy fresh
(empty cache), one process each: bastion (uvicorn, 1 worker), devpi-server
(waitress, its default 50 threads), proxpi (gunicorn, 1 worker, 8 threads).
Peers run one after another in a rotating order, under the same load from the
same client, and every figure is the median over the rounds with min-max:

- cold page latency: the first request for each project (fetched upstream);
- pages/s from cache: 2,000 project-page requests (pip's Accept header) from
  8 client threads with keep-alive, after every page was fetched once;
- latency added: the median of 200 sequential cached page requests minus the
  median of the same requests sent to the upstream directly;
- download MB/s: the large file, cold (fetched from upstream through the proxy)
  and warm (from the proxy's cache: the median of 5 downloads, each over in a
  tenth of a second); the client reads into one preallocated buffer;
- proxy CPU seconds (user + system, the proxy's process and its children, from
  psutil) spent on each of those two downloads: unlike MB/s, it hardly depends on
  what else the machine runs;
- peak RSS of the proxy process (and its children) while streaming the large
  file cold, sampled every 10 ms with psutil (``--big-mb 1024`` for the issue's
  1 GB figure).

Only loopback is used. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]

PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
PROJECTS = 50
VERSIONS = 20
REQUESTS = 2_000
THREADS = 8
SEQUENTIAL = 200
WARM_DOWNLOADS = 5


# --- the upstream (run as its own process: --serve-upstream DIR PORT) ------------------------


def _build_data(folder: Path, big_mb: int) -> None:
    files = folder / "files"
    files.mkdir(parents=True)
    uploaded = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    index: dict[str, list[dict[str, object]]] = {}
    for p in range(PROJECTS):
        name = f"benchpkg{p:03d}"
        for v in range(VERSIONS):
            filename = f"{name}-1.{v}-py3-none-any.whl"
            data = os.urandom(2048)
            (files / filename).write_bytes(data)
            index.setdefault(name, []).append(
                {"filename": filename, "sha256": hashlib.sha256(data).hexdigest(), "size": 2048}
            )
    digest = hashlib.sha256()
    big = "benchbig-1.0-py3-none-any.whl"
    with (files / big).open("wb") as out:
        for _ in range(big_mb):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    index["benchbig"] = [
        {"filename": big, "sha256": digest.hexdigest(), "size": big_mb * 1024 * 1024}
    ]
    for entries in index.values():
        for entry in entries:
            entry["upload-time"] = uploaded
    (folder / "index.json").write_text(json.dumps(index))


def _serve_upstream(folder: Path, port: int) -> None:
    index = json.loads((folder / "index.json").read_text())
    pages: dict[tuple[str, bool], bytes] = {}
    for name, entries in index.items():
        files = [
            {
                "filename": e["filename"],
                "url": f"/files/{e['filename']}",
                "hashes": {"sha256": e["sha256"]},
                "size": e["size"],
                "upload-time": e["upload-time"],
            }
            for e in entries
        ]
        body = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        pages[(name, True)] = json.dumps(body).encode()
        links = "".join(
            f'<a href="/files/{e["filename"]}#sha256={e["sha256"]}">{e["filename"]}</a><br>\n'
            for e in entries
        )
        pages[(name, False)] = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()

    root_json = json.dumps(
        {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in index]}
    ).encode()
    root_html = (
        "<!DOCTYPE html><html><body>\n"
        + "".join(f'<a href="/simple/{n}/">{n}</a><br>\n' for n in index)
        + "</body></html>\n"
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body are two writes: without this, Nagle and delayed ACKs add 40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            wants_json = "json" in self.headers.get("Accept", "")
            if path == "/simple/":
                if wants_json:
                    self._send(200, "application/vnd.pypi.simple.v1+json", root_json)
                else:
                    self._send(200, "text/html", root_html)
            elif path.startswith("/simple/"):
                name = path[len("/simple/") :].strip("/")
                body = pages.get((name, wants_json))
                if body is None:
                    self._send(404, "text/plain", b"")
                    return
                kind = "application/vnd.pypi.simple.v1+json" if wants_json else "text/html"
                self._send(200, kind, body)
            elif path.startswith("/files/") and "/" not in path[len("/files/") :]:
                target = folder / "files" / path[len("/files/") :]
                if not target.is_file():
                    self._send(404, "text/plain", b"")
                    return
                size = target.stat().st_size
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                with target.open("rb") as handle:
                    self.wfile.flush()
                    self.connection.sendfile(handle)
            else:
                self._send(404, "text/plain", b"")

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


# --- the client ----------------------------------------------------------------------------


def _get(connection: http.client.HTTPConnection, path: str, accept: str = PIP_ACCEPT) -> bytes:
    connection.request("GET", path, headers={"Accept": accept})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {body[:200]!r}")
    return body


def _connection(base: str, timeout: float = 120) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def _page_rate(base: str, page_path: Callable[[str], str]) -> float:
    names = [f"benchpkg{p:03d}" for p in range(PROJECTS)]
    per_thread = REQUESTS // THREADS
    errors: list[str] = []

    def work(offset: int) -> None:
        connection = _connection(base)
        try:
            for i in range(per_thread):
                _get(connection, page_path(names[(offset + i) % len(names)]))
        except Exception as exc:
            errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(t * 7,)) for t in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"page load failed: {errors[0]}")
    return per_thread * THREADS / elapsed


def _latencies(base: str, paths: list[str]) -> list[float]:
    connection = _connection(base)
    times = []
    try:
        for path in paths:
            start = time.perf_counter()
            _get(connection, path)
            times.append(time.perf_counter() - start)
    finally:
        connection.close()
    return times


def _cpu_seconds(pid: int | None) -> float:
    """User plus system CPU seconds used so far by the process and its children."""
    if pid is None:
        return 0.0
    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        times = each.cpu_times()
        total += times.user + times.system
    return total


def _download(
    base: str, path: str, pid: int | None, sample_memory: bool = True
) -> tuple[float, float, float]:
    """(MB/s, peak RSS in MiB, CPU seconds of the proxy's process tree during the download)."""
    peak = [0.0]
    stop = threading.Event()
    cpu_before = _cpu_seconds(pid)

    def sample() -> None:
        if pid is None or not sample_memory:
            return
        process = psutil.Process(pid)
        while not stop.is_set():
            try:
                total = process.memory_info().rss
                for child in process.children(recursive=True):
                    total += child.memory_info().rss
            except psutil.Error:
                total = 0
            peak[0] = max(peak[0], total / 2**20)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    connection = _connection(base, timeout=600)
    size = 0
    start = time.perf_counter()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        buffer = memoryview(bytearray(4 * 1024 * 1024))  # the client copies as little as it can
        while count := response.readinto(buffer):
            size += count
    finally:
        elapsed = time.perf_counter() - start
        connection.close()
        stop.set()
        sampler.join()
    cpu = _cpu_seconds(pid) - cpu_before
    return size / 2**20 / elapsed, peak[0], cpu


# --- the peers -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_up(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            connection = _connection(url, timeout=5)
            connection.request("GET", urlsplit(url).path or "/")
            status = connection.getresponse().status
            connection.close()
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Peer:
    name: str
    base: str = ""
    process: subprocess.Popen[bytes] | None = None
    page_prefix: str = ""
    file_path: Callable[[str], str] = field(default=lambda body: "")

    def page(self, project: str) -> str:
        return f"{self.page_prefix}{project}/"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=sink, start_new_session=True)


def _big_link(base: str, page_path: str) -> str:
    """The download path of the big file, read from the peer's own JSON or HTML page."""
    connection = _connection(base)
    try:
        body = _get(connection, page_path)
    finally:
        connection.close()
    try:
        href = str(json.loads(body)["files"][0]["url"])
    except ValueError:
        text = body.decode()
        href = text.split('href="', 1)[1].split('"', 1)[0]
    href = href.split("#", 1)[0]
    if href.startswith("http"):
        return urlsplit(href).path
    if href.startswith("/"):
        return href
    base_path = page_path.rsplit("/", 2)[0] + "/"
    from urllib.parse import urljoin

    return urlsplit(urljoin(f"http://x{page_path}", href)).path or base_path


def start_bastion(upstream: str, work: Path, source: Path | None = None) -> Peer:
    """bastion proxy from this checkout, or from the ``src`` folder of another tree."""
    port = _free_port()
    env = {**os.environ, "BASTION_CACHE_DIR": str(work / "bastion-home")}
    if source is not None:
        env["PYTHONPATH"] = str(source)  # ahead of the editable install
    command = [sys.executable, "-m", "bastion", "proxy", "serve", "--upstream",
               f"{upstream}/simple/", "--port", str(port), "--cache-dir", str(work / "cache"),
               "--state", str(work / "state.sqlite"), "--workers", "1"]  # fmt: skip
    process = _spawn(command, env, work / "bastion.log")
    base = f"http://127.0.0.1:{port}"
    _wait_up(f"{base}/-/health", process)
    name = "bastion proxy" if source is None else "bastion baseline"
    return Peer(name, base, process, "/simple/")


def start_devpi(upstream: str, work: Path, venv: Path) -> Peer:
    port = _free_port()
    server_dir = work / "devpi"
    env = dict(os.environ)
    subprocess.run(
        [str(venv / "bin" / "devpi-init"), "--serverdir", str(server_dir), "--no-root-pypi",
         "--root-passwd", "bench"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    process = _spawn(
        [str(venv / "bin" / "devpi-server"), "--serverdir", str(server_dir), "--port", str(port),
         "--host", "127.0.0.1"],
        env, work / "devpi.log",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    _wait_up(f"{base}/+api", process)
    connection = _connection(base)
    connection.request(
        "POST", "/+login", json.dumps({"user": "root", "password": "bench"}),
        {"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    token = json.loads(connection.getresponse().read())["result"]["password"]
    auth = base64.b64encode(f"root:{token}".encode()).decode()
    connection.request(
        "PUT", "/root/up",
        json.dumps({"type": "mirror", "mirror_url": f"{upstream}/simple/"}),
        {"Content-Type": "application/json", "Accept": "application/json", "X-Devpi-Auth": auth},
    )  # fmt: skip
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    if answer.status not in (200, 201):
        raise RuntimeError(f"devpi: cannot create the mirror index: {answer.status} {body[:200]!r}")
    return Peer("devpi-server", base, process, "/root/up/+simple/")


def start_proxpi(upstream: str, work: Path, venv: Path) -> Peer:
    port = _free_port()
    env = {
        **os.environ,
        "PROXPI_INDEX_URL": f"{upstream}/simple/",
        "PROXPI_CACHE_DIR": str(work / "proxpi-cache"),
        "PROXPI_DISABLE_INDEX_SSL_VERIFICATION": "1",
        # Wait for a file instead of redirecting the client to upstream (its default after
        # 0.9 s): every peer then serves the bytes itself, as pip would get them.
        "PROXPI_DOWNLOAD_TIMEOUT": "600",
    }
    process = _spawn(
        [str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "8", "--timeout", "600", "proxpi.server:app"],
        env, work / "proxpi.log",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    _wait_up(f"{base}/index/", process)
    return Peer("proxpi", base, process, "/index/")


# --- the run -------------------------------------------------------------------------------


def _measure(peer: Peer, upstream: str) -> dict[str, float]:
    names = [f"benchpkg{p:03d}" for p in range(PROJECTS)]
    cold = _latencies(peer.base, [peer.page(n) for n in names])
    rate = _page_rate(peer.base, peer.page)
    paths = [peer.page(names[i % len(names)]) for i in range(SEQUENTIAL)]
    through = statistics.median(_latencies(peer.base, paths))
    direct = statistics.median(
        _latencies(upstream, [f"/simple/{names[i % len(names)]}/" for i in range(SEQUENTIAL)])
    )
    link = _big_link(peer.base, peer.page("benchbig"))
    pid = peer.process.pid if peer.process else None
    cold_mbs, peak, cold_cpu = _download(peer.base, link, pid)
    # A cached download is over in a tenth of a second: the median of WARM_DOWNLOADS.
    warm = [_download(peer.base, link, pid, sample_memory=False) for _ in range(WARM_DOWNLOADS)]
    warm_mbs = statistics.median(mbs for mbs, _, _ in warm)
    warm_cpu = statistics.median(cpu for _, _, cpu in warm)
    return {
        "cold page ms": statistics.median(cold) * 1000,
        "pages/s cached": rate,
        "latency added ms": (through - direct) * 1000,
        "download MB/s cold": cold_mbs,
        "download MB/s cached": warm_mbs,
        "proxy CPU s cold": cold_cpu,
        "proxy CPU s cached": warm_cpu,
        "peak RSS MiB": peak,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers-venv", type=Path, default=Path("/tmp/proxy-peers"))  # noqa: S108
    parser.add_argument("--only", action="append", help="Run only this peer (repeatable).")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=300)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="Also run the proxy of this tree (e.g. git archive of an older commit) as a peer.",
    )
    parser.add_argument(
        "--serve-upstream", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_upstream:
        _serve_upstream(Path(args.serve_upstream[0]), int(args.serve_upstream[1]))
        return 0
    source = args.baseline.resolve() / "src" if args.baseline is not None else None
    if source is not None and not (source / "bastion").is_dir():
        parser.error(f"--baseline: no src/bastion in {args.baseline}")
    root = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    upstream_process = None
    try:
        print(f"building the upstream data ({args.big_mb} MB big file)...", file=sys.stderr)
        _build_data(root / "upstream", args.big_mb)
        port = _free_port()
        upstream = f"http://127.0.0.1:{port}"
        upstream_process = subprocess.Popen(
            [sys.executable, __file__, "--serve-upstream", str(root / "upstream"), str(port)],
            start_new_session=True,
        )
        _wait_up(f"{upstream}/simple/benchpkg000/", upstream_process)
        starters: list[tuple[str, Callable[[Path], Peer]]] = [
            ("bastion proxy", lambda w: start_bastion(upstream, w)),
            ("devpi-server", lambda w: start_devpi(upstream, w, args.peers_venv)),
            ("proxpi", lambda w: start_proxpi(upstream, w, args.peers_venv)),
        ]
        if source is not None:
            starters.insert(1, ("bastion baseline", lambda w: start_bastion(upstream, w, source)))
        starters = [s for s in starters if not args.only or s[0].split()[0] in args.only]
        results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in starters}
        for round_number in range(args.rounds):
            shift = round_number % len(starters)
            order = starters[shift:] + starters[:shift]
            for name, start in order:
                work = root / f"round{round_number}-{name.replace(' ', '-')}"
                work.mkdir()
                peer = start(work)
                try:
                    figures = _measure(peer, upstream)
                finally:
                    peer.stop()
                    shutil.rmtree(work, ignore_errors=True)
                results[name].append(figures)
                shown = ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
                print(f"round {round_number + 1} {name}: {shown}", file=sys.stderr)
        keys = list(next(iter(results.values()))[0])
        print(f"\n{args.rounds} rounds, median (min-max); big file {args.big_mb} MB\n")
        print("| figure | " + " | ".join(results) + " |")
        print("|---|" + "---:|" * len(results))
        for key in keys:
            cells = []
            for runs in results.values():
                values = [r[key] for r in runs]
                cells.append(
                    f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})"
                )
            print(f"| {key} | " + " | ".join(cells) + " |")
    finally:
        if upstream_process is not None:
            os.killpg(upstream_process.pid, signal.SIGTERM)
            upstream_process.wait(30)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
