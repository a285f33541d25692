"""bastion on trimmed copies of real repositories: what a maintainer would see on day one.

Each folder holds the dependency files of one real project (ATTRIBUTION.md names the
repository and commit) and ``expected.json``: every finding of the dependency layers
(rule, file, line, package), the inputs read, skipped and unreadable. A change that adds
or loses a finding shows in the diff of that file. After a deliberate change, rewrite
them with ``BASTION_REGENERATE_REALWORLD=1 python -m pytest tests/realworld`` and review
the diff like code.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bastion._internal.engine import run_check

CORPUS = Path(__file__).parent
REPOSITORIES = sorted(p.name for p in CORPUS.iterdir() if (p / "ATTRIBUTION.md").is_file())
NOW = datetime(2026, 12, 1, tzinfo=UTC)
# The dependency layers: Ruff and the workflow audit have corpora of their own.
CONFIG = """\
advisory-max-days = 3650
advisory-warn-days = 3650
disable = ["ruff-security", "workflows"]
"""


def _observed(root: Path, config: Path) -> dict[str, Any]:
    report = run_check(root, config_path=config, now=NOW)

    def rel(path: Path) -> str:
        return path.resolve().relative_to(root.resolve()).as_posix()

    findings = sorted(
        [
            f.rule_id,
            rel(f.location.path) if f.location else "",
            (f.location.line or 0) if f.location else 0,
            f.package or "",
            f.severity.label,
        ]
        for f in report.findings
    )
    return {
        "exit_code": report.exit_code,
        "inputs": sorted(rel(s.path) for s in report.sources),
        "notes": list(report.notes),
        "findings": findings,
    }


@pytest.mark.parametrize("name", REPOSITORIES)
def test_real_repository(name: str, tmp_path: Path) -> None:
    root = CORPUS / name
    config = tmp_path / "bastion.toml"
    config.write_text(CONFIG)
    observed = _observed(root, config)
    expected_file = root / "expected.json"
    if os.environ.get("BASTION_REGENERATE_REALWORLD"):
        expected_file.write_text(json.dumps(observed, indent=1) + "\n")
    expected = json.loads(expected_file.read_text())
    assert observed == expected


def test_the_corpus_is_real_and_attributed() -> None:
    assert len(REPOSITORIES) >= 13
    for name in REPOSITORIES:
        attribution = (CORPUS / name / "ATTRIBUTION.md").read_text()
        assert "https://github.com/" in attribution and "commit" in attribution
        assert (CORPUS / name / "expected.json").is_file(), name
