"""safe_write: atomic rewrites that stay inside the allowed folder and keep the file mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bastion._internal.errors import InputError
from bastion._internal.safe_write import write_atomically, write_within


def test_rewrite_keeps_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "ci.yml"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o644)
    write_within(tmp_path, target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # mkstemp alone gave 0600
    assert sorted(p.name for p in target.parent.iterdir()) == ["ci.yml"]
    target.chmod(0o755)
    write_atomically(target, "newer\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_within(tmp_path, tmp_path / "approved.txt", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "approved.txt").stat().st_mode) == 0o644


def test_symlinked_folder_is_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ci.yml").write_text("precious\n", encoding="utf-8")
    root = tmp_path / "repo"
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "workflows").symlink_to(outside)
    with pytest.raises(InputError, match="'workflows' is a symlink"):
        write_within(root, root / ".github" / "workflows" / "ci.yml", "evil\n")
    assert (outside / "ci.yml").read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in outside.iterdir()) == ["ci.yml"]


def test_symlinked_file_is_not_replaced_or_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("precious\n", encoding="utf-8")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ci.yml").symlink_to(outside)
    with pytest.raises(InputError, match="through a symlink"):
        write_within(root, root / "ci.yml", "evil\n")
    with pytest.raises(InputError, match="through a symlink"):
        write_atomically(root / "ci.yml", "evil\n")
    assert outside.read_text(encoding="utf-8") == "precious\n"
    assert (root / "ci.yml").is_symlink()


@pytest.mark.parametrize("relative", ["../../../../tmp/x.sh", "sub/../../x.sh", "/etc/passwd", "."])
def test_paths_outside_the_root_are_refused(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "a" / "b"
    (root / "sub").mkdir(parents=True)
    target = Path(relative) if relative.startswith("/") else root / relative
    with pytest.raises(InputError, match="refusing to write"):
        write_within(root, target, "evil\n")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "sub"]


def test_special_files_and_missing_folders(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="not a regular file"):
        write_within(tmp_path, tmp_path / "fifo", "x")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="'file' is not a folder"):
        write_within(tmp_path, tmp_path / "file" / "y", "x")
    with pytest.raises(InputError, match="No such file"):
        write_within(tmp_path, tmp_path / "missing" / "y", "x")


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(InputError, match="cannot write"):
        write_within(tmp_path, target, "half \ud800 written")  # not encodable as UTF-8
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
    assert target.read_text(encoding="utf-8") == "old"
