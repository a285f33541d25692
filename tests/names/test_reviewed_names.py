"""A name on the approved-packages list was reviewed by a person: not a typosquat finding.

Issue 13 item 7. httpx2 and httpcore2 (fastapi's lock) and tika-client
(paperless-ngx's) were flagged medium and failed the build. Trimmed copies:
tests/realworld/names/README.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bastion._internal.config import load_config
from bastion._internal.controls.base import Project
from bastion._internal.controls.names import ApprovedPackagesControl, TyposquatControl
from bastion._internal.inputs.discovery import discover
from bastion._internal.model import ControlResult, ControlStatus, Severity
from tests.conftest import TESTS

CORPUS = TESTS / "realworld" / "names"


def project_copy(tmp_path: Path, name: str, config: str = "") -> Path:
    root = tmp_path / name
    root.mkdir()
    for file in ("pyproject.toml", "uv.lock"):
        shutil.copy(CORPUS / name / file, root / file)
    if config:
        (root / "bastion.toml").write_text(config)
    return root


def run(control: TyposquatControl | ApprovedPackagesControl, root: Path) -> ControlResult:
    return control.run(Project(root, discover(root), load_config(root)))


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        ("fastapi", {"httpx2": "httpx", "httpcore2": "httpcore"}),
        ("paperless-ngx", {"tika-client": "tika"}),
    ],
)
def test_real_look_alikes_are_flagged_until_reviewed(
    tmp_path: Path, name: str, flagged: dict[str, str]
) -> None:
    root = project_copy(tmp_path, name)
    before = run(TyposquatControl(), root)
    assert before.status is ControlStatus.FAIL
    found = {f.package: f for f in before.findings}
    assert set(found) == set(flagged)
    for package, imitated in flagged.items():
        assert found[package].severity is Severity.MEDIUM
        assert f"looks like {imitated}" in found[package].message
        assert "bastion names approve" in found[package].remediation
    names = ", ".join(f"'{n}'" for n in flagged)
    (root / "bastion.toml").write_text(f"approved-packages = [{names}, 'httpx', 'httpcore']\n")
    after = run(TyposquatControl(), root)
    assert after.status is ControlStatus.PASS
    locked = len((root / "uv.lock").read_text().split("[[package]]")) - 1
    assert f"{locked} on the approved-packages list not judged" in after.detail
    assert after.detail.startswith("0 names against")


def test_an_approved_file_counts_and_unreviewed_look_alikes_still_fail(tmp_path: Path) -> None:
    root = project_copy(tmp_path, "fastapi", "approved-packages-file = 'approved.txt'\n")
    (root / "approved.txt").write_text("httpx\nhttpcore\nhttpx2  # reviewed: encode's fork\n")
    result = run(TyposquatControl(), root)
    assert [f.package for f in result.findings] == ["httpcore2"]
    assert "3 on the approved-packages list not judged" in result.detail
    approved = run(ApprovedPackagesControl(), root)
    assert [f.package for f in approved.findings] == ["httpcore2"]
