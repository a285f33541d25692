"""The sbom control: a kept SBOM must be complete and current; CI may produce one instead."""

from __future__ import annotations

import sys
from pathlib import Path

from bastion._internal.engine import run_check
from bastion._internal.inputs.environment import parse_environment
from bastion._internal.model import ControlStatus, Coverage
from bastion._internal.sbom.generate import build_bom, root_project
from tests.conftest import DATA, OLD_DATA_OK, MakeProject

REQUIREMENTS = (
    "idna==3.7 --hash=sha256:82fee1fc78add43492d3a1898bfa6d8a904cc97d8427f683ed8e798d07761aa0\n"
)


def _result(root: Path) -> tuple[object, list[str]]:
    report = run_check(root)
    result = next(r for r in report.results if r.control == "sbom")
    return result, [f.rule_id for f in result.findings]


def test_no_sbom_is_not_configured_and_exposed(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": REQUIREMENTS, "bastion.toml": OLD_DATA_OK})
    report = run_check(root)
    result = next(r for r in report.results if r.control == "sbom")
    assert result.status is ControlStatus.NOT_CONFIGURED
    verdicts = {row.threat: row.verdict for row in report.coverage}
    assert verdicts["blind-response"] is Coverage.EXPOSED


def test_incomplete_third_party_sbom(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            "sbom/app.cdx.json": (DATA / "sbom" / "cyclonedx-py-environment.json").read_text(),
        }
    )
    result, rules = _result(root)
    assert rules == ["sbom-incomplete", "sbom-stale"]
    messages = " ".join(f.message for f in result.findings)  # type: ignore[attr-defined]
    assert "supplier (12/12 lack it)" in messages and "idna==3.7" in messages


def test_complete_and_current_sbom_passes(make_project: MakeProject) -> None:
    source = parse_environment(Path(sys.prefix))
    idna = next(p for p in source.packages if p.name == "idna")
    root = make_project(
        {
            "requirements.txt": f"idna=={idna.version} --hash=sha256:{'a' * 64}\n",
            "bastion.toml": OLD_DATA_OK + 'disable = ["advisories"]\n',
        }
    )
    (root / "bom.json").write_text(build_bom([source], root_project(root), authors=["Ops"]))
    result, rules = _result(root)
    assert rules == []
    assert result.status is ControlStatus.PASS  # type: ignore[attr-defined]


def test_unreadable_sbom_is_a_finding(make_project: MakeProject) -> None:
    root = make_project({"bastion.toml": OLD_DATA_OK, "bom.json": "{broken"})
    _, rules = _result(root)
    assert rules == ["sbom-unreadable"]


def test_produced_in_ci_fail_closed_is_covered(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            ".github/workflows/sbom.yml": (
                "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
                "      - run: bastion sbom -o app.cdx.json\n"
            ),
        }
    )
    report = run_check(root)
    result = next(r for r in report.results if r.control == "sbom")
    assert result.status is ControlStatus.PASS and result.enforced is True
    assert {row.threat: row.verdict for row in report.coverage}[
        "blind-response"
    ] is Coverage.COVERED


def test_stale_compares_canonical_names_and_every_listed_version(make_project: MakeProject) -> None:
    import json

    components = [
        {"name": "Zope.Interface", "version": "7.0", "purl": "pkg:pypi/zope.interface@7.0"},
        {"name": "idna", "version": "3.7", "purl": "pkg:pypi/idna@3.7"},
        {"name": "idna", "version": "3.6", "purl": "pkg:pypi/idna@3.6"},  # two versions shipped
        {"name": "Ruamel__Yaml", "version": "0.18.6", "purl": "pkg:pypi/ruamel-yaml@0.18.6"},
    ]
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS
            + f"zope-interface==7.0 --hash=sha256:{'b' * 64}\n"
            + f"ruamel-yaml==0.18.6 --hash=sha256:{'c' * 64}\n",
            "bastion.toml": OLD_DATA_OK,
            "bom.json": json.dumps(
                {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}
            ),
        }
    )
    _, rules = _result(root)
    assert "sbom-stale" not in rules
    assert "sbom-incomplete" in rules  # the SBOM itself is still missing elements


def test_vendored_and_fixture_sboms_are_not_the_projects(make_project: MakeProject) -> None:
    # pypa/pip ships src/pip/_vendor/bom.cdx.json for its vendored libraries (no supplier,
    # its own versions): it was reported incomplete and stale against pip's lock.
    vendored = (DATA / "sbom" / "cyclonedx-py-environment.json").read_text()
    root = make_project(
        {
            "requirements.txt": REQUIREMENTS,
            "bastion.toml": OLD_DATA_OK,
            "src/pip/_vendor/bom.cdx.json": vendored,
            "tests/data/sbom.json": vendored,
        }
    )
    result, rules = _result(root)
    assert rules == []
    assert result.status is ControlStatus.NOT_CONFIGURED  # type: ignore[attr-defined]
