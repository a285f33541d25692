"""The process tree the watch owns: a child subreaper, reaping, and stopping every process.

On Linux the watch makes itself a child subreaper (``PR_SET_CHILD_SUBREAPER``):
a process that double-forks or is started with ``nohup`` and ``&`` is
re-parented to the watch rather than to init, so it stays a descendant, is
seen, and is stopped at the end. Elsewhere orphans escape to init (said in
the report).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil  # type: ignore[import-untyped,unused-ignore]

_PR_SET_CHILD_SUBREAPER = 36
STOP_DEADLINE = 20.0  # seconds a fork bomb may resist being stopped before we give up


def become_subreaper() -> bool:
    """Make this process adopt its descendants' orphans; False where the kernel cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def descendants(exclude: frozenset[int] = frozenset()) -> list[psutil.Process]:
    """Every descendant of this process, but those below a child in ``exclude``."""
    me = os.getpid()
    walk = _children_files if _CHILDREN_FILES else _TABLE.children()
    found = []
    pending = [p for p in walk(me) if p not in exclude]
    seen: set[int] = set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            found.append(psutil.Process(pid))
        except psutil.Error:
            continue
        pending.extend(walk(pid))
    _TABLE.tree = seen
    return found


_CHILDREN_FILES = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()


def _children_files(pid: int) -> list[int]:
    """The children of ``pid``: those of each of its threads (``CONFIG_PROC_CHILDREN``)."""
    found: list[int] = []
    try:
        tasks = [entry.name for entry in os.scandir(f"/proc/{pid}/task")]
    except OSError:
        return found
    for task in tasks:
        try:
            with Path(f"/proc/{pid}/task/{task}/children").open("rb") as handle:
                found.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


class _ProcessTable:
    """Parent links of every process, read incrementally.

    Each call lists ``/proc`` (one directory read) but reads ``stat`` only
    for pids not seen before and for the watched tree (whose parents change
    when an orphan is adopted). A process outside the tree never becomes
    part of it, so its cached parent is enough (a pid reused between two
    samples would need the kernel to wrap its pid counter in one interval).
    Without ``/proc`` psutil reads the whole table.
    """

    def __init__(self) -> None:
        self.parents: dict[int, int] = {}
        self.tree: set[int] = set()

    def children(self) -> Callable[[int], list[int]]:
        links: dict[int, list[int]] = {}
        for pid, ppid in self.refresh().items():
            links.setdefault(ppid, []).append(pid)
        return lambda pid: links.get(pid, [])

    def refresh(self) -> dict[int, int]:
        if not _PROC.is_dir():
            self.parents = {
                p.pid: p.info["ppid"]
                for p in psutil.process_iter(["ppid"])
                if isinstance(p.info.get("ppid"), int)
            }
            return self.parents
        me = os.getpid()
        current: dict[int, int] = {}
        for entry in os.scandir(_PROC):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            known = self.parents.get(pid)
            if known is not None and pid not in self.tree and known != me:
                current[pid] = known
                continue
            ppid = _parent_of(pid)
            if ppid is not None:
                current[pid] = ppid
        self.parents = current
        return current


def _parent_of(pid: int) -> int | None:
    try:
        with Path(f"/proc/{pid}/stat").open("rb") as handle:
            data = handle.read(4096)
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split(b" ", 2)
    return int(fields[1]) if len(fields) >= 2 and fields[1].isdigit() else None


_PROC = Path("/proc")
_TABLE = _ProcessTable()


# pid -> wait status of every child this process reaped (the command's among them)
REAPED: dict[int, int] = {}


def reap() -> dict[int, int]:
    """Collect every exited child (no zombies left); pid -> wait status of all reaped so far."""
    statuses = REAPED
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return statuses
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        if pid == 0:
            return statuses
        statuses[pid] = status


def signal_all(processes: Iterable[psutil.Process], sig: int) -> int:
    """Send ``sig`` to each process still alive; how many received it."""
    sent = 0
    for process in processes:
        try:
            process.send_signal(sig)
            sent += 1
        except psutil.Error:
            continue
    return sent


def alive(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    """The processes that still run (zombies count as gone)."""
    running = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.Error:
            continue
    return running


def stop_tree(exclude: frozenset[int] = frozenset(), *, term_wait: float = 0.0) -> tuple[int, bool]:
    """Stop every descendant: SIGTERM and ``term_wait`` seconds, then SIGKILL until none remain.

    Processes that keep forking are frozen (SIGSTOP) before they are killed,
    so a fork bomb cannot outrun the loop. Returns how many processes were
    stopped and whether the tree is empty.
    """
    seen: set[tuple[int, float]] = set()

    def note(processes: list[psutil.Process]) -> None:
        for process in processes:
            try:
                seen.add((process.pid, process.create_time()))
            except psutil.Error:
                continue

    if term_wait > 0:
        tree = alive(descendants(exclude))
        note(tree)
        signal_all(tree, signal.SIGTERM)
        deadline = time.monotonic() + term_wait
        while time.monotonic() < deadline:
            reap()
            if not alive(descendants(exclude)):
                break
            time.sleep(0.02)
    deadline = time.monotonic() + STOP_DEADLINE
    while True:
        tree = alive(descendants(exclude))
        reap()
        if not tree:
            return len(seen), True
        if time.monotonic() > deadline:
            return len(seen), False
        note(tree)
        signal_all(tree, signal.SIGSTOP)
        signal_all(alive(descendants(exclude)), signal.SIGSTOP)
        signal_all(alive(descendants(exclude)), signal.SIGKILL)
        time.sleep(0.01)
        reap()
