"""Audit of one package version: alias merging, display ids, malware, severity, fix plans."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

from bastion._internal.advisories.audit import AdvisoryIndex, PackageAudit, audit_version
from bastion._internal.advisories.osv import ParseWarnings
from bastion._internal.advisories.store import import_records, open_database
from bastion._internal.model import Severity
from tests.advisories.test_matcher import SNAPSHOT

CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def osv(rid: str, package: str, *ranges: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    """An OSV record with ECOSYSTEM ranges for one PyPI package."""
    affected: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": package}}
    if ranges:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": r} for r in ranges]
    if "versions" in extra:
        affected["versions"] = extra.pop("versions")
    return {"id": rid, "modified": "2025-01-01T00:00:00Z", "affected": [affected], **extra}


def build_db(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "records"
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    db = tmp_path / "db.sqlite3"
    import_records(folder, db)
    return db


def audit(db: Path, package: str, version: str) -> PackageAudit:
    with closing(open_database(db)) as connection:
        return audit_version(AdvisoryIndex(connection), package, version, ParseWarnings())


def test_alias_chain_across_three_ids_is_one_finding(tmp_path: Path) -> None:
    # GHSA lists CVE; PYSEC lists CVE; OTHER lists GHSA. No record names all three.
    below_2 = [{"introduced": "0"}, {"fixed": "2.0"}]
    db = build_db(
        tmp_path,
        [
            osv("GHSA-aaaa-bbbb-cccc", "Pkg", below_2, aliases=["CVE-2024-1"]),
            osv("PYSEC-2024-9", "pkg", below_2, aliases=["CVE-2024-1"], summary="bad"),
            osv("OSV-2024-7", "pkg", below_2, aliases=["GHSA-aaaa-bbbb-cccc"]),
            osv("PYSEC-2024-10", "pkg", below_2),  # unrelated: a second finding
        ],
    )
    result = audit(db, "pkg", "1.5")
    assert [v.id for v in result.vulnerabilities] == ["PYSEC-2024-10", "PYSEC-2024-9"]
    merged = result.vulnerabilities[1]
    assert merged.aliases == ("CVE-2024-1", "GHSA-aaaa-bbbb-cccc", "OSV-2024-7")
    assert merged.summary == "bad"
    assert result.fix == "2.0"


def test_display_id_is_deterministic_whatever_the_record_order(tmp_path: Path) -> None:
    records = [
        osv(rid, "pkg", [{"introduced": "0"}], aliases=["CVE-1"])
        for rid in ("GHSA-x", "PYSEC-2", "PYSEC-1", "ZZZ-1")
    ]
    chosen = set()
    orders = [records[i:] + records[:i] for i in range(4)] + [records[::-1]]
    for n, order in enumerate(orders):
        folder = tmp_path / str(n)
        folder.mkdir()
        chosen.add(audit(build_db(folder, order), "pkg", "1.0").vulnerabilities[0].id)
    assert chosen == {"PYSEC-1"}


def test_malicious_is_version_aware_and_critical(tmp_path: Path) -> None:
    db = build_db(
        tmp_path,
        [
            osv("MAL-2024-1", "ultra", versions=["8.3.41", "8.3.42"], summary="miner"),
            osv("PYSEC-2024-1", "ultra", [{"introduced": "8.0"}, {"fixed": "8.3.40"}]),
        ],
    )
    bad = audit(db, "ultra", "8.3.41")
    (vuln,) = bad.vulnerabilities
    assert (vuln.id, vuln.malicious, vuln.severity) == ("MAL-2024-1", True, Severity.CRITICAL)
    assert bad.fix is None  # no fixed event above 8.3.41
    assert audit(db, "ultra", "8.3.40").vulnerabilities == ()
    older = audit(db, "ultra", "8.3.39")
    assert [v.malicious for v in older.vulnerabilities] == [False]
    # The fix plan skips nothing here: 8.3.40 is neither vulnerable nor malicious.
    assert older.fix == "8.3.40"


def test_malware_alias_of_a_vulnerability_makes_the_group_malicious(tmp_path: Path) -> None:
    db = build_db(
        tmp_path,
        [
            osv("GHSA-m", "pkg", versions=["1.0"], aliases=["MAL-2025-5"]),
            osv("MAL-2025-5", "pkg", versions=["1.0"]),
        ],
    )
    (vuln,) = audit(db, "pkg", "1.0").vulnerabilities
    assert (vuln.id, vuln.aliases, vuln.severity) == ("MAL-2025-5", ("GHSA-m",), Severity.CRITICAL)


def test_severity_is_the_highest_in_the_group(tmp_path: Path) -> None:
    db = build_db(
        tmp_path,
        [
            osv("PYSEC-1", "pkg", [{"introduced": "0"}], aliases=["GHSA-1"]),
            osv(
                "GHSA-1",
                "pkg",
                [{"introduced": "0"}],
                severity=[{"type": "CVSS_V3", "score": CRITICAL_VECTOR}],
            ),
            osv("PYSEC-2", "pkg", [{"introduced": "0"}], database_specific={"severity": "LOW"}),
        ],
    )
    found = {v.id: (v.severity, v.severity_basis) for v in audit(db, "pkg", "1").vulnerabilities}
    assert found == {
        "PYSEC-1": (Severity.CRITICAL, "CVSS:3.1 9.8"),
        "PYSEC-2": (Severity.LOW, "label LOW"),
    }


def test_fix_plan_is_rechecked_against_every_record(tmp_path: Path) -> None:
    db = build_db(
        tmp_path,
        [
            # A is fixed in 1.1, but 1.1 is hit by B, fixed in 1.3; 1.2 is listed in C.
            osv("A", "pkg", [{"introduced": "1.0"}, {"fixed": "1.1"}]),
            osv("B", "pkg", [{"introduced": "1.1"}, {"fixed": "1.3"}]),
            osv("C", "pkg", [{"introduced": "1.2"}, {"fixed": "1.2.1"}]),
            # A pre-release fix is not proposed while a final release fixes all.
            osv("D", "pkg", [{"introduced": "0"}, {"fixed": "1.3rc1"}]),
        ],
    )
    result = audit(db, "pkg", "1.0")
    assert [v.id for v in result.vulnerabilities] == ["A", "D"]
    assert result.vulnerabilities[0].fixed_in == ("1.1",)
    assert result.fix == "1.3"


def test_fix_plan_proposes_a_pre_release_only_when_nothing_else_fixes(tmp_path: Path) -> None:
    db = build_db(tmp_path, [osv("A", "pkg", [{"introduced": "0"}, {"fixed": "2.0b1"}])])
    assert audit(db, "pkg", "1.0").fix == "2.0b1"


def test_no_fix_when_every_version_is_affected(tmp_path: Path) -> None:
    db = build_db(tmp_path, [osv("A", "pkg", [{"introduced": "0"}])])
    result = audit(db, "pkg", "9.9")
    assert len(result.vulnerabilities) == 1 and result.fix is None


def test_withdrawn_records_are_not_reported(tmp_path: Path) -> None:
    db = build_db(
        tmp_path,
        [osv("A", "pkg", [{"introduced": "0"}], withdrawn="2025-02-01T00:00:00Z")],
    )
    assert audit(db, "pkg", "1.0").vulnerabilities == ()


def test_real_snapshot_urllib3(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    import_records(SNAPSHOT, db)
    result = audit(db, "urllib3", "1.26.4")
    ids = {v.id for v in result.vulnerabilities}
    assert "PYSEC-2021-108" in ids  # CVE-2021-33503, fixed in 1.26.5
    # Every proposed fix is re-checked: the plan's version has no advisory at all.
    assert result.fix is not None
    assert audit(db, "urllib3", result.fix).vulnerabilities == ()
