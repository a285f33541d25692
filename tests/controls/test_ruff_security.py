"""The insecure-code control runs the real ruff binary."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.config import Config
from bastion._internal.controls.base import Project
from bastion._internal.controls.ruff_security import RuffSecurityControl, find_ruff, severity_of
from bastion._internal.inputs.discovery import ProjectInputs
from bastion._internal.model import ControlStatus, Severity
from tests.conftest import MakeProject

VULNERABLE = """\
import subprocess


def run(name):
    subprocess.call("echo " + name, shell=True)
"""
FIXED = """\
import subprocess


def run(name):
    subprocess.call(["echo", name])  # noqa: S603, S607 - fixed argv
"""


def project(root: Path, config: Config | None = None) -> Project:
    return Project(root, ProjectInputs(root, (), ()), config or Config())


def test_finds_shell_injection_with_location(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": VULNERABLE})
    result = RuffSecurityControl().run(project(root))
    assert result.status is ControlStatus.FAIL
    (finding,) = result.findings
    assert finding.rule_id == "S602"
    assert finding.severity is Severity.HIGH
    assert finding.location is not None
    assert finding.location.path == root / "app/main.py"
    assert finding.location.line == 5
    assert finding.references and "ruff" in finding.references[0]
    assert result.detail.startswith("1 file checked")


def test_fixed_code_and_excluded_paths_pass(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": FIXED, "vendored/bad.py": VULNERABLE})
    config = Config(exclude=("vendored/**",))
    result = RuffSecurityControl().run(project(root, config))
    assert result.status is ControlStatus.PASS, result.findings


def test_missing_ruff_is_not_configured_never_pass(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": VULNERABLE})
    result = RuffSecurityControl(locate=lambda: None).run(project(root))
    assert result.status is ControlStatus.NOT_CONFIGURED
    assert "bastion[ruff]" in result.detail


def test_a_broken_ruff_configuration_is_an_error_not_a_pass(make_project: MakeProject) -> None:
    root = make_project({"app/main.py": VULNERABLE, "ruff.toml": "line-length = \n"})
    result = RuffSecurityControl().run(project(root))
    assert result.status is ControlStatus.ERROR
    assert "cannot use the project's Ruff settings" in result.detail
    assert "ruff.toml:1" in result.detail


def test_a_binary_that_is_not_ruff_is_an_error(make_project: MakeProject, tmp_path: Path) -> None:
    root = make_project({"app/main.py": VULNERABLE})
    fake = tmp_path / "not-ruff"
    fake.write_text("#!/bin/sh\necho '{not json'\n")
    fake.chmod(0o755)
    result = RuffSecurityControl(locate=lambda: fake).run(project(root))
    assert result.status is ControlStatus.ERROR


def test_severity_table() -> None:
    assert severity_of("S602") is Severity.HIGH
    assert severity_of("S105") is Severity.MEDIUM
    assert severity_of("S101") is Severity.LOW
    assert find_ruff() is not None
