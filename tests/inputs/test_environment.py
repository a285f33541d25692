"""Installed environments, read from metadata without importing anything."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

import pytest

from bastion._internal.errors import InputError
from bastion._internal.inputs.environment import parse_environment
from bastion._internal.model import SourceKind


def test_the_running_interpreter() -> None:
    source = parse_environment(None)
    by_name = {p.name: p for p in source.packages}
    for name in ("packaging", "click", "rich", "pytest"):
        assert by_name[name].version == version(name)
    assert "markdown-it-py" in by_name["rich"].dependencies


def _dist(site: Path, name: str, ver: str, direct_url: Mapping[str, object] | None = None) -> None:
    info = site / f"{name.replace('-', '_')}-{ver}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n"
        "Requires-Dist: idna>=3\nRequires-Dist: pytest; extra == 'test'\n"
    )
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))


def test_a_virtualenv_layout_with_direct_urls(tmp_path: Path) -> None:
    site = tmp_path / "venv/lib/python3.11/site-packages"
    _dist(site, "Plain-Pkg", "1.0")
    commit = "f" * 40
    vcs = {"url": "https://g/x", "vcs_info": {"vcs": "git", "commit_id": commit}}
    _dist(site, "from-git", "2.0", vcs)
    _dist(site, "local-dev", "0.1", {"url": "file:///src", "dir_info": {"editable": True}})
    source = parse_environment(tmp_path / "venv")
    by_name = {p.name: p for p in source.packages}
    assert by_name["plain-pkg"].source_kind is SourceKind.INSTALLED
    assert by_name["plain-pkg"].dependencies == ("idna",)  # the extra-only one is left out
    assert by_name["from-git"].vcs_commit == commit
    assert by_name["local-dev"].source_kind is SourceKind.EDITABLE


def test_not_an_environment(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a virtual environment"):
        parse_environment(tmp_path)
    with pytest.raises(InputError, match="no such environment"):
        parse_environment(tmp_path / "missing")
    site = tmp_path / "site-packages"
    info = site / "broken-1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\n")
    with pytest.raises(InputError, match="lacks Name or Version"):
        parse_environment(site)
    assert sys.prefix  # the current interpreter is still readable after the failures
