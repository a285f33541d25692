"""The index-confusion control: merged indexes, per-package index pins, unclaimed internal names."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion._internal.config import Config, load_config
from bastion._internal.controls.base import Project
from bastion._internal.controls.index_confusion import IndexConfusionControl
from bastion._internal.index_client import IndexClient
from bastion._internal.inputs.discovery import discover
from bastion._internal.model import ControlResult, ControlStatus, Severity
from tests.conftest import LOCKFILES, FakeIndex, MakeProject

H = "sha256:" + "a" * 64
CORP = "https://pkgs.corp.example/simple"
REAL_UV_LOCK = (LOCKFILES / "uv" / "uv.lock").read_text()
ALL_REGISTRY_PACKAGES = (
    *("certifi", "charset-normalizer", "click", "idna", "iniconfig", "jinja2"),
    *("markupsafe", "pyyaml", "requests", "urllib3"),
)
PYPROJECT_HEAD = '[project]\nname = "app"\nversion = "1"\n'


def uv_lock_from(index: str, *names: str) -> str:
    """The real uv.lock fixture with the named packages resolved from ``index`` instead."""
    text = REAL_UV_LOCK
    for name in names:
        pattern = rf'(name = "{name}"\nversion = "[^"]+"\nsource = {{ registry = )"[^"]+"'
        text, count = re.subn(pattern, rf'\1"{index}"', text)
        assert count == 1, name
    return text


def run(root: Path, client: IndexClient | None = None) -> ControlResult:
    config = load_config(root)
    control = IndexConfusionControl((lambda: client) if client else None)
    return control.run(Project(root, discover(root), config))


def test_requirements_extra_index_url_is_high(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": f"--extra-index-url {CORP}\nidna==3.7 --hash={H}\n"})
    result = run(root)
    assert result.status is ControlStatus.FAIL
    (finding,) = result.findings
    assert finding.rule_id == "index-confusion"
    assert finding.severity is Severity.HIGH
    assert finding.location is not None and finding.location.line == 1


def test_single_index_url_is_fine_and_several_are_not(make_project: MakeProject) -> None:
    one = make_project({"a/requirements.txt": f"--index-url {CORP}\nidna==3.7 --hash={H}\n"})
    assert run(one / "a").status is ControlStatus.PASS
    two = make_project(
        {"b/requirements.txt": f"--index-url {CORP}\n--index-url https://x.example/s\nidna==3.7\n"}
    )
    assert "only the last one applies" in run(two / "b").findings[0].message


def test_pipfile_lock_with_two_sources(make_project: MakeProject) -> None:
    lock = {
        "_meta": {
            "sources": [
                {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
                {"name": "corp", "url": CORP, "verify_ssl": True},
            ]
        },
        "default": {"idna": {"hashes": [H], "version": "==3.7"}},
    }
    result = run(make_project({"Pipfile.lock": json.dumps(lock, indent=2)}))
    assert [f.rule_id for f in result.findings] == ["index-confusion"]
    assert "not every package names its index" in result.findings[0].message


def test_uv_lock_from_pypi_alone_passes() -> None:
    result = run(LOCKFILES / "uv")
    assert result.status is ControlStatus.PASS, result.findings


UV_CORP_INDEX = f'[[tool.uv.index]]\nname = "corp"\nurl = "{CORP}"\n'


def test_internal_package_not_pinned_is_medium(make_project: MakeProject) -> None:
    root = make_project(
        {"uv.lock": uv_lock_from(CORP, "idna"), "pyproject.toml": PYPROJECT_HEAD + UV_CORP_INDEX}
    )
    result = run(root)
    (finding,) = result.findings
    assert (finding.package, finding.severity) == ("idna", Severity.MEDIUM)
    assert "searched before the public index but not pinned" in finding.message
    assert "[tool.uv.sources]" in finding.remediation
    assert finding.location is not None and finding.location.path.name == "uv.lock"
    assert finding.location.line == REAL_UV_LOCK.splitlines().index('name = "idna"') + 1


def test_internal_package_pinned_to_an_explicit_index_passes(make_project: MakeProject) -> None:
    pyproject = (
        PYPROJECT_HEAD
        + UV_CORP_INDEX
        + 'explicit = true\n\n[tool.uv.sources]\nidna = { index = "corp" }\n'
    )
    root = make_project({"uv.lock": uv_lock_from(CORP, "idna"), "pyproject.toml": pyproject})
    assert run(root).status is ControlStatus.PASS


def test_pin_that_disagrees_with_the_lock_is_high(make_project: MakeProject) -> None:
    pyproject = PYPROJECT_HEAD + UV_CORP_INDEX + '\n[tool.uv.sources]\nidna = { index = "corp" }\n'
    root = make_project(
        {
            "uv.lock": uv_lock_from("https://other.example/simple", "idna"),
            "pyproject.toml": pyproject,
        }
    )
    (finding,) = run(root).findings
    assert finding.severity is Severity.HIGH
    assert "pinned to index 'corp'" in finding.message
    assert finding.location is not None and finding.location.path.name == "uv.lock"


def test_merging_strategy_is_high_at_the_setting(make_project: MakeProject) -> None:
    pyproject = (
        PYPROJECT_HEAD + '[tool.uv]\nindex-strategy = "unsafe-best-match"\n\n' + UV_CORP_INDEX
    )
    root = make_project({"uv.lock": uv_lock_from(CORP, "idna"), "pyproject.toml": pyproject})
    (finding,) = run(root).findings
    assert finding.severity is Severity.HIGH
    assert "best match across every index" in finding.message


def test_internal_index_searched_after_pypi_is_high(make_project: MakeProject) -> None:
    pyproject = (
        PYPROJECT_HEAD
        + '[[tool.uv.index]]\nname = "pypi"\nurl = "https://pypi.org/simple"\n\n'
        + UV_CORP_INDEX
        + "default = true\n"
    )
    root = make_project({"uv.lock": uv_lock_from(CORP, "idna"), "pyproject.toml": pyproject})
    (finding,) = run(root).findings
    assert finding.severity is Severity.HIGH
    assert "searched after the public index" in finding.message


def test_pypi_listed_by_url_counts_as_public_whatever_public_index_says(
    make_project: MakeProject,
) -> None:
    pyproject = (
        PYPROJECT_HEAD
        + '[[tool.uv.index]]\nname = "pypi"\nurl = "https://pypi.org/simple/"\n\n'
        + UV_CORP_INDEX
        + 'default = true\n\n[tool.bastion]\npublic-index = "https://proxy.example/simple"\n'
    )
    root = make_project({"uv.lock": uv_lock_from(CORP, "idna"), "pyproject.toml": pyproject})
    (finding,) = run(root).findings
    assert (finding.package, finding.severity) == ("idna", Severity.HIGH)
    assert "searched after the public index" in finding.message


def test_single_private_proxy_replacing_pypi_passes(make_project: MakeProject) -> None:
    names = ALL_REGISTRY_PACKAGES
    pyproject = PYPROJECT_HEAD + UV_CORP_INDEX + "default = true\n"
    root = make_project({"uv.lock": uv_lock_from(CORP, *names), "pyproject.toml": pyproject})
    assert run(root).status is ControlStatus.PASS


def test_poetry_supplemental_source_is_high(make_project: MakeProject) -> None:
    lock, count = re.subn(
        r'(name = "idna"\n(?:.*\n)*?\[package\.source\]\ntype = "legacy"\nurl = )'
        r'"https://pypi.org/simple"\nreference = "pypi-simple"',
        rf'\1"{CORP}"\nreference = "corp"',
        (LOCKFILES / "poetry2" / "poetry.lock").read_text(),
        count=1,
    )
    assert count == 1
    # the fixture's own pyproject (PyPI as a primary source), plus a supplemental corp source
    pyproject = (LOCKFILES / "poetry2" / "pyproject.toml").read_text() + (
        f'\n[[tool.poetry.source]]\nname = "corp"\nurl = "{CORP}"\npriority = "supplemental"\n'
    )
    root = make_project({"poetry.lock": lock, "pyproject.toml": pyproject})
    findings = run(root).findings
    assert [(f.package, f.severity) for f in findings] == [("idna", Severity.HIGH)]
    assert "searched after the public index" in findings[0].message
    assert 'priority = "explicit"' in findings[0].remediation


def test_pylock_with_two_indexes_and_no_configuration_is_medium(make_project: MakeProject) -> None:
    lock = (LOCKFILES / "pylock-uv" / "pylock.toml").read_text()
    lock = lock.replace(
        'name = "idna"\nversion = "3.20"\nindex = "https://pypi.org/simple"',
        f'name = "idna"\nversion = "3.20"\nindex = "{CORP}"',
    )
    assert CORP in lock
    findings = run(make_project({"pylock.toml": lock})).findings
    assert [(f.package, f.severity) for f in findings] == [("idna", Severity.MEDIUM)]
    assert "no uv or Poetry configuration" in findings[0].message


def test_many_packages_with_one_cause_are_one_finding(make_project: MakeProject) -> None:
    names = ALL_REGISTRY_PACKAGES
    lock = uv_lock_from(CORP, *names)
    extra = "".join(
        f'\n[[package]]\nname = "corp-lib-{i}"\nversion = "1.0"\n'
        f'source = {{ registry = "{CORP}" }}\n'
        for i in range(5)
    )
    root = make_project({"uv.lock": lock + extra, "pyproject.toml": PYPROJECT_HEAD + UV_CORP_INDEX})
    (finding,) = run(root).findings
    assert finding.message.startswith("15 packages (")
    assert finding.package is None
    assert finding.location is not None and finding.location.path.name == "pyproject.toml"


def test_credentials_in_index_urls_are_redacted(make_project: MakeProject) -> None:
    login_url = "https://bob:hunter2@pkgs.corp.example/simple"
    root = make_project({"uv.lock": uv_lock_from(login_url, "idna")})
    pylock_like = run(root)  # no configuration: one registry besides PyPI
    assert pylock_like.findings
    assert all("hunter2" not in f.message + f.remediation for f in pylock_like.findings)


def _online_project(make_project: MakeProject, public: str) -> Path:
    lock = uv_lock_from(CORP, "idna") + (
        f'\n[[package]]\nname = "corp-auth"\nversion = "2.0"\nsource = {{ registry = "{CORP}" }}\n'
    )
    pyproject = (
        PYPROJECT_HEAD
        + UV_CORP_INDEX
        + 'explicit = true\n\n[tool.uv.sources]\ncorp-auth = { index = "corp" }\n'
        + f'\n[tool.bastion]\npublic-index = "{public}"\n'
    )
    return make_project({"uv.lock": lock, "pyproject.toml": pyproject})


def test_online_reports_unclaimed_internal_names(
    make_project: MakeProject, fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.simple_json("idna", [{"filename": "idna-3.20.tar.gz"}])
    root = _online_project(make_project, f"{fake_index.url}/simple")
    client = IndexClient(tmp_path / "cache", datetime(2026, 11, 21, tzinfo=UTC))
    result = run(root, client)
    unclaimed = [f for f in result.findings if f.rule_id == "internal-name-unclaimed"]
    assert [(f.package, f.severity) for f in unclaimed] == [("corp-auth", Severity.MEDIUM)]
    # idna is claimed publicly but locked, unpinned, from the private index
    assert {f.package for f in result.findings if f.rule_id == "index-confusion"} == {"idna"}
    asked = sorted(path for path, _ in fake_index.requests)
    assert asked == ["/simple/corp-auth/", "/simple/idna/"]
    assert "2 internal names looked up" in result.detail


def test_unclaimed_and_unpinned_is_high(
    make_project: MakeProject, fake_index: FakeIndex, tmp_path: Path
) -> None:
    root = _online_project(make_project, f"{fake_index.url}/simple")
    result = run(root, IndexClient(tmp_path / "cache"))
    severities = {
        f.package: f.severity for f in result.findings if f.rule_id == "internal-name-unclaimed"
    }
    assert severities == {"corp-auth": Severity.MEDIUM, "idna": Severity.HIGH}


def test_offline_says_names_were_not_looked_up(make_project: MakeProject) -> None:
    result = run(_online_project(make_project, "https://pypi.org/simple"))
    assert "use --online" in result.detail
    assert not [f for f in result.findings if f.rule_id == "internal-name-unclaimed"]


@pytest.mark.parametrize("status", [500, 403])
def test_index_errors_fail_closed(
    make_project: MakeProject, fake_index: FakeIndex, tmp_path: Path, status: int
) -> None:
    fake_index.pages["/simple/corp-auth/"] = (status, "text/plain", b"no")
    root = _online_project(make_project, f"{fake_index.url}/simple")
    result = run(root, IndexClient(tmp_path / "cache"))
    assert result.status is ControlStatus.ERROR
    assert f"HTTP {status}" in result.detail


def test_no_sources_is_not_configured(tmp_path: Path) -> None:
    result = IndexConfusionControl().run(Project(tmp_path, discover(tmp_path), Config()))
    assert result.status is ControlStatus.NOT_CONFIGURED
