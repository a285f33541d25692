"""bastion's user cache folder, and the caches that live in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion._internal.advisories.store import DB_NAME, default_db_path
from bastion._internal.inspect.fetch import default_cache_dir
from bastion._internal.provenance.trust_root import ROOT_NAME, updated_root
from bastion._internal.user_cache import cache_dir


def test_bastion_cache_dir_wins_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("BASTION_CACHE_DIR", "")  # empty: as if unset
    assert cache_dir() == tmp_path / "xdg" / "bastion"
    monkeypatch.delenv("BASTION_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "bastion"


def test_every_cache_lives_in_the_one_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path))
    assert default_db_path() == tmp_path / DB_NAME
    assert default_cache_dir() == tmp_path / "inspect"
    assert updated_root() == tmp_path / ROOT_NAME
