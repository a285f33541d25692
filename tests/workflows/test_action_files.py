"""The audit's own walk for ``action.yml`` finds what discovery's ``find_files`` walk finds.

``action_files`` lists folders with ``os.scandir`` instead of ``find_files``
(a workflows folder of a thousand files made it a tenth of the audit); these
tests compare the two walks on generated trees: nesting past the depth bound,
skipped folders, symlinked folders and files, exclude globs, the file limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.inputs.discovery import find_files
from bastion._internal.workflows import audit
from bastion._internal.workflows.audit import MAX_ACTION_DEPTH, action_files

REAL = Path(__file__).parents[1] / "data" / "workflows" / "real"


def _discovery(root: Path, exclude: tuple[str, ...] = ()) -> list[Path]:
    return find_files(
        root,
        lambda path: path.name in ("action.yml", "action.yaml"),
        exclude=exclude,
        max_depth=MAX_ACTION_DEPTH,
        limit=audit.MAX_ACTION_FILES,
    )


_NAMES = st.sampled_from(
    ["action.yml", "action.yaml", "a", "B", "z", ".git", "node_modules", ".github", "x.yml"]
)
_TREES = st.lists(st.lists(_NAMES, min_size=1, max_size=7), max_size=12)
_EXCLUDES = st.lists(st.sampled_from(["a/**", "B", "*/action.yml", "z/*/**", "**/x.yml"]))


@settings(max_examples=40, deadline=None)
@given(_TREES, _EXCLUDES, st.booleans())
def test_the_walk_matches_discovery(
    tmp_path_factory: pytest.TempPathFactory, paths: list[list[str]], exclude: list[str], link: bool
) -> None:
    root = tmp_path_factory.mktemp("repo")
    for parts in paths:
        target = root.joinpath(*parts)
        if target.exists() or any(p.is_file() for p in target.parents if p != root):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if parts[-1].endswith((".yml", ".yaml")):
            target.write_text("runs: {using: composite, steps: []}\n")
        else:
            target.mkdir(exist_ok=True)
    if link:  # a symlinked folder is not entered; a symlinked action.yml is read
        # names the generated tree never uses, so nothing is in the way
        (root / "target").mkdir()
        (root / "target" / "action.yml").write_text("runs: {using: node20}\n")
        (root / "linked").symlink_to(root / "target", target_is_directory=True)
        (root / "holder").mkdir()
        (root / "holder" / "action.yaml").symlink_to(root / "target" / "action.yml")
        (root / "holder" / "dangling").symlink_to(root / "nowhere")
    assert action_files(root, tuple(exclude)) == _discovery(root, tuple(exclude))


def test_the_limit_and_the_depth_are_discoverys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(6):
        folder = tmp_path / f"f{index}"
        folder.mkdir()
        (folder / "action.yml").write_text("runs: {using: node20}\n")
    deep = tmp_path.joinpath(*["d"] * (MAX_ACTION_DEPTH + 2))
    deep.mkdir(parents=True)
    (deep / "action.yml").write_text("runs: {using: node20}\n")
    (tmp_path.joinpath(*["d"] * MAX_ACTION_DEPTH) / "action.yml").write_text("runs: {}\n")
    assert action_files(tmp_path) == _discovery(tmp_path)
    assert len(action_files(tmp_path)) == 7  # the one below the depth bound is not read
    monkeypatch.setattr(audit, "MAX_ACTION_FILES", 4)
    assert action_files(tmp_path) == _discovery(tmp_path)
    assert len(action_files(tmp_path)) == 4


def test_an_unreadable_folder_is_skipped_like_discovery(tmp_path: Path) -> None:
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "action.yml").write_text("runs: {using: node20}\n")
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "action.yml").write_text("runs: {using: node20}\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # a symlink loop: neither file nor folder
    (tmp_path / "closed").chmod(0)
    try:
        found = action_files(tmp_path)
        assert found == _discovery(tmp_path)
        if os.geteuid() != 0:  # root reads it anyway
            assert found == [tmp_path / "open" / "action.yml"]
    finally:
        (tmp_path / "closed").chmod(0o755)


def test_the_real_corpus_walks_the_same() -> None:
    roots = [p for p in REAL.iterdir() if p.is_dir()]
    assert roots
    for root in roots:
        assert action_files(root) == _discovery(root)
