"""Read-only git queries: history of a lockfile, and no program a hostile repository names runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.git import blob_id, file_at, file_history
from tests.conftest import run_git


def repo_with_two_commits(root: Path) -> Path:
    run_git(root, "init", "-q")
    lock = root / "sub" / "uv.lock"
    lock.parent.mkdir()
    lock.write_text("first\n")
    run_git(root, "add", ".")
    run_git(root, "commit", "-q", "-m", "one", date="2026-01-01T00:00:00Z")
    lock.write_text("second\n")
    (root / "other.txt").write_text("x")
    run_git(root, "add", ".")
    run_git(root, "commit", "-q", "-m", "two", date="2026-02-01T00:00:00Z")
    (root / "other.txt").write_text("y")  # a later commit that does not touch the lock
    run_git(root, "commit", "-q", "-am", "three", date="2026-03-01T00:00:00Z")
    return lock


def test_history_of_a_committed_file(tmp_path: Path) -> None:
    lock = repo_with_two_commits(tmp_path)
    history = file_history(lock)
    assert history is not None
    assert history.committed_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert history.unmodified
    assert history.previous_commit is not None
    assert file_at(lock, history.previous_commit) == b"first\n"
    assert file_at(lock, history.last_commit) == b"second\n"


def test_a_changed_working_copy_is_noticed(tmp_path: Path) -> None:
    lock = repo_with_two_commits(tmp_path)
    lock.write_text("third\n")
    history = file_history(lock)
    assert history is not None and not history.unmodified


def test_outside_a_repository_and_untracked_files(tmp_path: Path) -> None:
    (tmp_path / "loose").mkdir()
    loose = tmp_path / "loose" / "uv.lock"
    loose.write_text("x")
    assert file_history(loose) is None
    (tmp_path / "repo").mkdir()
    lock = repo_with_two_commits(tmp_path / "repo")
    untracked = lock.parent / "pylock.toml"
    untracked.write_text("y")
    assert file_history(untracked) is None


def test_file_at_refuses_odd_commit_names(tmp_path: Path) -> None:
    lock = repo_with_two_commits(tmp_path)
    assert file_at(lock, "HEAD") is None
    assert file_at(lock, "--output=/tmp/x") is None
    assert file_at(lock, "") is None


def test_blob_id_matches_git(tmp_path: Path) -> None:
    data = b"some bytes\n"
    (tmp_path / "f").write_bytes(data)
    expected = run_git(tmp_path, "hash-object", "f").strip()
    assert blob_id(data, len(expected)) == expected


def test_programs_named_by_the_repository_do_not_run(tmp_path: Path) -> None:
    lock = repo_with_two_commits(tmp_path)
    marker = tmp_path / "pwned"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    script.chmod(0o755)
    for key in ("core.pager", "core.fsmonitor", "gpg.program", "diff.external"):
        run_git(tmp_path, "config", key, str(script))
    run_git(tmp_path, "config", "log.showSignature", "true")
    run_git(tmp_path, "config", "pager.log", str(script))
    history = file_history(lock)
    assert history is not None and history.previous_commit is not None
    assert file_at(lock, history.previous_commit) == b"first\n"
    assert not marker.exists()
    # the trap is real: a porcelain command that reads the index would have sprung it
    run_git(tmp_path, "status")
    assert marker.exists()


def test_a_lock_swapped_for_a_fifo_or_device_is_not_read(tmp_path: Path) -> None:
    import os

    lock = repo_with_two_commits(tmp_path)
    lock.unlink()
    os.mkfifo(lock)  # a blocking read would hang; /dev/zero would never end
    assert file_history(lock) is None
    lock.unlink()
    lock.symlink_to("/dev/zero")
    assert file_history(lock) is None
