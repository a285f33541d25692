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


def test_unreadable_ruff_settings_fall_back_to_defaults_never_to_a_pass(
    make_project: MakeProject,
) -> None:
    root = make_project({"app/main.py": VULNERABLE, "ruff.toml": "line-length = \n"})
    result = RuffSecurityControl().run(project(root))
    assert result.status is ControlStatus.FAIL  # still checked, with Ruff's defaults
    assert "the project's Ruff settings were not used" in result.detail
    assert "ruff.toml:1" in result.detail


# astral-sh/uv's ruff.toml (MIT/Apache-2.0, commit 26a9dd4b): TOML 1.1 inline tables over
# several lines, which Ruff and tomli read and Python's tomllib refuses. It made the control
# error (exit 2) on uv's repository; its per-file settings cannot widen what S checks.
UV_RUFF_TOML = """target-version = "py312"
per-file-target-version = {
  "scripts/check_system_python.py" = "py37",
  "scripts/create-python-mirror.py" = "py38",
}
"""


def test_toml_1_1_ruff_settings_are_read(make_project: MakeProject) -> None:
    root = make_project({"scripts/run.py": VULNERABLE, "ruff.toml": UV_RUFF_TOML})
    result = RuffSecurityControl().run(project(root))
    assert result.status is ControlStatus.FAIL
    assert {f.rule_id for f in result.findings} >= {"S602"}
    assert "checked with Ruff's defaults" not in result.detail  # tomli reads TOML 1.1


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


def _fake_ruff(folder: Path, body: str) -> Path:
    import sys

    fake = folder / "fake-ruff"
    fake.write_text(f"#!{sys.executable}\n{body}")
    fake.chmod(0o755)
    return fake


def test_the_ruff_child_runs_under_a_memory_limit(
    make_project: MakeProject, tmp_path: Path
) -> None:
    from bastion._internal.ruff.child import MEMORY_BYTES

    root = make_project({"app/main.py": FIXED})
    fake = _fake_ruff(
        tmp_path,
        "import resource, sys\n"
        f"if resource.getrlimit(resource.RLIMIT_AS)[0] != {MEMORY_BYTES}:\n"
        "    sys.exit('no memory limit')\n"
        "import pathlib\n"
        "found = [str(p.resolve()) for p in pathlib.Path('.').rglob('*.py')]\n"
        "print('\\n'.join(found) if '--show-files' in sys.argv else '[]')\n",
    )
    result = RuffSecurityControl(locate=lambda: fake).run(project(root))
    assert result.status is ControlStatus.PASS, result.detail
    assert result.detail.startswith("1 file checked")


def test_a_ruff_that_hangs_is_an_error_within_the_timeout(
    make_project: MakeProject, tmp_path: Path
) -> None:
    import time

    root = make_project({"app/main.py": FIXED})
    fake = _fake_ruff(tmp_path, "import time\ntime.sleep(60)\n")
    started = time.monotonic()
    result = RuffSecurityControl(locate=lambda: fake, timeout=1).run(project(root))
    assert result.status is ControlStatus.ERROR
    assert "did not finish within 1 s" in result.detail
    assert time.monotonic() - started < 30
