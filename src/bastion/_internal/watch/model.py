"""What a watched run did: the processes seen, their connections, how the command ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bastion._internal.model import Finding, Severity


@dataclass(frozen=True, slots=True)
class ProcessSeen:
    """One process of the tree, as first seen and as last sampled."""

    pid: int
    ppid: int
    name: str  # the kernel's short name (comm)
    exe: str  # the executable's path ("" when it could not be read)
    cmdline: tuple[str, ...]
    started: float  # seconds since the epoch
    first_seen: float  # seconds after the command started
    cpu_seconds: float  # user + system, as last sampled
    peak_cpu: float  # highest share of one core over about a second (1.0 = one full core)
    parent_name: str = ""
    outlived: bool = False  # still running after the command exited
    samples: int = 1  # how many samples saw it alive (1: it lived less than two intervals)
    ended_exec: bool = False  # the process went on to run another program

    @property
    def shown(self) -> str:
        """``pid NAME (exe)`` for messages."""
        exe = f" ({self.exe})" if self.exe and Path(self.exe).name != self.name else ""
        return f"pid {self.pid} {self.name}{exe}"

    @property
    def command_text(self) -> str:
        """The command line joined with spaces, cut to a readable length."""
        text = " ".join(self.cmdline)
        return text if len(text) <= 300 else text[:297] + "..."


@dataclass(frozen=True, slots=True)
class ConnectionSeen:
    """A socket of a watched process with a remote end."""

    pid: int
    process: str  # the process's short name
    protocol: str  # "tcp" or "udp"
    address: str  # the remote address as seen (no DNS lookups)
    port: int
    status: str  # the TCP state when sampled ("ESTABLISHED", "SYN_SENT", ...)

    @property
    def destination(self) -> str:
        """``address:port`` (IPv6 addresses in brackets)."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class CommandEnd:
    """How the watched command ended."""

    exit_code: int  # the code to pass on: the command's own, 128+N for a signal
    signal: int | None = None  # the signal that ended it, if one did
    killed_by_watch: bool = False  # --kill-on stopped the tree


@dataclass(frozen=True, slots=True)
class WatchRun:
    """Everything one watched run saw, and the findings it raised."""

    command: tuple[str, ...]
    end: CommandEnd
    duration: float  # seconds
    interval: float  # seconds between samples
    samples: int
    processes: tuple[ProcessSeen, ...]
    connections: tuple[ConnectionSeen, ...]
    findings: tuple[Finding, ...]
    incomplete: tuple[str, ...] = ()  # why the watch could not see everything
    stopped: int = 0  # processes the watch stopped (left over, or --kill-on)
    watch_cpu_seconds: float = 0.0  # CPU the watch itself used (start-up included)

    def worst(self) -> Severity | None:
        """The highest severity among the findings."""
        return max((f.severity for f in self.findings), default=None)


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """What to watch for, and how often."""

    interval: float = 0.1
    cpu_window: float = 30.0  # seconds of near-full CPU that count as sustained
    cpu_threshold: float = 0.9  # share of one core
    grace: float = 1.0  # seconds the tree may take to exit after the command did
    no_network: bool = False  # the step declares no connections at all
    allowed: frozenset[str] = frozenset()  # declared destinations: "host:port" or "host"
    build_tools: frozenset[str] = frozenset()  # extra names exempt from the CPU indicator
    kill_on: Severity | None = None
    max_processes: int = 10_000
    baseline: Baseline | None = None


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a clean run did: executables, destinations and peak CPU per executable."""

    executables: frozenset[str]
    destinations: frozenset[str]
    peak_cpu: dict[str, float] = field(default_factory=dict)
    command: tuple[str, ...] = ()
