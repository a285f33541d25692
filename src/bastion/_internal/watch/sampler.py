"""Sampling the tree: which processes exist, what they run, their CPU and connections.

One ``Sampler.sample()`` call reads every descendant once (psutil, ``/proc`` on
Linux) and returns the findings that became true since the last call, so
that ``--kill-on`` can act at once. Processes are keyed by pid and start
time (a reused pid is a new process). Counts are bounded: past
``max_processes`` new processes are counted, not inspected.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import psutil  # type: ignore[import-untyped,unused-ignore]

from bastion._internal.model import Finding
from bastion._internal.watch import indicators
from bastion._internal.watch.model import ConnectionSeen, ProcessSeen, WatchSettings
from bastion._internal.watch.tree import descendants

MAX_CONNECTIONS = 10_000  # distinct (process, destination) pairs kept as evidence
MAX_ARGS = 256
MAX_ARG_CHARS = 4096
_HISTORY_STEP = 0.25  # seconds between kept CPU history points
_PEAK_SPAN = 1.0  # seconds over which the peak CPU share is measured
_T = TypeVar("_T")
_PROTOCOLS = {socket.SOCK_STREAM: "tcp", socket.SOCK_DGRAM: "udp"}


@dataclass
class _Tracked:
    """A process being followed (mutable while the run lasts)."""

    seen: ProcessSeen
    handle: psutil.Process
    history: deque[tuple[float, float]] = field(default_factory=deque)
    cpu_flagged: bool = False
    alive: bool = True


class Sampler:
    """Follows one command's process tree."""

    def __init__(
        self,
        settings: WatchSettings,
        *,
        root_pid: int,
        started_wall: float,
        started_clock: float,
        exclude: frozenset[int] = frozenset(),
    ) -> None:
        self.settings = settings
        self.root_pid = root_pid
        self.started_wall = started_wall
        self.started_clock = started_clock
        self.exclude = exclude
        self.places = indicators.temporary_places()
        self.tracked: dict[tuple[int, float], _Tracked] = {}
        self.connections: dict[tuple[int, str, str, int], ConnectionSeen] = {}
        self.destinations: set[str] = set()
        self.findings: list[Finding] = []
        self.untracked: set[tuple[int, float]] = set()  # processes past max_processes
        self.by_pid: dict[int, _Tracked] = {}
        self.images: list[ProcessSeen] = []  # programs a process ran before an exec
        self.samples = 0

    def sample(self, now: float) -> list[Finding]:
        """Read the tree once; the findings raised by this sample."""
        self.samples += 1
        new: list[Finding] = []
        elapsed = now - self.started_clock
        current: set[tuple[int, float]] = set()
        for handle in descendants(self.exclude):
            try:
                with handle.oneshot():
                    key = (handle.pid, handle.create_time())
                    current.add(key)
                    tracked = self.tracked.get(key)
                    if tracked is not None and _safe(handle.name, "") != tracked.seen.name:
                        # the process exec-ed another program since it was first seen
                        if len(self.images) < self.settings.max_processes:
                            self.images.append(replace(tracked.seen, ended_exec=True))
                        tracked = self._track(handle, key, elapsed, new, tracked)
                    elif tracked is None:
                        tracked = self._track(handle, key, elapsed, new)
                    if tracked is None:
                        continue
                    self._cpu(tracked, handle, elapsed, new)
                self._connections(tracked, handle, new)
            except psutil.Error:
                continue
        for key, tracked in self.tracked.items():
            if key not in current:
                tracked.alive = False
        self.findings.extend(new)
        return new

    def running(self) -> list[ProcessSeen]:
        """The processes alive at the last sample."""
        return [t.seen for t in self.tracked.values() if t.alive]

    def mark_outlived(self, keys: set[tuple[int, float]]) -> list[ProcessSeen]:
        """Mark these processes as having outlived the command; their records."""
        marked = []
        for key in keys:
            tracked = self.tracked.get(key)
            if tracked is None:
                continue
            tracked.seen = replace(tracked.seen, outlived=True)
            marked.append(tracked.seen)
        return marked

    def processes(self) -> tuple[ProcessSeen, ...]:
        """Every process seen (each program a process exec-ed), in order of appearance."""
        every = [*self.images, *(t.seen for t in self.tracked.values())]
        return tuple(sorted(every, key=lambda p: p.first_seen))

    def _track(
        self,
        handle: psutil.Process,
        key: tuple[int, float],
        elapsed: float,
        new: list[Finding],
        previous: _Tracked | None = None,
    ) -> _Tracked | None:
        if previous is None and len(self.tracked) >= self.settings.max_processes:
            self.untracked.add(key)
            return None
        name = _safe(handle.name, "")
        ppid = _safe(handle.ppid, 0)
        exe = _safe(handle.exe, "")
        arguments: list[str] = _safe(handle.cmdline, [])
        cmdline = tuple(a[:MAX_ARG_CHARS] for a in arguments[:MAX_ARGS])
        parent_name = self._parent_name(ppid)
        seen = ProcessSeen(
            pid=handle.pid,
            ppid=ppid,
            name=name,
            exe=exe,
            cmdline=cmdline,
            started=key[1],
            first_seen=round(elapsed, 3),
            cpu_seconds=0.0,
            peak_cpu=0.0,
            parent_name=parent_name,
            samples=0,  # counted by each sample, this one included
        )
        tracked = _Tracked(seen, handle)
        if previous is not None:  # the same process: its CPU history goes on
            tracked.history = previous.history
        self.tracked[key] = tracked
        self.by_pid[handle.pid] = tracked
        found = indicators.miner(seen)
        if found is not None:
            new.append(found)
        dropped = indicators.temp_executable(seen, self.places, self.started_wall, _written(exe))
        if dropped is not None:
            new.append(dropped)
        return tracked

    def _parent_name(self, ppid: int) -> str:
        if ppid == os.getpid():
            return "bastion"
        parent = self.by_pid.get(ppid)
        if parent is not None and parent.alive:
            return parent.seen.name
        try:
            name: str = psutil.Process(ppid).name()
            return name
        except psutil.Error:
            return ""

    def _cpu(
        self, tracked: _Tracked, handle: psutil.Process, elapsed: float, new: list[Finding]
    ) -> None:
        times = handle.cpu_times()
        total = times.user + times.system
        history = tracked.history
        if not history or elapsed - history[-1][0] >= _HISTORY_STEP:
            history.append((elapsed, total))
        window = self.settings.cpu_window
        while len(history) > 2 and history[1][0] <= elapsed - max(window, _PEAK_SPAN):
            history.popleft()
        peak = tracked.seen.peak_cpu
        for moment, spent in reversed(history):
            if elapsed - moment >= _PEAK_SPAN:
                peak = max(peak, (total - spent) / (elapsed - moment))
                break
        tracked.seen = replace(
            tracked.seen,
            cpu_seconds=round(total, 3),
            peak_cpu=round(peak, 3),
            samples=tracked.seen.samples + 1,
        )
        if tracked.cpu_flagged or tracked.seen.pid == self.root_pid:
            return
        first_moment, first_spent = history[0]
        span = elapsed - first_moment
        if span < window or span <= 0:
            return
        share = (total - first_spent) / span
        if share < self.settings.cpu_threshold:
            return
        if indicators.is_build_tool(tracked.seen, self.settings.build_tools):
            return
        tracked.cpu_flagged = True
        new.append(indicators.sustained_cpu(tracked.seen, share, span))

    def _connections(self, tracked: _Tracked, handle: psutil.Process, new: list[Finding]) -> None:
        try:
            sockets = handle.net_connections(kind="inet")
        except psutil.Error:
            return
        for item in sockets:
            if not item.raddr or item.status == psutil.CONN_LISTEN:
                continue
            address, port = item.raddr.ip, int(item.raddr.port)
            protocol = _PROTOCOLS.get(item.type, "ip")
            key = (tracked.seen.pid, protocol, address, port)
            if key in self.connections or len(self.connections) >= MAX_CONNECTIONS:
                continue
            seen = ConnectionSeen(
                tracked.seen.pid, tracked.seen.name, protocol, address, port, str(item.status)
            )
            self.connections[key] = seen
            if seen.destination in self.destinations:
                continue  # one finding per destination
            self.destinations.add(seen.destination)
            found = indicators.connection(
                seen, no_network=self.settings.no_network, allowed=self.settings.allowed
            )
            if found is not None:
                new.append(found)


def _safe(read: Callable[[], _T | None], default: _T) -> _T:
    try:
        value = read()
    except (psutil.Error, OSError):
        return default
    return value if value is not None else default


def _written(exe: str) -> float | None:
    """The executable's modification time, ``None`` when it is gone or unreadable."""
    if not exe or exe.endswith(" (deleted)"):
        return None
    try:
        return Path(exe).stat().st_mtime
    except OSError:
        return None
