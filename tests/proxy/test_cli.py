"""``bastion proxy``: rules from the command line, settings errors, a real multi-worker server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import run_cli
from tests.proxy.conftest import OLD, YOUNG, LocalUpstream


def test_exempt_block_unblock_status(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    code, _, err = run_cli(
        "proxy", "exempt", "QtAlpha==2.0", "--reason", "hotfix", "--expires", "2999-01-01",
        "--state", state,
    )  # fmt: skip
    assert code == 0, err
    assert run_cli("proxy", "block", "litellm>=1.82.7,<1.82.9", "--reason", "incident",
                   "--state", state)[0] == 0  # fmt: skip
    code, out, _ = run_cli("proxy", "status", "--state", state)
    assert code == 0
    assert "exempt  qtalpha==2.0" in out and "until 2999-01-01" in out
    assert "litellm<1.82.9,>=1.82.7" in out and "incident" in out
    code, out, _ = run_cli("proxy", "status", "--format", "json", "--state", state)
    rules = json.loads(out)["rules"]
    assert {(r["kind"], r["name"], r["live"]) for r in rules} == {
        ("block", "litellm", True),
        ("exempt", "qtalpha", True),
    }
    assert run_cli("proxy", "unblock", "litellm", "--state", state)[0] == 0
    assert run_cli("proxy", "unblock", "litellm", "--state", state)[0] == 1  # nothing left
    assert run_cli("proxy", "unexempt", "qtalpha==2.1", "--state", state)[0] == 1  # not that one
    assert run_cli("proxy", "unexempt", "qtalpha==2.0", "--state", state)[0] == 0
    assert run_cli("proxy", "status", "--state", state)[1].strip() == "no exemptions or blocks"


def test_bad_rules_are_usage_errors(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    for args in (
        ("exempt", "qtalpha>=2", "--reason", "x"),  # an exemption is exact
        ("exempt", "qtalpha==2.0", "--reason", "x", "--expires", "2001-01-01"),  # past
        ("exempt", "qtalpha", "--reason", "x", "--expires", "soon"),
        ("exempt", "qtalpha"),  # no reason
        ("block", "not a name!", "--reason", "x"),
        ("block", "qtalpha; python_version<'3'", "--reason", "x"),
    ):
        code, _, err = run_cli("proxy", *args, "--state", state)
        assert code == 3, (args, err)
    assert run_cli("proxy", "status", "--state", state)[1].strip() == "no exemptions or blocks"
    code, _, err = run_cli("proxy", "status", "--state", "mysql://x/y")
    assert code == 3 and "not supported" in err


def test_serve_refuses_bad_settings_before_listening(tmp_path: Path) -> None:
    config = tmp_path / "proxy.toml"
    for text, message in (
        ("[proxy]\nmin-age = 'seven'\n", "min-age has the wrong type"),
        ("[proxy]\ncolour = 'blue'\n", "unknown key 'colour'"),
        ("[proxy]\ncutoff = 'yesterday'\n", "cutoff 'yesterday' is not a date"),
        ("[proxy]\ndenylist = ['not valid!!']\n", "denylist entry"),
        ("[proxy\n", "invalid TOML"),
    ):
        config.write_text(text)
        code, _, err = run_cli("proxy", "serve", "--config", str(config), "--port", "1")
        assert code == 3 and message in err, (text, err)
        assert str(config) in err or "proxy settings" in err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_with_two_workers_and_a_config_file(
    upstream: LocalUpstream, advisory_db: Path, tmp_path: Path
) -> None:
    served = upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    port = _free_port()
    config = tmp_path / "proxy.toml"
    config.write_text(
        "[proxy]\n"
        f'upstream = "{upstream.url}/simple/"\n'
        "file-hosts = []\n"
        "min-age = 3\n"
        f'advisory-db = "{advisory_db}"\n'
        f'cache-dir = "{tmp_path / "cache"}"\n'
        f'audit-log = "{tmp_path / "audit.jsonl"}"\n'
        "workers = 2\n"
    )
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        command = [sys.executable, "-m", "bastion", "proxy", "serve", "--config", str(config)]
        command += ["--port", str(port), "--state", str(tmp_path / "state.sqlite")]
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/-/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
        data = httpx.get(
            f"{base}/simple/qtalpha/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        ).json()
        assert data["versions"] == ["1.0"]
        with httpx.Client(base_url=base, timeout=30) as client:  # cold, then from the cache
            for _ in range(2):
                got = client.get(f"/files/qtalpha/{served.filename}")
                assert got.status_code == 200 and got.content == served.data
            # the proxy's protocol, with the hardened server's header bound, serves the workers
            huge = client.get("/-/health", headers={"X-Junk": "a" * 70_000})
            assert huge.status_code == 431
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server we started and its workers
        server.wait(30)
    assert "min-age 3 days, 2 worker(s)" in log.read_text()
