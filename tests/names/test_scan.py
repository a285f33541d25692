"""``names scan`` and the typosquat control on enough names to take the batch path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bastion._internal.config import load_config
from bastion._internal.controls.base import Project
from bastion._internal.controls.names import TyposquatControl
from bastion._internal.inputs.discovery import discover
from bastion._internal.names.corpus import load_corpus
from bastion._internal.names.typosquat import INDEX_AFTER, TyposquatIndex
from tests.conftest import MakeProject, run_cli

POPULAR = list(load_corpus().ranks)
# Corpus names (popular and not), one-letter edits, affixes, combinations, versions.
SAMPLE = (
    POPULAR[::9]
    + [n[:3] + n[4:] for n in POPULAR[5::23] if len(n) > 5]
    + [f"py{n}" for n in POPULAR[7::97]]
    + [f"{n}-helper" for n in POPULAR[:300:11]]
    + [f"{n}-x{i}" for i, n in enumerate(POPULAR[3::31])]
    + ["reqeusts", "pythondateutil", "urlib3", "requests-2.0", "Djang0"]
)


def expected(names: list[str], threshold: float = 0.6) -> list[dict[str, object]]:
    """What judge() says, one name at a time (the reference for the batch)."""
    index = TyposquatIndex(load_corpus())
    flagged = []
    for raw in names:
        found = index.judge(raw)
        if found is not None and found.confidence >= threshold:
            flagged.append(
                {
                    "name": found.name,
                    "imitates": found.imitates,
                    "imitated_rank": found.imitated_rank,
                    "transformation": found.transformation,
                    "confidence": found.confidence,
                }
            )
    return flagged


def test_scan_reports_what_judge_finds_name_by_name(tmp_path: Path) -> None:
    assert len(SAMPLE) > INDEX_AFTER
    listing = tmp_path / "names.txt"
    listing.write_text("# candidates\n" + "\n".join(SAMPLE) + "\n")
    code, out, _ = run_cli("names", "scan", str(listing), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["judged"] == len(SAMPLE)
    assert data["names"] == expected([s.lower() for s in SAMPLE])
    assert len(data["names"]) > 50
    code, text, _ = run_cli("names", "scan", str(listing), "--min-confidence", "0.9")
    reported = len(expected(SAMPLE, 0.9))
    assert code == 1 and f"{reported} of {len(SAMPLE)} names look like" in text


def test_a_bad_name_deep_in_a_long_list_is_refused_with_its_line(tmp_path: Path) -> None:
    listing = tmp_path / "names.txt"
    lines = [*SAMPLE[:1500], "réquests", *SAMPLE[1500:]]
    listing.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli("names", "scan", str(listing), "--format", "json")
    assert code == 3 and out == ""
    assert "names.txt:1501: not a valid project name" in err
    listing.write_text("\n".join(SAMPLE) + "\n" + "a" * 201 + "\n")
    code, out, err = run_cli("names", "scan", str(listing))
    assert code == 3 and out == ""
    assert f"names.txt:{len(SAMPLE) + 1}: name longer than 200 characters" in err


_PROBE = """
import sys
from bastion._internal.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write("\\n@@" + " ".join(sorted(sys.modules)))
"""


def test_scan_imports_neither_the_controls_nor_project_discovery(tmp_path: Path) -> None:
    listing = tmp_path / "names.txt"
    listing.write_text("requestss\n")
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "names", "scan", str(listing)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules = done.stderr.rsplit("@@", 1)[1].split()
    assert "bastion._internal.names.typosquat" in modules  # the probe saw the command run
    loaded = [m for m in modules if m.startswith(("bastion._internal.controls", "yaml"))]
    assert loaded == []
    assert "bastion._internal.inputs.discovery" not in modules


def test_the_control_judges_a_big_lock_like_judge_does(make_project: MakeProject) -> None:
    names = [name.lower() for name in SAMPLE[1200:]]  # edits, affixes and some corpus names
    pins = "".join(f"{name}==1.0\n" for name in names)
    root = make_project({"requirements.txt": pins})
    result = TyposquatControl().run(Project(root, discover(root), load_config(root)))
    reference = {entry["name"]: entry for entry in expected(names)}
    assert {f.package for f in result.findings} == set(reference)
    assert len(reference) > 40
    for finding in result.findings:
        entry = reference[finding.package]
        assert f"looks like {entry['imitates']} " in finding.message
        assert f"{entry['transformation']}, confidence" in finding.message
