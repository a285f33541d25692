"""The indicators as pure judgements of what the sampler saw (no processes needed here)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bastion._internal.model import Severity
from bastion._internal.watch import indicators
from bastion._internal.watch.model import ConnectionSeen, ProcessSeen

TMP = "/tmp"  # noqa: S108 - paths the watch judges; nothing is written there


def process(
    name: str,
    exe: str = "",
    cmdline: tuple[str, ...] = (),
    parent: str = "sh",
    pid: int = 4242,
) -> ProcessSeen:
    return ProcessSeen(pid, 1, name, exe, cmdline, 0.0, 0.0, 0.0, 0.0, parent)


@pytest.mark.parametrize(
    ("name", "exe", "cmdline", "reason"),
    [
        ("xmrig", "/opt/xmrig", ("xmrig",), "named xmrig"),
        ("xmrig-6.21.0", f"{TMP}/x/xmrig-6.21.0", (), "named xmrig"),
        ("run", f"{TMP}/ultralytics_runner", ("run", "--donate-level", "1"), "--donate-level"),
        ("r", "/usr/bin/r", ("r", "-o", "stratum+tcp://127.0.0.1:3333"), "stratum+tcp://"),
        ("r", "/usr/bin/r", ("r", "-o", "pool.supportxmr.com:8080"), "pool.supportxmr.com"),
        ("r", "/usr/bin/r", ("r", "--algo=rx/0"), "--algo=rx/0"),
        ("kdevtmpfsi", f"{TMP}/kdevtmpfsi", (), "named kdevtmpfsi"),
    ],
)
def test_miner_names_arguments_and_pools(
    name: str, exe: str, cmdline: tuple[str, ...], reason: str
) -> None:
    found = indicators.miner(process(name, exe, cmdline))
    assert found is not None
    assert found.rule_id == "watch-miner"
    assert found.severity is Severity.CRITICAL
    assert reason in found.message
    assert f"pid 4242 {name}" in found.message


@pytest.mark.parametrize(
    "cmdline",
    [
        ("python", "-m", "pytest", "tests/test_stratum.py"),
        ("pip", "install", "xmrig-parser-docs"),  # a name in an argument is not the program
        ("git", "log", "--donate-levels"),
        ("curl", "https://example.org/supportxmr.com.html.bak", "-o", "out"),
    ],
)
def test_ordinary_command_lines_are_not_miners(cmdline: tuple[str, ...]) -> None:
    found = indicators.miner(process(cmdline[0], f"/usr/bin/{cmdline[0]}", cmdline))
    if cmdline[0] == "curl":  # a pool host anywhere on the command line is reported
        assert found is not None and "supportxmr.com" in found.message
    else:
        assert found is None


def test_base_name_strips_folders_versions_and_exe() -> None:
    assert indicators.base_name("/usr/bin/python3.11") == "python3"
    assert indicators.base_name("C:\\tools\\XMRig-6.21.0.exe") == "xmrig"
    assert indicators.base_name("cc1plus") == "cc1plus"


def test_build_tools_and_interpreters_are_exempt_from_the_cpu_indicator() -> None:
    assert indicators.is_build_tool(process("cc1plus", "/usr/lib/gcc/cc1plus"))
    assert indicators.is_build_tool(process("python3.11", "/usr/bin/python3.11"))
    assert indicators.is_build_tool(process("rustc", "/home/u/.cargo/bin/rustc"))
    assert not indicators.is_build_tool(process("sh", "/usr/bin/dash"))
    assert indicators.is_build_tool(process("sh", "/usr/bin/dash"), frozenset({"dash"}))


def test_executables_in_temporary_places(tmp_path: Path) -> None:
    places = (str(tmp_path),)
    now = time.time()
    fresh = process("runner", str(tmp_path / "runner"))
    dropped = indicators.temp_executable(fresh, places, now, now + 0.5)
    assert dropped is not None and dropped.rule_id == "watch-dropped-binary"
    assert dropped.severity is Severity.HIGH and "written during the run" in dropped.message
    old = indicators.temp_executable(fresh, places, now, now - 3600)
    assert old is not None and old.rule_id == "watch-temp-exec"
    assert old.severity is Severity.MEDIUM
    gone = process("runner", str(tmp_path / "runner") + " (deleted)")
    deleted = indicators.temp_executable(gone, places, now, None)
    assert deleted is not None and "deleted after it started" in deleted.message
    by_cargo = process("build-script-build", str(tmp_path / "b"), parent="cargo")
    low = indicators.temp_executable(by_cargo, places, now, now + 1)
    assert low is not None and low.severity is Severity.LOW
    elsewhere = process("ls", "/usr/bin/ls")
    assert indicators.temp_executable(elsewhere, places, now, now + 1) is None
    sibling = process("x", str(tmp_path) + "-other/x")  # a prefix of the name, not the folder
    assert indicators.temp_executable(sibling, places, now, now + 1) is None


def test_temporary_places_include_tmp_and_the_cache(tmp_path: Path) -> None:
    places = indicators.temporary_places(home=tmp_path)
    assert {TMP, "/dev/shm", "/var/tmp"} <= set(places)  # noqa: S108
    assert str(tmp_path / ".cache") in places


def test_connections_declared_undeclared_and_evidence() -> None:
    seen = ConnectionSeen(7, "python3", "tcp", "10.0.0.9", 8080, "ESTABLISHED")
    offline = indicators.connection(seen, no_network=True, allowed=frozenset())
    assert offline is not None and offline.rule_id == "watch-undeclared-connection"
    assert "10.0.0.9:8080" in offline.message and "pid 7 python3" in offline.message
    declared = frozenset({"10.0.0.9:8080"})
    assert indicators.connection(seen, no_network=False, allowed=declared) is None
    assert indicators.connection(seen, no_network=False, allowed=frozenset({"10.0.0.9"})) is None
    other = indicators.connection(seen, no_network=False, allowed=frozenset({"10.0.0.9:443"}))
    assert other is not None and other.severity is Severity.HIGH
    assert indicators.connection(seen, no_network=False, allowed=frozenset()) is None
    six = ConnectionSeen(7, "p", "tcp", "::1", 443, "SYN_SENT")
    assert six.destination == "[::1]:443"


def test_known_agents_that_outlive_a_step_are_low() -> None:
    assert indicators.outlived(process("gpg-agent", "/usr/bin/gpg-agent")).severity is Severity.LOW
    assert indicators.outlived(process("sleep", "/usr/bin/sleep")).severity is Severity.HIGH


def test_pool_hosts_are_found_in_linear_time_with_their_subdomains() -> None:
    # The pattern had a (?:[a-z0-9-]+\.)* prefix: 4,000 characters of "a." took 0.5 s.
    started = time.perf_counter()
    for hostile in ("a." * 200_000, "a-" * 200_000 + "!", "x" * 400_000):
        assert indicators.POOL_HOSTS.search(hostile) is None
    assert time.perf_counter() - started < 2.0
    text = "xmrig -o stratum+tcp://eu.pool.supportxmr.com:8080 --tls"
    found = indicators.POOL_HOSTS.search(text)
    assert found is not None and indicators.pool_host(text, found) == "eu.pool.supportxmr.com"
    assert indicators.POOL_HOSTS.search("notsupportxmr.community") is None
