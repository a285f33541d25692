"""The quarantine-index control: installs through the configured quarantine index, in CI."""

from __future__ import annotations

from bastion._internal.controls.proxy import QuarantineIndexControl
from bastion._internal.engine import run_check
from bastion._internal.model import ControlResult, ControlStatus, Coverage, ThreatCoverage
from tests.conftest import MakeProject

Q = "https://quarantine.corp.example/simple"
CONFIG = f'quarantine-indexes = ["{Q}"]\n'
REQUIREMENTS = "requests==2.32.3\n"


def _workflow(env: str = "", run: str = "pip install -r requirements.txt") -> str:
    return f"""
    on: push
    jobs:
      test:
        runs-on: ubuntu-latest
        {env}
        steps:
          - run: {run}
    """


def check(
    project_files: dict[str, str], make_project: MakeProject, folder: str = ""
) -> tuple[ControlResult, dict[str, ThreatCoverage]]:
    root = make_project({f"{folder}{k}": v for k, v in project_files.items()}) / folder
    report = run_check(root, controls=[QuarantineIndexControl()])
    (result,) = report.results
    rows = {row.threat: row for row in report.coverage}
    return result, rows


def test_not_configured_without_quarantine_indexes(make_project: MakeProject) -> None:
    result, _ = check({"requirements.txt": REQUIREMENTS}, make_project)
    assert result.status is ControlStatus.NOT_CONFIGURED


def test_ci_installing_only_through_it_is_enforced_in_the_matrix(
    make_project: MakeProject,
) -> None:
    files = {
        "bastion.toml": CONFIG,
        "requirements.txt": REQUIREMENTS,
        ".github/workflows/ci.yml": _workflow(f"env:\n          PIP_INDEX_URL: {Q}/"),
    }
    result, rows = check(files, make_project)
    assert result.status is ControlStatus.PASS and result.enforced is True
    assert rows["compromised-release"].verdict is Coverage.COVERED
    assert rows["known-malicious"].verdict is Coverage.COVERED
    assert "CI: PIP_INDEX_URL" in result.detail


def test_an_extra_index_is_a_way_around_it(make_project: MakeProject) -> None:
    files = {
        "bastion.toml": CONFIG,
        "requirements.txt": REQUIREMENTS,
        ".github/workflows/ci.yml": _workflow(
            f"env:\n          UV_DEFAULT_INDEX: {Q}\n"
            "          PIP_EXTRA_INDEX_URL: https://pypi.org/simple"
        ),
    }
    result, rows = check(files, make_project)
    assert result.status is ControlStatus.FAIL and result.enforced is not True
    (finding,) = result.findings
    assert finding.rule_id == "quarantine-bypass" and "PIP_EXTRA_INDEX_URL" in finding.message
    assert finding.location is not None and finding.location.line == 8
    assert rows["compromised-release"].verdict is Coverage.LOCAL


def test_command_line_options_count_and_sed_i_does_not(make_project: MakeProject) -> None:
    run = f"sed -i s/a/b/ x && pip install --index-url {Q}/ -r requirements.txt"
    files = {
        "bastion.toml": CONFIG,
        "requirements.txt": REQUIREMENTS,
        ".github/workflows/ci.yml": _workflow(run=run),
    }
    result, _ = check(files, make_project)
    assert result.status is ControlStatus.PASS and result.enforced is True
    files[".github/workflows/ci.yml"] = _workflow(
        run=f"uv pip install --default-index {Q} --index https://other.example/simple x"
    )
    result, _ = check(files, make_project)
    assert [f.rule_id for f in result.findings] == ["quarantine-bypass"]


def test_project_settings_only_are_local_and_unused_is_reported(make_project: MakeProject) -> None:
    pyproject = (
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["requests"]\n\n'
        f'[[tool.uv.index]]\nname = "q"\nurl = "{Q}"\ndefault = true\n\n'
        f"[tool.bastion]\n{CONFIG}"
    )
    result, rows = check({"pyproject.toml": pyproject}, make_project)
    assert result.status is ControlStatus.PASS and result.enforced is None
    assert rows["compromised-release"].verdict is Coverage.LOCAL
    pip_conf = "[global]\nindex-url = https://mirror.example/simple\n"
    result, _ = check({"bastion.toml": CONFIG, "pip.conf": pip_conf}, make_project, "other/")
    assert sorted(f.rule_id for f in result.findings) == [
        "quarantine-bypass",
        "quarantine-unused",
    ]


def test_an_index_only_ci_knows_is_not_counted(make_project: MakeProject) -> None:
    files = {
        "bastion.toml": CONFIG,
        ".github/workflows/ci.yml": _workflow(
            "env:\n          PIP_INDEX_URL: ${{ secrets.INDEX_URL }}"
        ),
    }
    result, _ = check(files, make_project)
    assert "only CI knows" in result.detail
    assert [f.rule_id for f in result.findings] == ["quarantine-unused"]


def test_bad_quarantine_setting_is_a_config_error(make_project: MakeProject) -> None:
    from tests.conftest import run_cli

    root = make_project({"bastion.toml": 'quarantine-indexes = ["ftp://x"]\n'})
    code, _, err = run_cli("check", str(root))
    assert code == 3 and "quarantine-indexes should be http(s) URLs" in err
