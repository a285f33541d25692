"""Two proxy instances behind one PostgreSQL state and one cache folder, with pip and uv."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bastion._internal.proxy.config import ProxyConfig
from tests.conftest import run_cli
from tests.proxy.conftest import (
    OLD,
    YOUNG,
    LocalUpstream,
    MakeProxy,
    RunningProxy,
    audit_lines,
    installed_version,
    pip_install,
    uv_install,
)


@pytest.fixture
def postgres_state(postgres_server: str) -> str:
    import psycopg

    name = "p_" + uuid.uuid4().hex[:12]
    with psycopg.connect(str(postgres_server), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a generated name, no user input
    return str(postgres_server).rsplit("/", 1)[0] + f"/{name}"


def _wait(proxies: list[RunningProxy], count: int) -> None:
    deadline = time.monotonic() + 20
    while any(len(p.app.rules) != count for p in proxies):
        assert time.monotonic() < deadline, "a proxy did not pick up the state change"
        time.sleep(0.05)


def test_two_instances_share_postgresql_state_and_one_cache(
    upstream: LocalUpstream,
    make_proxy: MakeProxy,
    proxy_config: ProxyConfig,
    postgres_state: str,
    tmp_path: Path,
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    young = upstream.wheel("qtalpha", "2.0", YOUNG)
    upstream.wheel("qtfix", "1.0", OLD)
    upstream.wheel("qtfix", "2.0", YOUNG)
    upstream.wheel("qtbad", "1.5", OLD)
    upstream.wheel("reqeusts", "1.0", OLD)
    tampered = upstream.wheel("qttamper", "1.0", OLD)
    tampered.served_bytes = b"not the declared bytes"
    offset = [timedelta(0)]

    def clock() -> datetime:
        return datetime.now(UTC) + offset[0]

    shared = replace(proxy_config, state=postgres_state)
    a = make_proxy(replace(shared, instance="a"), clock=clock)
    b = make_proxy(replace(shared, instance="b", page_ttl_seconds=0.0), clock=clock)
    installs: dict[str, Callable[..., object]] = {"a": uv_install, "b": pip_install}

    def install(which: RunningProxy, target: str, requirement: str) -> int:
        tool = installs[which.app.config.instance]
        done = tool(which.index, tmp_path / target, requirement)
        return int(done.returncode)  # type: ignore[attr-defined]

    # The young version is held back on both; the old one installs through both.
    assert install(a, "a1", "qtalpha") == 0 and install(b, "b1", "qtalpha") == 0
    assert installed_version(tmp_path / "a1", "qtalpha") == "1.0"
    assert installed_version(tmp_path / "b1", "qtalpha") == "1.0"
    assert upstream.file_hits("qtalpha-1.0-py3-none-any.whl") == 1  # one fetch, shared cache
    assert install(b, "b2", "qtalpha==2.0") != 0

    # An exemption written by the CLI into PostgreSQL reaches both instances.
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    code, _, err = run_cli(
        "proxy", "exempt", "qtalpha==2.0", "--reason", "hotfix", "--expires", expires,
        "--state", postgres_state,
    )  # fmt: skip
    assert code == 0, err
    _wait([a, b], 1)
    assert install(a, "a3", "qtalpha==2.0") == 0 and install(b, "b3", "qtalpha==2.0") == 0
    assert upstream.file_hits(young.filename) == 1
    offset[0] = timedelta(days=1, minutes=1)  # expired on both
    assert install(a, "a4", "qtalpha==2.0") != 0 and install(b, "b4", "qtalpha==2.0") != 0
    offset[0] = timedelta(0)

    # Security early release, malware, look-alike, tampering: the same on both.
    assert install(b, "b5", "qtfix") == 0
    assert installed_version(tmp_path / "b5", "qtfix") == "2.0"
    assert install(a, "a6", "qtbad==1.5") != 0 and install(b, "b6", "reqeusts==1.0") != 0
    assert install(a, "a7", "qttamper") != 0 and install(b, "b7", "qttamper") != 0
    cache = Path(shared.cache_dir)
    assert not (cache / "files" / tampered.sha256[:2] / tampered.sha256).exists()
    assert not any((cache / "tmp").iterdir())

    # Upstream stopped: b (which asks upstream on every answer) serves the page a kept.
    upstream.stop()
    assert install(b, "b8", "qtalpha") == 0
    assert installed_version(tmp_path / "b8", "qtalpha") == "2.0"  # the exemption still holds
    assert install(b, "b9", "qtbad==1.5") != 0  # and so does the rest of the policy
    health = httpx.get(f"{b.url}/-/health").json()
    assert health["status"] == "ok" and health["instance"] == "b"
    instances = {str(r["instance"]) for r in audit_lines(shared)}
    assert instances == {"a", "b"}  # one audit log, lines from both
