"""sbom --with-vulnerabilities: OSV findings as CycloneDX vulnerabilities, waivers as VEX."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from bastion._internal.config import load_config
from bastion._internal.errors import IncompleteError
from bastion._internal.inputs.discovery import read_dependency_file
from bastion._internal.sbom.generate import RootProject, build_bom, sbom_packages
from bastion._internal.sbom.read import read_sbom
from bastion._internal.sbom.vulnerabilities import VulnerabilityScan, scan_packages
from tests.advisories.test_audit import CRITICAL_VECTOR, build_db, osv
from tests.conftest import MakeProject, run_cli

NOW = datetime(2025, 1, 10, tzinfo=UTC)
BELOW_2 = [{"introduced": "0"}, {"fixed": "2.0"}]
RECORDS: list[dict[str, Any]] = [
    osv(
        "PYSEC-2024-1",
        "alpha",
        BELOW_2,
        aliases=["CVE-2024-1", "GHSA-aaaa-bbbb-cccc"],
        summary="remote code execution",
        severity=[{"type": "CVSS_V3", "score": CRITICAL_VECTOR}],
        published="2024-06-01T00:00:00Z",
        references=[
            {"type": "ADVISORY", "url": "https://example.org/advisory"},
            {"type": "WEB", "url": "javascript:alert(1)"},
            {"type": "WEB", "url": "https://example.org/with space"},
        ],
    ),
    osv("PYSEC-2024-2", "beta", BELOW_2, database_specific={"severity": "LOW"}),
    osv("SNYK-PYTHON-GAMMA-1", "gamma", BELOW_2),  # no severity at all
    {  # one record affecting two packages
        "id": "MAL-2024-7",
        "modified": "2025-01-01T00:00:00Z",
        "summary": "Malicious code",
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": "delta"}, "versions": ["1.0"]},
            {"package": {"ecosystem": "PyPI", "name": "epsilon"}, "versions": ["1.0"]},
        ],
    },
]
REQUIREMENTS = "alpha==1.5\nbeta==1.0\ngamma==1.0\ndelta==1.0\nepsilon==1.0\nsafe==3.0\n"


def _project(make_project: MakeProject, config: str = "") -> Path:
    return make_project({"requirements.txt": REQUIREMENTS, "bastion.toml": config})


def _scan(root: Path, db: Path, now: datetime = NOW) -> tuple[VulnerabilityScan, str]:
    source = read_dependency_file(root / "requirements.txt")
    config = load_config(root)
    scan = scan_packages(sbom_packages([source]), config.waivers, db_path=db, max_days=30, now=now)
    text = build_bom(
        [source], RootProject("shop", "1.0", ("Shop",)), now=now, vulnerabilities=scan.found
    )
    return scan, text


def _by_id(text: str) -> dict[str, dict[str, Any]]:
    return {v["bom-ref"]: v for v in json.loads(text).get("vulnerabilities", [])}


def test_findings_become_schema_valid_vulnerabilities(
    tmp_path: Path, make_project: MakeProject
) -> None:
    db = build_db(tmp_path / "osv", RECORDS)
    scan, text = _scan(_project(make_project), db)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    found = _by_id(text)
    assert sorted(found) == ["MAL-2024-7", "PYSEC-2024-1", "PYSEC-2024-2", "SNYK-PYTHON-GAMMA-1"]
    alpha = found["PYSEC-2024-1"]
    assert alpha["affects"] == [
        {"ref": "pkg:pypi/alpha@1.5", "versions": [{"version": "1.5", "status": "affected"}]}
    ]
    refs = {c["bom-ref"] for c in json.loads(text)["components"]}
    assert all(a["ref"] in refs for v in found.values() for a in v["affects"])
    (rating,) = alpha["ratings"]
    assert (rating["score"], rating["severity"], rating["method"]) == (9.8, "critical", "CVSSv31")
    assert rating["vector"] == CRITICAL_VECTOR.removeprefix("CVSS:3.1/")  # the method says 3.1
    assert {r["id"]: r["source"]["name"] for r in alpha["references"]} == {
        "CVE-2024-1": "NVD",
        "GHSA-aaaa-bbbb-cccc": "GitHub Advisories",
    }
    assert alpha["advisories"] == [{"url": "https://example.org/advisory"}]  # no javascript:
    assert alpha["recommendation"] == "upgrade alpha to 2.0 (fixes it)"
    assert alpha["published"].startswith("2024-06-01") and "analysis" not in alpha
    assert found["PYSEC-2024-2"]["ratings"][0]["severity"] == "low"
    assert found["SNYK-PYTHON-GAMMA-1"]["ratings"][0]["severity"] == "unknown"
    assert found["SNYK-PYTHON-GAMMA-1"]["source"] == {"name": "SNYK"}
    malware = found["MAL-2024-7"]
    assert [a["ref"] for a in malware["affects"]] == ["pkg:pypi/delta@1.0", "pkg:pypi/epsilon@1.0"]
    assert {"name": "bastion:malicious", "value": "true"} in malware["properties"]
    assert len(scan.found) == 5  # one per package and advisory


@pytest.mark.parametrize("version", ["1.5", "1.7"])
def test_other_spec_versions_validate(
    tmp_path: Path, make_project: MakeProject, version: str
) -> None:
    db = build_db(tmp_path / "osv", RECORDS)
    root = _project(make_project)
    source = read_dependency_file(root / "requirements.txt")
    scan = scan_packages(sbom_packages([source]), (), db_path=db, max_days=30, now=NOW)
    text = build_bom(
        [source], RootProject("shop", None, ()), spec_version=version, vulnerabilities=scan.found
    )
    schema = SchemaVersion.V1_5 if version == "1.5" else SchemaVersion.V1_7
    assert JsonStrictValidator(schema).validate_str(text) is None
    xml = build_bom([source], RootProject("shop", None, ()), fmt="xml", vulnerabilities=scan.found)
    xml_file = tmp_path / "bom.xml"
    xml_file.write_text(xml)
    assert len(read_sbom(xml_file).components) == 6  # the reader ignores the vulnerabilities


WAIVERS = """
[[waiver]]
id = "CVE-2024-1"
reason = "the vulnerable parser is never called; SEC-42"
expires = 2025-06-30
justification = "code-not-reachable"

[[waiver]]
id = "PYSEC-2024-2"
reason = "no fix yet, accepted until the next release"
expires = 2025-06-30

[[waiver]]
id = "SNYK-PYTHON-GAMMA-1"
reason = "the record names another project called gamma"
expires = 2025-06-30
justification = "false_positive"

[[waiver]]
id = "MAL-2024-7"
package = "epsilon"
reason = "internal package of the same name, from our own index"
expires = 2025-06-30
justification = "false_positive"

[[waiver]]
id = "known-vulnerable"
package = "safe"
reason = "expired: must not apply"
expires = 2024-12-31
"""


def test_waivers_become_vex_analyses(tmp_path: Path, make_project: MakeProject) -> None:
    db = build_db(tmp_path / "osv", RECORDS)
    scan, text = _scan(_project(make_project, WAIVERS), db)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    found = _by_id(text)
    reachable = found["PYSEC-2024-1"]["analysis"]  # waived through its CVE alias
    assert reachable["state"] == "not_affected"
    assert reachable["justification"] == "code_not_reachable"
    assert reachable["detail"] == (
        "the vulnerable parser is never called; SEC-42 "
        "(bastion waiver in bastion.toml:2, expires 2025-06-30)"
    )
    accepted = found["PYSEC-2024-2"]["analysis"]
    assert (accepted["state"], accepted["response"]) == ("exploitable", ["will_not_fix"])
    assert "justification" not in accepted
    assert found["SNYK-PYTHON-GAMMA-1"]["analysis"]["state"] == "false_positive"
    # The package-scoped waiver splits the malware entry: epsilon waived, delta not.
    malware = {k: v for k, v in found.items() if k.startswith("MAL-2024-7")}
    assert sorted(malware) == ["MAL-2024-7#1", "MAL-2024-7#2"]
    verdicts = {
        v["affects"][0]["ref"]: v.get("analysis", {}).get("state") for v in malware.values()
    }
    assert verdicts == {"pkg:pypi/delta@1.0": None, "pkg:pypi/epsilon@1.0": "false_positive"}
    assert scan.expired_waivers == 1


def test_expired_waiver_leaves_the_vulnerability_unanalysed(
    tmp_path: Path, make_project: MakeProject
) -> None:
    db = build_db(tmp_path / "osv", RECORDS)
    root = _project(make_project, WAIVERS)
    later = datetime(2025, 7, 1, tzinfo=UTC)  # every waiver above has expired
    with pytest.raises(IncompleteError, match="past advisory-max-days"):
        _scan(root, db, now=later)  # and the data is six months old: refused
    source = read_dependency_file(root / "requirements.txt")
    late = scan_packages(
        sbom_packages([source]), load_config(root).waivers, db_path=db, max_days=365, now=later
    )
    assert len(late.found) == 5 and not any(f.analysis for f in late.found)
    assert late.expired_waivers == 5


def test_stale_or_missing_database_writes_nothing(
    tmp_path: Path, make_project: MakeProject
) -> None:
    db = build_db(tmp_path / "osv", RECORDS)  # data modified 2025-01-01: stale today
    root = _project(make_project)
    out = root / "bom.json"
    code, _, err = run_cli(
        "sbom", str(root), "--with-vulnerabilities", "--db", str(db), "-o", str(out)
    )
    assert code == 2 and "advisory-max-days (30)" in err and err.count("\n") == 1
    assert not out.exists()
    code, _, err = run_cli(
        "sbom", str(root), "--with-vulnerabilities", "--db", str(tmp_path / "none.db")
    )
    assert code == 3 and "no advisory database" in err


def test_cli_with_vulnerabilities_and_bad_waiver(tmp_path: Path, make_project: MakeProject) -> None:
    db = build_db(tmp_path / "osv", RECORDS)
    root = _project(make_project, "advisory-max-days = 36500\n" + WAIVERS)
    out = root / "bom.json"
    code, _, err = run_cli(
        "sbom", str(root), "--with-vulnerabilities", "--db", str(db), "-o", str(out)
    )
    assert code == 0, err
    assert "5 vulnerabilities" in err
    data = json.loads(out.read_text())
    assert {v["id"] for v in data["vulnerabilities"]} >= {"PYSEC-2024-1", "MAL-2024-7"}
    code, _, _ = run_cli("sbom", "check", str(out))
    assert code == 1  # a lock alone has no licences; the vulnerabilities do not break the reader
    (root / "bastion.toml").write_text(WAIVERS.replace("code-not-reachable", "unreachable"))
    code, _, err = run_cli(
        "sbom", str(root), "--with-vulnerabilities", "--db", str(db), "-o", str(out)
    )
    assert code == 3 and "bastion.toml:2" in err and "unknown justification" in err
    code, plain, _ = run_cli("sbom", str(root), "--db", str(db))  # waivers only read when asked
    assert code == 0 and "vulnerabilities" not in json.loads(plain)
