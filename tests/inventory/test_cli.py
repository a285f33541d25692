"""bastion inventory ingest/query from the command line, on both database engines."""

from __future__ import annotations

import json
from pathlib import Path

from tests.advisories.test_audit import build_db, osv
from tests.conftest import DATA, run_cli


def test_ingest_and_query(inventory_db: str, tmp_path: Path) -> None:
    sbom = DATA / "sbom" / "spdx-2.3.json"
    code, _, err = run_cli(
        "inventory",
        "ingest",
        str(sbom),
        "--service",
        "shop",
        "--release",
        "1.4.0",
        "--released-at",
        "2026-11-01",
        "--db",
        inventory_db,
    )
    assert code == 0, err
    assert "3 component(s) stored" in err
    code, out, _ = run_cli(
        "inventory",
        "query",
        "--package",
        "urllib3<1.26.5",
        "--db",
        inventory_db,
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["matches"][0]["release"] == "1.4.0"
    advisories = build_db(
        tmp_path, [osv("PYSEC-7", "urllib3", [{"introduced": "0"}, {"fixed": "1.26.5"}])]
    )
    code, out, _ = run_cli(
        "inventory",
        "query",
        "--advisory",
        "PYSEC-7",
        "--latest-only",
        "--advisory-db",
        str(advisories),
        "--db",
        inventory_db,
    )
    assert code == 0 and "shop" in out and "1 match(es) in 1 service(s)" in out
    code, out, _ = run_cli("inventory", "query", "--hash", "00" * 32, "--db", inventory_db)
    assert code == 1 and out == "no match\n"


def test_bad_input_writes_nothing(inventory_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "components": [
                    {"name": "a", "version": "1", "purl": "pkg:pypi/a@1"},
                    {"name": "b", "version": "1", "purl": "::"},
                ],
            }
        )
    )
    code, _, err = run_cli(
        "inventory", "ingest", str(bad), "--service", "s", "--release", "1", "--db", inventory_db
    )
    assert code == 3 and "does not parse" in err and len(err.strip().splitlines()) == 1
    code, _, _ = run_cli("inventory", "query", "--purl", "pkg:", "--db", inventory_db)
    assert code == 1  # nothing stored
    code, _, err = run_cli(
        "inventory", "query", "--package", "a", "--purl", "b", "--db", inventory_db
    )
    assert code == 3 and "exactly one" in err
    code, _, err = run_cli(
        "inventory",
        "ingest",
        str(bad),
        "--service",
        "s",
        "--release",
        "1",
        "--released-at",
        "someday",
        "--db",
        inventory_db,
    )
    assert code == 3


def test_bulk_ingest_from_a_manifest(inventory_db: str, tmp_path: Path) -> None:
    sbom = DATA / "sbom" / "spdx-2.3.json"
    (tmp_path / "broken.json").write_text("{")
    manifest = tmp_path / "releases.csv"
    manifest.write_text(
        "sbom,service,release,released_at\n"
        f"{sbom},shop,1.0,2026-01-01\n"
        "broken.json,shop,1.1,2026-02-01\n"
        f"{sbom},shop,1.2,2026-03-01\n"
        f"{sbom},search,7.0,\n"
    )
    code, _, err = run_cli("inventory", "ingest", "--manifest", str(manifest), "--db", inventory_db)
    assert code == 3
    assert f"{manifest}:3: " in err and "broken.json" in err
    assert "3 release(s), 9 component(s) stored; 1 refused" in err
    code, out, _ = run_cli(
        "inventory", "query", "--purl", "pkg:pypi/", "--latest-only", "--format", "json",
        "--db", inventory_db,
    )  # fmt: skip
    assert code == 0
    assert {(m["service"], m["release"]) for m in json.loads(out)["matches"]} == {
        ("shop", "1.2"),
        ("search", "7.0"),
    }
    code, _, err = run_cli("inventory", "ingest", "--manifest", str(manifest), "--db", inventory_db)
    assert code == 3 and err.count("already in the inventory") == 3  # a re-run adds nothing
    manifest.write_text("sbom,service\nx.json,shop\n")
    code, _, err = run_cli("inventory", "ingest", "--manifest", str(manifest), "--db", inventory_db)
    assert code == 3 and f"{manifest}:1:" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("inventory", "ingest", "--service", "x", "--db", inventory_db)
    assert code == 3 and "--manifest" in err
