"""Installer settings are read as bounded text: adversarial workflow lines stay linear."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bastion._internal.cooldown.installer import installer_cutoffs

MIB = 1024 * 1024


@pytest.mark.parametrize(
    "line",
    [
        "run: pip install --uploaded-prior-to" + " " * MIB,
        "--exclude-newer" * (MIB // 15),
        "UV_EXCLUDE_NEWER:" + "\t" * MIB + "x",
        "run: " + "-" * MIB,
    ],
)
def test_adversarial_lines_are_read_quickly(tmp_path: Path, line: str) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(line + "\n")
    started = time.monotonic()
    assert installer_cutoffs(tmp_path) == []
    assert time.monotonic() - started < 10


def test_links_and_special_files_are_not_read(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "zero.yml").symlink_to("/dev/zero")
    (tmp_path / "uv.toml").symlink_to("/dev/zero")
    started = time.monotonic()
    assert installer_cutoffs(tmp_path) == []
    assert time.monotonic() - started < 10
