"""Hostile configuration (issue 14.4, 14.7, 14.8): bounded time, one error, nothing disclosed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bastion._internal.config import find_config, load_config
from bastion._internal.errors import ConfigError
from tests.conftest import run_cli

SHADOW_LINE = "root:not-for-your-eyes:19000:0:99999:7:::"


def test_400000_blank_lines_before_tool_bastion_are_read_in_linear_time(tmp_path: Path) -> None:
    # "^\s*\[" with MULTILINE crossed newlines: minutes before the fix.
    (tmp_path / "pyproject.toml").write_text("\n" * 400_000 + "[tool.bastion]\nfail-on = 'high'\n")
    started = time.monotonic()
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    assert time.monotonic() - started < 2
    (tmp_path / "pyproject.toml").write_text(" \n" * 400_000 + "  [ tool.other ]\n")
    started = time.monotonic()
    assert find_config(tmp_path) is None
    assert time.monotonic() - started < 2


def test_indented_and_dotted_tool_bastion_headers_are_still_found(tmp_path: Path) -> None:
    for header in ("[tool.bastion]", "  [ tool.bastion.waiver ]", "\t[tool.bastion]"):
        (tmp_path / "pyproject.toml").write_text(f"[project]\nname='x'\n{header}\n")
        assert find_config(tmp_path) == tmp_path / "pyproject.toml", header


def test_a_4300_digit_integer_in_bastion_toml_is_one_config_error(tmp_path: Path) -> None:
    (tmp_path / "bastion.toml").write_text("fail-on = 'high'\ncooldown-days = " + "9" * 5000)
    with pytest.raises(ConfigError, match="longer than 4,300 digits") as caught:
        load_config(tmp_path)
    assert caught.value.line == 2
    code, out, err = run_cli("check", str(tmp_path))
    assert code == 3, (out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def project_and_secret(tmp_path: Path) -> tuple[Path, Path]:
    secret = tmp_path / "shadow"
    secret.write_text(SHADOW_LINE + "\n")
    project = tmp_path / "project"
    project.mkdir()
    return project, secret


@pytest.mark.parametrize("key", ["approved-packages-file", "typosquat-corpus"])
@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlinked-folder", "symlinked-file"])
def test_configured_files_outside_the_project_are_refused(
    project_and_secret: tuple[Path, Path], key: str, how: str
) -> None:
    project, secret = project_and_secret
    (project / "lists").symlink_to(secret.parent)
    (project / "approved.txt").symlink_to(secret)
    value = {
        "absolute": str(secret),
        "dotdot": "../shadow",
        "symlinked-folder": "lists/shadow",
        "symlinked-file": "approved.txt",
    }[how]
    (project / "bastion.toml").write_text(f"fail-on = 'high'\n{key} = '{value}'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project)
    assert caught.value.line == 2
    assert "outside" in caught.value.message
    assert "not-for-your-eyes" not in str(caught.value)


def test_configured_files_inside_the_project_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "approved.txt").write_text("requests\n")
    config_text = "approved-packages-file = 'lists/../lists/approved.txt'\n"
    (tmp_path / "bastion.toml").write_text(config_text)
    config = load_config(tmp_path)
    assert config.approved_packages_file == tmp_path / "lists/../lists/approved.txt"


def test_an_explicit_config_elsewhere_may_name_files_beside_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "ci-config"
    elsewhere.mkdir()
    (elsewhere / "approved.txt").write_text("requests\n")
    (elsewhere / "bastion.toml").write_text("approved-packages-file = 'approved.txt'\n")
    project = tmp_path / "project"
    project.mkdir()
    config = load_config(project, elsewhere / "bastion.toml")
    assert config.approved_packages_file == elsewhere.resolve() / "approved.txt"
