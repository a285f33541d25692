"""Configuration: [tool.bastion] and bastion.toml, validated strictly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bastion._internal.config import Config, load_config
from bastion._internal.errors import ConfigError
from bastion._internal.markers import Target
from bastion._internal.model import Severity
from tests.conftest import MakeProject


def test_defaults_without_configuration(make_project: MakeProject) -> None:
    root = make_project({"pyproject.toml": "[project]\nname = 'x'\n"})
    assert load_config(root) == Config()


def test_pyproject_table(make_project: MakeProject) -> None:
    root = make_project(
        {
            "pyproject.toml": """\
            [tool.bastion]
            fail-on = "high"
            disable = ["ruff-security"]
            exclude = ["tests/data/**"]

            [[tool.bastion.waiver]]
            id = "missing-hash"
            package = "Some_Pkg"
            versions = "<2"
            reason = "vendored wheel, verified by hand"
            expires = 2030-01-31
            """
        }
    )
    config = load_config(root)
    assert config.fail_on is Severity.HIGH
    assert config.disable == {"ruff-security"}
    assert config.exclude == ("tests/data/**",)
    (waiver,) = config.waivers
    assert waiver.package == "some-pkg"
    assert waiver.expires == datetime(2030, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert waiver.location.line == 6


def test_bastion_toml_wins_over_pyproject(make_project: MakeProject) -> None:
    root = make_project(
        {
            "pyproject.toml": "[tool.bastion]\nfail-on = 'high'\n",
            "bastion.toml": "fail-on = 'low'\n",
        }
    )
    assert load_config(root).fail_on is Severity.LOW


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("\nfail-on = 'severe'\n", 2, "unknown severity 'severe'"),
        ("fail_on = 'low'\n", 1, "unknown key 'fail_on'"),
        ("exclude = 'tests'\n", 1, "array of strings"),
        ("[[waiver]]\nid = 'x'\nexpires = 2030-01-01\n", 1, "needs a 'reason'"),
        ("[[waiver]]\nid = 'x'\nreason = 'r'\n", 1, "needs an 'expires' date"),
        ("[[waiver]]\nid = 'x'\nreason = 'r'\nexpires = 'soon'\n", 1, "needs an 'expires'"),
        (
            "\n[[waiver]]\nid = 'x'\nreason = 'r'\nexpires = 2030-01-01\nversions = '<2'\n",
            2,
            "needs a 'package'",
        ),
        (
            "[[waiver]]\nid='x'\nreason='r'\nexpires=2030-01-01\npackage='p'\nversions='<<2'\n",
            1,
            "invalid version range",
        ),
        (
            "[[waiver]]\nid='x'\nreason='r'\nexpires=2030-01-01\nscope='all'\n",
            1,
            "unknown key 'scope'",
        ),
        (
            "[[waiver]]\nid='x'\nreason='r'\nexpires=2030-01-01\njustification='safe'\n",
            1,
            "unknown justification 'safe'",
        ),
        (
            "[[waiver]]\nid='x'\nreason='r'\nexpires=2030-01-01\njustification=1\n",
            1,
            "unknown justification 1",
        ),
        ("fail-on = \n", 1, "invalid TOML"),
        ("\nadvisory-max-days = 0\n", 2, "number of days"),
        ("advisory-warn-days = '7'\n", 1, "number of days"),
        ("advisory-max-days = true\n", 1, "number of days"),
        ("advisory-warn-days = 40\nadvisory-max-days = 30\n", 1, "should not exceed"),
        ("target-python = 'py3'\n", 1, "should look like 3.12"),
        ("target-platform = 'amiga'\n", 1, "not one of"),
        ("target-platform = 3\n", 1, "should be a string"),
    ],
)
def test_invalid_configuration_names_file_and_line(
    make_project: MakeProject, text: str, line: int, message: str
) -> None:
    root = make_project({"bastion.toml": text})
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert message in str(caught.value)
    assert caught.value.line == line


def test_advisory_age_and_target(make_project: MakeProject) -> None:
    root = make_project(
        {
            "bastion.toml": "advisory-warn-days = 2\nadvisory-max-days = 14\n"
            "target-python = '3.13'\ntarget-platform = 'windows'\n"
        }
    )
    config = load_config(root)
    assert (config.advisory_warn_days, config.advisory_max_days) == (2, 14)
    assert config.target == Target("3.13", "windows")
    assert load_config(make_project({"bastion.toml": ""})).target is None
