"""Hostile input to the inventory: long or broken names, NUL and surrogates, big uploads."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bastion._internal.errors import InputError, UsageError
from bastion._internal.inventory.query import MAX_CELL, by_advisory, render
from bastion._internal.inventory.store import MAX_NAME, Hit, Inventory, components_of
from bastion._internal.sbom.read import read_sbom
from tests.advisories.test_audit import build_db, osv
from tests.conftest import run_cli
from tests.inventory.test_server import SBOM, TOKEN, call

COMPONENTS = components_of(read_sbom(Path("s.json"), json.dumps(SBOM)))


@pytest.mark.parametrize(
    ("service", "problem"),
    [
        ("s" * 100_000, f"longer than {MAX_NAME}"),
        ("api\x00", "NUL"),
        ("api\x1b[2J", "control characters"),
        ("api\ud800", "lone surrogate"),
        ("   ", "must not be empty"),
    ],
)
def test_service_names_are_bounded_on_ingest(inventory_db: str, service: str, problem: str) -> None:
    store = Inventory(inventory_db)
    try:
        with pytest.raises(UsageError, match=problem):
            store.ingest(service, "1.0", COMPONENTS)
        with pytest.raises(UsageError, match=problem.replace("service", "release")):
            store.ingest("api", service, COMPONENTS)
        assert store.counts() == (0, 0, 0)
    finally:
        store.close()


@pytest.mark.parametrize("prefix", ["pkg:pypi/a\x00", "pkg:pypi/\ud800", "p" * 5000])
def test_hostile_query_values_are_usage_errors(inventory_db: str, prefix: str) -> None:
    store = Inventory(inventory_db)
    try:
        store.ingest("api", "1.0", COMPONENTS)
        with pytest.raises(UsageError):  # PostgreSQL raised a DataError on the NUL before
            store.by_purl_prefix(prefix, False)
        with pytest.raises(UsageError):
            store.by_hash(prefix, False)
        assert len(store.by_purl_prefix("pkg:pypi/", False)) == 2  # the store still answers
    finally:
        store.close()


def test_hostile_component_texts_are_input_errors() -> None:
    for purl in ("pkg:pypi/a\\u0000b@1", "pkg:pypi/a\\ud800@1", "pkg:pypi/" + "a" * 3000 + "@1"):
        text = (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
            f'[{{"name": "a", "version": "1", "purl": "{purl}"}}]}}'
        )
        with pytest.raises(InputError):
            components_of(read_sbom(Path("bom.json"), text))


def test_unknown_advisory_names_no_path_in_its_public_message(tmp_path: Path) -> None:
    from bastion._internal.inventory.query import UnknownAdvisoryError

    db = build_db(tmp_path, [osv("PYSEC-1", "a", versions=["1"])])
    store = Inventory(tmp_path / "i.sqlite")
    try:
        with pytest.raises(UnknownAdvisoryError) as caught:
            by_advisory(store, "NOPE-1", db, False)
        assert str(db) in str(caught.value)  # the command line says which database
        assert str(tmp_path) not in caught.value.public()
        with pytest.raises(UsageError, match="surrogate"):
            by_advisory(store, "X\ud800", db, False)
    finally:
        store.close()


def _hit(service: str, name: str = "idna") -> Hit:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return Hit(service, "1.0", when, True, name, "3.7", f"pkg:pypi/{name}@3.7")


def test_tables_truncate_and_escape_cells() -> None:
    hits = [_hit("s" * 100_000)] + [_hit(f"svc-{i}") for i in range(2000)]
    table = render(hits, "table")
    assert max(len(line) for line in table.splitlines()) < 6 * MAX_CELL
    assert len(table) < 2001 * 6 * MAX_CELL  # was 2,001 rows padded to 100,000 characters
    assert "s" * (MAX_CELL - 1) + "…" in table
    hostile = render([_hit("evil\x1b]8;;http://x\x07\r", "pkg\x1b[2J")], "table")
    assert "\x1b" not in hostile and "\r" not in hostile and "\x07" not in hostile
    assert "evil\\x1b]8;;http://x\\x07\\x0d" in hostile


def test_csv_escapes_controls_and_formulas() -> None:
    out = render([_hit('=HYPERLINK("http://x")\x1b[2J')], "csv")
    assert "\x1b" not in out
    assert "'=HYPERLINK" in out and "\\x1b[2J" in out


# -- the CLI ---------------------------------------------------------------------------


def test_cli_refuses_a_long_service_name_before_reading(tmp_path: Path) -> None:
    code, _, err = run_cli(
        "inventory",
        "ingest",
        str(tmp_path / "missing.json"),
        "--service",
        "s" * 1000,
        "--release",
        "1",
        "--db",
        str(tmp_path / "i.sqlite"),
    )
    assert code == 3 and f"longer than {MAX_NAME}" in err and len(err.splitlines()) == 1


def _serve_args(tmp_path: Path, token_file: Path, port: int = 0) -> list[str]:
    return [
        "inventory",
        "serve",
        "--db",
        str(tmp_path / "i.sqlite"),
        "--token-file",
        str(token_file),
        "--port",
        str(port),
    ]


def test_token_file_not_utf8_is_one_line(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(b"\xff\xfe-not-utf-8-token-bytes\n")
    code, _, err = run_cli(*_serve_args(tmp_path, token))
    assert code == 3 and "not valid UTF-8" in err and len(err.strip().splitlines()) == 1


def test_token_file_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    token = tmp_path / "token"
    os.mkfifo(token)
    code, _, err = run_cli(*_serve_args(tmp_path, token))
    assert code == 3 and "not a regular file" in err


def test_unreadable_token_file_is_one_line(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0)
    command = [sys.executable, "-m", "bastion", *_serve_args(tmp_path, token)]
    if os.geteuid() == 0:  # root reads mode 000: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) is needed to test as root"
        drop = "-dac_override,-dac_read_search"
        command = [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    # click's own check (a usage error) or bastion's read: either way exit 3, no traceback.
    assert "not readable" in done.stderr or "Permission denied" in done.stderr
    assert "Traceback" not in done.stderr


# -- the server, as a real process -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``bastion inventory serve`` in its own process: (base URL, pid).

    Its stderr goes to a file, which must hold no traceback when the test ends.
    """
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bastion", *_serve_args(tmp_path, token, port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    text = log.read_text()
    assert "Traceback" not in text and "Exception in ASGI" not in text, text


def _peak_mib(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024


def test_big_upload_is_bounded_and_does_not_block_others(served: tuple[str, int]) -> None:
    base, pid = served
    assert call(f"{base}/v1/sboms?service=api&release=1", json.dumps(SBOM).encode())[0] == 201
    body = ('{"bomFormat": "CycloneDX", "x": [' + "{}," * (63 * 1024 * 1024 // 3) + "{}]}").encode()
    outcome: dict[str, Any] = {}

    def upload() -> None:
        outcome["answer"] = call(f"{base}/v1/sboms?service=api&release=2", body)

    thread = threading.Thread(target=upload)
    thread.start()
    waits = []
    while thread.is_alive():
        started = time.monotonic()
        status, _ = call(f"{base}/v1/components?purl_prefix=pkg:pypi/idna")
        waits.append(time.monotonic() - started)
        assert status == 200
    thread.join()
    status, data = outcome["answer"]
    assert status == 400 and "JSON objects and arrays" in data["error"]
    assert max(waits) < 3, waits  # one 63 MiB upload blocked every request for 5 s
    assert _peak_mib(pid) < 600  # it peaked at 1.7 GB


def test_server_names_and_hostile_values_are_400(served: tuple[str, int]) -> None:
    base, _ = served
    body = json.dumps(SBOM).encode()
    status, data = call(f"{base}/v1/sboms?service={'s' * 1000}&release=1", body)
    assert status == 400 and "longer than" in data["error"]
    status, _ = call(f"{base}/v1/sboms?service={'s' * 100_000}&release=1", body)
    assert status == 431  # the request line alone is over the server's header bound
    assert call(f"{base}/v1/sboms?service=a%1b&release=1", body)[0] == 400
    huge = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "n": ' + b"9" * 5000 + b"}"
    status, data = call(f"{base}/v1/sboms?service=a&release=1", huge)
    assert status == 400 and "invalid JSON" in data["error"]
    surrogate = json.dumps(SBOM).replace("pkg:pypi/idna@3.7", "pkg:pypi/idna\\ud800@3.7")
    status, data = call(f"{base}/v1/sboms?service=a&release=1", surrogate.encode())
    assert status == 400 and "surrogate" in data["error"]
    status, data = call(f"{base}/v1/components?purl_prefix=pkg:pypi/a%00")
    assert status == 400 and "NUL" in data["error"]
    status, data = call(f"{base}/v1/advisories/NOPE-1/services")
    assert status == 404 and "/" not in data["error"] and "sqlite" not in data["error"]


def test_dropped_upload_logs_no_traceback(served: tuple[str, int]) -> None:
    base, _ = served
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /v1/sboms?service=a&release=1 HTTP/1.1\r\nhost: x\r\n"
            b"authorization: Bearer " + TOKEN.encode() + b"\r\ncontent-length: 9000\r\n\r\n{"
        )
        time.sleep(0.3)
    time.sleep(0.5)
    assert call(f"{base}/v1/components?purl_prefix=pkg:")[0] == 200
    # and the fixture finds no ClientDisconnect traceback in the server's stderr


def test_manifest_refusals_on_stderr_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("sbom,service,release\nevil\x1b[2J\x07.json,api,1\n")
    code, _, err = run_cli(
        "inventory",
        "ingest",
        "--manifest",
        str(tmp_path / "m.csv"),
        "--db",
        str(tmp_path / "i.sqlite"),
    )
    assert code == 3 and "evil\\x1b[2J\\x07.json" in err  # named, escaped
    assert "\x1b" not in err and "\x07" not in err
