"""The two ways of walking the tree agree: ``/proc/PID/task/TID/children`` and the
incremental process table (the fallback where the kernel lacks the children files)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time

from bastion._internal.watch import tree

SH = shutil.which("sh") or "/bin/sh"


def test_children_files_and_table_find_the_same_tree() -> None:
    # a child shell with two sleeping children of its own; ended by the test
    shell = subprocess.Popen([SH, "-c", "sleep 30 & sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            by_table = tree._ProcessTable().children()
            if len(by_table(shell.pid)) == 2:
                break
            time.sleep(0.05)
        table = tree._ProcessTable()
        walk = table.children()
        assert walk(os.getpid()) == [shell.pid] or shell.pid in walk(os.getpid())
        grandchildren = sorted(walk(shell.pid))
        assert len(grandchildren) == 2
        if tree._CHILDREN_FILES:
            assert sorted(tree._children_files(shell.pid)) == grandchildren
        table.tree = {shell.pid, *grandchildren}
        again = table.children()  # cached entries: the same answer from one directory read
        assert sorted(again(shell.pid)) == grandchildren
        found = {p.pid for p in tree.descendants()}
        assert {shell.pid, *grandchildren} <= found
    finally:
        for pid in tree._ProcessTable().children()(shell.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        shell.kill()
        shell.wait(timeout=30)
