"""Run a command under the watch: start it, sample its tree until it ends, stop what is left."""

from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType

import psutil  # type: ignore[import-untyped,unused-ignore]

from bastion._internal.errors import UsageError
from bastion._internal.model import Finding
from bastion._internal.watch import indicators, tree
from bastion._internal.watch.baseline import compare
from bastion._internal.watch.model import CommandEnd, WatchRun, WatchSettings
from bastion._internal.watch.rules import RULES
from bastion._internal.watch.sampler import Sampler

EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class CommandNotStartedError(UsageError):
    """The command could not be started: not found (127) or not executable (126)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def watch(command: Sequence[str], settings: WatchSettings) -> WatchRun:
    """Run ``command`` with inherited standard streams and watch its whole process tree."""
    if not command:
        raise UsageError("no command to watch (bastion watch [OPTIONS] -- CMD ARGS...)")
    subreaper = tree.become_subreaper()
    before = frozenset(c.pid for c in _own_children())
    started_wall = time.time()
    started_clock = time.monotonic()
    try:
        child = subprocess.Popen(list(command))  # noqa: S603 - running it is the point
    except FileNotFoundError:
        raise CommandNotStartedError(f"command not found: {command[0]}", EXIT_NOT_FOUND) from None
    except PermissionError:
        raise CommandNotStartedError(
            f"command not executable: {command[0]}", EXIT_NOT_EXECUTABLE
        ) from None
    except OSError as exc:
        raise CommandNotStartedError(
            f"cannot run {command[0]}: {exc.strerror or exc}", EXIT_NOT_EXECUTABLE
        ) from None
    sampler = Sampler(
        settings,
        root_pid=child.pid,
        started_wall=started_wall,
        started_clock=started_clock,
        exclude=before,
    )
    try:
        with _forward_signals(child.pid, before):
            status, killed, stopped = _follow(child, sampler, settings, started_clock)
        # the command has ended: what is still running outlived it
        sampler.sample(time.monotonic())
        leftover = _leftovers(sampler, before, settings.grace)
    except BaseException:  # a bug or an interrupt in the watch: never leave the tree running
        tree.stop_tree(before)
        raise
    findings = list(sampler.findings)
    for process in sampler.mark_outlived(leftover):
        findings.append(indicators.outlived(process))
    count, emptied = tree.stop_tree(before, term_wait=0.5 if leftover else 0.0)
    stopped += count
    child.returncode = os.waitstatus_to_exitcode(status)
    duration = time.monotonic() - started_clock
    incomplete = []
    if sampler.untracked:
        incomplete.append(
            f"{len(sampler.untracked)} process(es) past the limit of {settings.max_processes} "
            "were not inspected"
        )
    if not emptied:
        incomplete.append("some processes could not be stopped")
    for reason in incomplete:
        rule = RULES["watch-incomplete"]
        findings.append(rule.finding(f"watch incomplete: {reason}", None, rule.help))
    if not subreaper:  # a platform limit, said in the summary rather than as a finding
        incomplete.append("not a child subreaper here: double-forked processes may escape")
    processes = sampler.processes()
    connections = tuple(sampler.connections.values())
    if settings.baseline is not None:
        findings.extend(
            compare(
                settings.baseline,
                processes,
                connections,
                root_pid=child.pid,
                build_tools=settings.build_tools,
            )
        )
    return WatchRun(
        command=tuple(command),
        end=_end(status, killed),
        duration=duration,
        interval=settings.interval,
        samples=sampler.samples,
        processes=processes,
        connections=connections,
        findings=tuple(findings),
        incomplete=tuple(incomplete),
        stopped=stopped,
        watch_cpu_seconds=_own_cpu(),
    )


def _follow(
    child: subprocess.Popen[bytes],
    sampler: Sampler,
    settings: WatchSettings,
    started: float,
) -> tuple[int, bool, int]:
    """Sample until the command exits: its wait status, whether --kill-on fired, how many
    processes that stopped."""
    pidfd = _pidfd(child.pid)
    killed = False
    stopped = 0
    next_tick = started
    try:
        while True:
            status = tree.reap().pop(child.pid, None)
            if status is not None:
                return status, killed, stopped
            new = sampler.sample(time.monotonic())
            if not killed and _reaches(new, settings):
                killed = True
                count, _ = tree.stop_tree(sampler.exclude)
                stopped += count
                continue
            next_tick += settings.interval
            delay = next_tick - time.monotonic()
            if delay <= 0:  # sampling took longer than the interval: do not pile up
                next_tick = time.monotonic()
                continue
            if pidfd is not None:
                select.select([pidfd], [], [], delay)
            else:
                time.sleep(delay)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _reaches(findings: list[Finding], settings: WatchSettings) -> bool:
    kill_on = settings.kill_on
    return kill_on is not None and any(f.severity >= kill_on for f in findings)


def _leftovers(sampler: Sampler, exclude: frozenset[int], grace: float) -> set[tuple[int, float]]:
    """The processes still running ``grace`` seconds after the command exited."""
    deadline = time.monotonic() + grace
    while True:
        tree.reap()
        running = tree.alive(tree.descendants(exclude))
        if not running or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if running:
        sampler.sample(time.monotonic())  # inspect late starters before they are stopped
    keys = set()
    for process in running:
        try:
            keys.add((process.pid, process.create_time()))
        except psutil.Error:
            continue
    return keys


def _end(status: int, killed: bool) -> CommandEnd:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return CommandEnd(128 - code, -code, killed)
    return CommandEnd(code, None, killed)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 3)


def _own_children() -> list[psutil.Process]:
    try:
        children: list[psutil.Process] = psutil.Process().children(recursive=False)
        return children
    except psutil.Error:
        return []


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


@contextmanager
def _forward_signals(pid: int, exclude: frozenset[int]) -> Iterator[None]:
    """Pass SIGTERM, SIGINT and SIGHUP on to the command's tree (a cancelled CI job)."""

    def forward(signum: int, frame: FrameType | None) -> None:
        del frame
        with suppress(OSError):
            os.kill(pid, signum)
        tree.signal_all(tree.descendants(exclude), signum)  # the whole tree, as a cancel would

    previous = {}
    for signum in _FORWARDED:
        try:
            previous[signum] = signal.signal(signum, forward)
        except ValueError:  # not the main thread
            continue
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
