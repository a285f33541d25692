"""Figures for issue 14's server and SBOM defects, measured beside the unhardened behaviour.

Run from the repository root with bastion[server,inventory,sbom] installed:
    python benchmarks/bench_hardening.py [--rounds 3]

Each round runs every case once, the hardened and the unhardened variant one
after the other (interleaved), on 127.0.0.1 only:

1. ``db serve``: a lookup (``GET /v1/vulns/ID``) asked again and again while
   four 72 KB batches (1,000 queries of a package with 100 advisories) are
   matched. Hardened: bastion's app under ``hardened_server``; unhardened:
   the same app with matching run inline on the event loop (as before the
   fix), under plain uvicorn. Reported: the longest lookup wait, and how many
   lookups were answered while the batches ran.
2. Slowloris: 50 sockets that never finish their headers. Hardened: default
   limits (10 s header deadline); unhardened: plain uvicorn, watched for 30 s.
   Reported: seconds until the server had closed all 50.
3. ``bastion sbom check`` of 50 MB of ``{},`` (JSON) and of ``<component/>``
   (XML), in a child process: peak RSS and time, beside a plain
   ``json.load`` / ``ElementTree.parse`` of the same file (what the reader
   did before it counted elements).

Medians with min-max over the rounds.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from bastion._internal.advisories.server import OsvApi, create_app
from bastion._internal.advisories.store import import_records
from bastion._internal.hardened_server import server_config

MIB = 1024 * 1024


def events(i: int) -> list[dict[str, str]]:
    """Version i.0 up to (not including) i.5 is affected."""
    return [{"introduced": f"{i}.0"}, {"fixed": f"{i}.5"}]


def _database(folder: Path) -> Path:
    records = folder / "records"
    records.mkdir()
    for i in range(1, 101):
        affected = {
            "package": {"ecosystem": "PyPI", "name": "requests"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": f"{i}.0"}, {"fixed": f"{i}.5"}]}
            ],
        }
        record = {"id": f"PYSEC-{i}", "modified": "2025-01-01T00:00:00Z", "affected": [affected]}
        (records / f"PYSEC-{i}.json").write_text(json.dumps(record))
    db = folder / "db.sqlite3"
    import_records(records, db)
    return db


@contextmanager
def _serving(config: uvicorn.Config) -> Iterator[int]:
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)


def _post(url: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 - loopback
        response.read()
        return int(response.status)


def _lookups_during_batches(port: int) -> tuple[float, int]:
    base = f"http://127.0.0.1:{port}"
    queries = [
        {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": f"{i % 100}.2"}
        for i in range(1000)
    ]
    body = json.dumps({"queries": queries}).encode()
    batches = [
        threading.Thread(target=_post, args=(f"{base}/v1/querybatch", body)) for _ in range(4)
    ]
    for thread in batches:
        thread.start()
    waits = []
    while any(thread.is_alive() for thread in batches):
        started = time.monotonic()
        _post(f"{base}/v1/vulns/PYSEC-7")
        waits.append(time.monotonic() - started)
    for thread in batches:
        thread.join()
    return max(waits), len(waits)


class _OnTheLoop(OsvApi):
    """bastion's API as it was: parsing and matching inline, on the event loop."""

    async def _off_loop(self, work: Callable[[], Any]) -> Any:
        return work()


def _inline_app(db: Path) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route

    api = _OnTheLoop(db)
    return Starlette(
        routes=[
            Route("/v1/querybatch", api.querybatch, methods=["POST"]),
            Route("/v1/vulns/{id:path}", api.vuln, methods=["GET"]),
        ]
    )


def _slowloris(port: int, watch: float) -> float:
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    started = time.monotonic()
    try:
        for sock in sockets:
            sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: ")
            sock.setblocking(False)
        open_ = set(range(50))
        while open_ and time.monotonic() - started < watch:
            for index in list(open_):
                try:
                    if sockets[index].recv(4096) == b"":
                        open_.discard(index)
                except BlockingIOError:
                    pass
                except ConnectionError:
                    open_.discard(index)
            time.sleep(0.05)
        return time.monotonic() - started if not open_ else float("inf")
    finally:
        for sock in sockets:
            sock.close()


_MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
subprocess.run(sys.argv[1:], capture_output=True, timeout=600)
elapsed = time.monotonic() - started
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, elapsed)
"""


def _peak(*command: str) -> tuple[int, float]:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1])


def _show(label: str, values: list[float], unit: str) -> str:
    finite = [v for v in values if v != float("inf")]
    if len(finite) < len(values):
        return f"| {label} | still open after the watch in {len(values) - len(finite)} round(s) |"
    digits = 0 if all(float(v).is_integer() for v in values) else 2
    median, low, high = (
        f"{v:.{digits}f}" for v in (statistics.median(values), min(values), max(values))
    )
    return f"| {label} | {median}{' ' + unit if unit else ''} ({low}-{high}) |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        db = _database(folder)
        bom_json = folder / "bom.json"
        bom_json.write_text('{"bomFormat": "CycloneDX", "x": [' + "{}," * (50 * MIB // 3) + "{}]}")
        bom_xml = folder / "bom.xml"
        bom_xml.write_text(
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>'
            + "<component/>" * (50 * MIB // 12)
            + "</components></bom>"
        )
        python = sys.executable
        for round_ in range(args.rounds):
            print(f"round {round_ + 1} of {args.rounds}", file=sys.stderr)
            hardened = server_config(create_app(db), "127.0.0.1", 0, log_level="error")
            with _serving(hardened) as port:
                wait, count = _lookups_during_batches(port)
            results.setdefault("lookup wait, hardened", []).append(wait)
            results.setdefault("lookups answered, hardened", []).append(count)
            plain = uvicorn.Config(_inline_app(db), host="127.0.0.1", port=0, log_level="error")
            with _serving(plain) as port:
                wait, count = _lookups_during_batches(port)
            results.setdefault("lookup wait, on the loop", []).append(wait)
            results.setdefault("lookups answered, on the loop", []).append(count)

            hardened = server_config(create_app(db), "127.0.0.1", 0, log_level="error")
            with _serving(hardened) as port:
                results.setdefault("slowloris, hardened", []).append(_slowloris(port, 30))
            plain = uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_level="error")
            with _serving(plain) as port:
                results.setdefault("slowloris, plain uvicorn", []).append(_slowloris(port, 30))

            for name, path, loader in (
                ("JSON", bom_json, "import json,sys; json.load(open(sys.argv[1]))"),
                ("XML", bom_xml, "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])"),
            ):
                peak, seconds = _peak(python, "-m", "bastion", "sbom", "check", str(path))
                results.setdefault(f"{name} peak MiB, bastion", []).append(peak)
                results.setdefault(f"{name} seconds, bastion", []).append(seconds)
                peak, seconds = _peak(python, "-c", loader, str(path))
                results.setdefault(f"{name} peak MiB, plain parse", []).append(peak)
                results.setdefault(f"{name} seconds, plain parse", []).append(seconds)
    print("| case | median (min-max) |")
    print("|---|---|")
    for label, values in results.items():
        unit = "s" if ("wait" in label or "seconds" in label or "slowloris" in label) else ""
        print(_show(label, values, unit))


if __name__ == "__main__":
    main()
