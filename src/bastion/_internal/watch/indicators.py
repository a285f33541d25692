"""Indicators: what in a process, a connection or a CPU curve points at a payload.

Pure functions over what the sampler saw; each returns findings with the
evidence (pid, parent, executable, command line) in the message.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bastion._internal.model import Finding, Severity
from bastion._internal.watch.model import ConnectionSeen, ProcessSeen
from bastion._internal.watch.rules import RULES

# Names of miners seen in malicious packages and CI compromises (lower case, no suffix).
MINER_NAMES = frozenset(
    {
        "xmrig",
        "xmr-stak",
        "xmr-stak-cpu",
        "xmrig-notls",
        "minerd",
        "cpuminer",
        "cpuminer-multi",
        "cgminer",
        "bfgminer",
        "ccminer",
        "ethminer",
        "nbminer",
        "t-rex",
        "lolminer",
        "phoenixminer",
        "nanominer",
        "gminer",
        "teamredminer",
        "srbminer",
        "srbminer-multi",
        "wildrig",
        "xmrigdaemon",
        "kdevtmpfsi",  # the Kinsing miner's disguise
        "kinsing",
    }
)
MINER_ARGUMENTS = re.compile(
    r"(?:^|\s)--donate-level\b|stratum2?\+(?:tcp|ssl|tls)://|(?:^|\s)--cpu-max-threads-hint\b"
    r"|(?:^|\s)--randomx-|(?:^|\s)(?:-a|--algo)[= ]\s*(?:rx/0|rx/wow|cn/r|cn/0|randomx|"
    r"cryptonight|kawpow|ethash|ghostrider)\b|(?:^|\s)--coin[= ]\s*(?:monero|xmr)\b",
    re.IGNORECASE,
)
# The pool's domain only: a "(?:[a-z0-9-]+\.)*" subdomain prefix made the search quadratic
# (4,000 characters of "a." took half a second); pool_host() widens a match to the host.
POOL_HOSTS = re.compile(
    r"\b(?:supportxmr\.com|nanopool\.org|minexmr\.com|hashvault\.pro|"
    r"moneroocean\.stream|2miners\.com|f2pool\.com|c3pool\.com|herominers\.com|"
    r"unmineable\.com|nicehash\.com|ethermine\.org|minergate\.com|xmrpool\.eu|"
    r"monerohash\.com|dwarfpool\.com|viabtc\.com|antpool\.com|mining-dutch\.nl|"
    r"zergpool\.com|prohashing\.com|kryptex\.network|p2pool\.io)\b",
    re.IGNORECASE,
)
# Compilers, linkers and build drivers: near-full CPU is their job.
BUILD_TOOLS = frozenset(
    {
        "cc",
        "cc1",
        "cc1plus",
        "cc1obj",
        "c++",
        "gcc",
        "g++",
        "clang",
        "clang++",
        "collect2",
        "ld",
        "ld.bfd",
        "ld.gold",
        "ld.lld",
        "lld",
        "mold",
        "as",
        "rustc",
        "cargo",
        "go",
        "compile",
        "link",
        "asm",
        "make",
        "gmake",
        "ninja",
        "cmake",
        "meson",
        "scons",
        "javac",
        "gfortran",
        "f951",
        "nvcc",
        "cython",
        "strip",
        "ar",
        "zig",
    }
)
# Interpreters and the tools that run on them: tests and builds keep them busy.
INTERPRETERS = frozenset(
    {"python", "pypy", "node", "java", "ruby", "perl", "pytest", "mypy", "ruff", "uv", "pip"}
)
# Agents that legitimately outlive a CI step (started by git, ssh, build caches).
KNOWN_DAEMONS = frozenset(
    {"gpg-agent", "keyboxd", "dirmngr", "ssh-agent", "sccache", "dbus-daemon", "dbus-launch"}
)
_CLOCK_SLACK = 0.01  # seconds: file times and the clock are read apart
_VERSION_SUFFIX = re.compile(r"(?:[-_.]v?\d[\w.]*|\.exe)$", re.IGNORECASE)


_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")


def pool_host(text: str, match: re.Match[str]) -> str:
    """The whole host name around a pool domain match (``pool.supportxmr.com``)."""
    start = match.start()
    while start > 0 and text[start - 1] in _HOST_CHARACTERS:
        start -= 1
    return text[start : match.end()].lstrip(".-")


def base_name(text: str) -> str:
    """The lower-case program name: no folder, no version suffix, no ``.exe``."""
    name = text.replace("\\", "/").rsplit("/", 1)[-1].lower()
    previous = None
    while previous != name:
        previous = name
        name = _VERSION_SUFFIX.sub("", name)
    return name


def _is_interpreter(name: str) -> bool:
    return any(name == n or name.startswith(n) for n in INTERPRETERS)


def is_build_tool(process: ProcessSeen, extra: frozenset[str] = frozenset()) -> bool:
    """True for compilers, build drivers and interpreters (and names the user added)."""
    names = {base_name(process.name), base_name(process.exe)} - {""}
    if process.cmdline:
        names.add(base_name(process.cmdline[0]))
    lowered = {n.lower() for n in extra}
    return any(n in BUILD_TOOLS or n in lowered or _is_interpreter(n) for n in names)


def temporary_places(home: Path | None = None) -> tuple[str, ...]:
    """Writable temporary places a payload drops binaries into (as folder prefixes)."""
    places = {"/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir()}  # noqa: S108 - watched, not used
    for variable in ("TMPDIR", "RUNNER_TEMP", "XDG_CACHE_HOME"):
        value = os.environ.get(variable)
        if value:
            places.add(value)
    home = home if home is not None else Path.home()
    places.add(str(home / ".cache"))
    resolved = set()
    for place in places:
        resolved.add(place.rstrip("/") or "/")
        try:
            resolved.add(str(Path(place).resolve()))
        except (OSError, RuntimeError):
            continue
    return tuple(sorted(p for p in resolved if p != "/"))


def in_temporary_place(exe: str, places: Iterable[str]) -> bool:
    """True when ``exe`` lies in one of ``places``."""
    path = exe.removesuffix(" (deleted)")
    return any(path == p or path.startswith(p + "/") for p in places)


def miner(process: ProcessSeen) -> Finding | None:
    """A miner's name, arguments or pool host in the process."""
    names = {base_name(process.name), base_name(process.exe)}
    if process.cmdline:
        names.add(base_name(process.cmdline[0]))
    reasons = []
    named = sorted(n for n in names if n in MINER_NAMES)
    if named:
        reasons.append(f"named {named[0]}")
    text = " ".join(process.cmdline)
    argument = MINER_ARGUMENTS.search(text)
    if argument is not None:
        reasons.append(f"miner argument '{argument.group(0).strip()}'")
    pool = POOL_HOSTS.search(text)
    if pool is not None:
        reasons.append(f"mining pool {pool_host(text, pool)}")
    if not reasons:
        return None
    return _finding(
        "watch-miner",
        f"cryptocurrency miner: {process.shown}, {', '.join(reasons)}",
        process,
    )


def temp_executable(
    process: ProcessSeen, places: tuple[str, ...], run_started: float, written: float | None
) -> Finding | None:
    """A binary executed from a temporary place; worse when written during the run.

    ``written`` is the executable's modification time (``None`` when it could
    not be read, or the file is gone). A binary started by a compiler or build
    driver (a test program, a build script) is reported at low severity.
    """
    if not process.exe or not in_temporary_place(process.exe, places):
        return None
    deleted = process.exe.endswith(" (deleted)")
    during = written is not None and written >= run_started - _CLOCK_SLACK
    parent = base_name(process.parent_name)
    by_build_tool = parent in BUILD_TOOLS
    if deleted or during:
        how = "deleted after it started" if deleted else "written during the run"
        message = f"binary {how} and executed from a temporary place: {process.shown}"
        severity = Severity.LOW if by_build_tool else None
        return _finding("watch-dropped-binary", message, process, severity)
    message = f"binary executed from a temporary place: {process.shown}"
    return _finding("watch-temp-exec", message, process, Severity.LOW if by_build_tool else None)


def outlived(process: ProcessSeen) -> Finding:
    """A process still running when the command had exited."""
    known = base_name(process.name) in KNOWN_DAEMONS or base_name(process.exe) in KNOWN_DAEMONS
    message = f"still running after the command exited (stopped by the watch): {process.shown}"
    return _finding("watch-outlived", message, process, Severity.LOW if known else None)


def sustained_cpu(process: ProcessSeen, share: float, seconds: float) -> Finding:
    """A process that kept a core near full for the CPU window."""
    message = (
        f"{share:.0%} of a core for {seconds:.1f} s in {process.shown}, which is neither the "
        "command nor a known build tool"
    )
    return _finding("watch-sustained-cpu", message, process)


def connection_allowed(connection: ConnectionSeen, allowed: frozenset[str]) -> bool:
    """True when the destination (``host:port``) or its address alone is declared."""
    return connection.destination in allowed or connection.address in allowed


def connection(
    item: ConnectionSeen, *, no_network: bool, allowed: frozenset[str]
) -> Finding | None:
    """Undeclared when the step declared its network use (``None`` when it did not: the
    destinations are then listed in the summary and the trace, not reported)."""
    evidence = (
        f"{item.protocol} {item.destination} ({item.status}) from pid {item.pid} {item.process}"
    )
    if no_network:
        return _connection_finding(
            "watch-undeclared-connection", f"connection in a step declared offline: {evidence}"
        )
    if allowed:
        if connection_allowed(item, allowed):
            return None
        return _connection_finding(
            "watch-undeclared-connection", f"connection to an undeclared destination: {evidence}"
        )
    return None


def _connection_finding(rule_id: str, message: str) -> Finding:
    rule = RULES[rule_id]
    return rule.finding(message, None, rule.help)


def _finding(
    rule_id: str, message: str, process: ProcessSeen, severity: Severity | None = None
) -> Finding:
    rule = RULES[rule_id]
    evidence = f"{message}; parent {process.ppid} {process.parent_name or '?'}"
    if process.cmdline:
        evidence += f"; command line: {process.command_text}"
    return rule.finding(evidence, None, rule.help, severity=severity)
