"""The issue's scenarios with the real pip and uv, through the proxy, against a local upstream."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bastion._internal.proxy.render import JSON_TYPE
from bastion._internal.proxy.state import EXEMPT, ProxyState, Rule
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

Installer = Callable[[str, Path, str], subprocess.CompletedProcess[str]]
CLIENTS = {"pip": pip_install, "uv": uv_install}


@pytest.fixture(params=sorted(CLIENTS))
def install(request: pytest.FixtureRequest) -> Installer:
    return CLIENTS[request.param]


def wait_for_rules(proxy: RunningProxy, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(proxy.app.rules) != count:
        assert time.monotonic() < deadline, "the proxy did not pick up the state change"
        time.sleep(0.05)


def test_young_version_is_held_back_and_the_older_one_installs(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    proxy = make_proxy()
    done = install(proxy.index, tmp_path / "t", "qtalpha")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "t", "qtalpha") == "1.0"


def test_a_pinned_young_version_fails_and_its_url_says_why(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    young = upstream.wheel("qtalpha", "2.0", YOUNG)
    proxy = make_proxy()
    done = install(proxy.index, tmp_path / "t", "qtalpha==2.0")
    assert done.returncode != 0
    assert "younger_than_min-age_7_days" in done.stdout + done.stderr
    assert installed_version(tmp_path / "t", "qtalpha") is None
    answer = httpx.get(f"{proxy.url}/files/qtalpha/{young.filename}")
    assert answer.status_code == 403
    assert "younger than min-age 7 days" in answer.text
    assert "younger than min-age" in answer.headers["x-bastion-reason"]
    hidden = [r for r in audit_lines(proxy.app.config) if r["event"] == "hide"]
    assert hidden and hidden[0]["filename"] == young.filename and hidden[0]["rule"] == "age"
    assert upstream.file_hits(young.filename) == 0  # never fetched


def test_an_exempted_version_installs_and_an_expired_exemption_stops_applying(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    offset = [timedelta(0)]
    proxy = make_proxy(clock=lambda: datetime.now(UTC) + offset[0])
    state = ProxyState(proxy.app.config.state)
    now = datetime.now(UTC)
    state.put(Rule(EXEMPT, "qtalpha", "2.0", "CVE fix we need", now + timedelta(days=1), now))
    wait_for_rules(proxy, 1)
    done = install(proxy.index, tmp_path / "a", "qtalpha==2.0")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "a", "qtalpha") == "2.0"
    offset[0] = timedelta(days=1, minutes=1)  # the exemption's day has passed
    done = install(proxy.index, tmp_path / "b", "qtalpha==2.0")
    assert done.returncode != 0
    assert installed_version(tmp_path / "b", "qtalpha") is None
    state.close()


def test_a_security_fix_is_released_early(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    upstream.wheel("qtfix", "1.0", OLD)
    fix = upstream.wheel("qtfix", "2.0", YOUNG)
    proxy = make_proxy()
    done = install(proxy.index, tmp_path / "t", "qtfix")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "t", "qtfix") == "2.0"
    early = [r for r in audit_lines(proxy.app.config) if r.get("rule") == "early-release"]
    assert early and early[0]["filename"] == fix.filename
    assert "fixes PYSEC-2025-7, which affects 1.0" in str(early[0]["reason"])


def test_a_malicious_version_and_a_lookalike_name_fail(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    upstream.wheel("qtbad", "1.0", OLD)
    bad = upstream.wheel("qtbad", "1.5", OLD)
    upstream.wheel("reqeusts", "1.0", OLD)
    proxy = make_proxy()
    refused = install(proxy.index, tmp_path / "a", "qtbad==1.5")
    assert refused.returncode != 0
    assert "known_malware_(MAL-2025-1)" in refused.stdout + refused.stderr
    done = install(proxy.index, tmp_path / "b", "qtbad")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "b", "qtbad") == "1.0"  # the malicious 1.5 skipped
    assert install(proxy.index, tmp_path / "c", "reqeusts").returncode != 0
    squat = install(proxy.index, tmp_path / "c", "reqeusts==1.0")  # pinned: the reason shows
    assert squat.returncode != 0
    assert "looks_like_requests" in squat.stdout + squat.stderr
    assert installed_version(tmp_path / "c", "reqeusts") is None
    answer = httpx.get(f"{proxy.url}/files/qtbad/{bad.filename}")
    assert answer.status_code == 403 and "known malware (MAL-2025-1)" in answer.text
    page = httpx.get(f"{proxy.url}/simple/reqeusts/", headers={"Accept": JSON_TYPE}).json()
    assert page["versions"] == [] and page["files"][0]["yanked"].startswith("bastion proxy")


def test_a_tampered_upstream_file_fails_and_leaves_the_cache_clean(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    dist = upstream.wheel("qttamper", "1.0", OLD)
    dist.served_bytes = dist.data[:-10] + b"0123456789"
    proxy = make_proxy()
    done = install(proxy.index, tmp_path / "t", "qttamper")
    assert done.returncode != 0
    assert installed_version(tmp_path / "t", "qttamper") is None
    cache = Path(proxy.app.config.cache_dir)
    assert not any((cache / "files").rglob("*")), "nothing is cached"
    assert not any((cache / "tmp").iterdir()), "no temporary file is left"
    tampered = [r for r in audit_lines(proxy.app.config) if r["event"] == "tampered"]
    assert tampered and "sha256 mismatch" in str(tampered[0]["reason"])


def test_with_upstream_stopped_cached_pages_and_files_still_serve(
    upstream: LocalUpstream, make_proxy: MakeProxy, install: Installer, tmp_path: Path
) -> None:
    upstream.wheel("qtalpha", "1.0", OLD)
    upstream.wheel("qtalpha", "2.0", YOUNG)
    proxy = make_proxy(page_ttl_seconds=0.0)  # every answer asks upstream first
    assert install(proxy.index, tmp_path / "a", "qtalpha").returncode == 0
    upstream.stop()
    done = install(proxy.index, tmp_path / "b", "qtalpha")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "b", "qtalpha") == "1.0"  # policy still applied
    missing = httpx.get(f"{proxy.url}/simple/qtother/")
    assert missing.status_code == 502 and "no page of qtother is kept" in missing.text
