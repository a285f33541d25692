"""bastion sbom: complete, reproducible CycloneDX from locks and environments."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

import pytest

from bastion._internal.inputs.discovery import read_dependency_file
from bastion._internal.inputs.environment import parse_environment
from bastion._internal.sbom.elements import check_elements
from bastion._internal.sbom.generate import build_bom, root_project
from bastion._internal.sbom.read import read_sbom
from tests.conftest import LOCKFILES, MakeProject, run_cli


def _check(tmp_path: Path, text: str, name: str = "bom.json") -> dict[str, tuple[int, int]]:
    path = tmp_path / name
    path.write_text(text)
    report = check_elements(read_sbom(path))
    return {e.element: (e.passing, e.total) for e in report.elements}


def test_environment_sbom_is_complete(tmp_path: Path) -> None:
    source = parse_environment(Path(sys.prefix))
    text = build_bom([source], root_project(Path(__file__).parents[2]))
    found = _check(tmp_path, text)
    total = len(source.packages)
    assert total > 20
    # Every element but the licence: a distribution that declares none (sigstore-models 0.0.6
    # has no License field, classifier or PEP 639 expression) is reported, never invented.
    without = [c for c in json.loads(text)["components"] if not c.get("licenses")]
    for component in without:
        meta = importlib.metadata.metadata(component["name"])
        declared = [*(meta.get_all("License") or []), *(meta.get_all("License-Expression") or [])]
        declared += [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        assert not any(declared), component["name"]
    assert found.pop("licence") == (total - len(without), total)
    assert all(passing == count for passing, count in found.values()), found
    data = json.loads(text)
    assert data["specVersion"] == "1.6"
    assert data["metadata"]["lifecycles"] == [{"phase": "post-build"}]
    assert data["metadata"]["component"]["name"] == "bastion"
    pyyaml = next(c for c in data["components"] if c["name"] == "pyyaml")
    assert pyyaml["purl"].startswith("pkg:pypi/pyyaml@")
    assert pyyaml["supplier"]["name"]
    assert pyyaml["hashes"][0]["alg"] == "SHA-256"


def test_uv_lock_sbom_has_lock_hashes_and_the_graph(tmp_path: Path) -> None:
    source = read_dependency_file(LOCKFILES / "uv" / "uv.lock")
    text = build_bom([source], root_project(tmp_path), spec_version="1.5")
    data = json.loads(text)
    assert data["specVersion"] == "1.5"
    by_ref = {d["ref"]: d.get("dependsOn", []) for d in data["dependencies"]}
    with_deps = [p for p in source.packages if p.dependencies and p.source_kind.value != "virtual"]
    assert with_deps
    assert all(c["name"] != "fixture-app" for c in data["components"])  # the project is the root
    root_ref = data["metadata"]["component"]["bom-ref"]
    assert by_ref[root_ref]  # the project's own dependencies hang off the root
    package = with_deps[0]
    ref = next(c["bom-ref"] for c in data["components"] if c["name"] == package.name)
    assert by_ref[ref], "the lock's edges are in the SBOM"
    hashed = next(p for p in source.packages if p.hashes)
    component = next(c for c in data["components"] if c["name"] == hashed.name)
    assert {h["content"] for h in component["hashes"]} == set(hashed.hashes["sha256"])
    assert component["supplier"]["name"] == "pypi.org (distributor)"
    found = _check(tmp_path, text)
    assert found["hash"][0] == found["hash"][1] and found["supplier"][0] == found["supplier"][1]


def test_reproducible_with_source_date_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    source = read_dependency_file(LOCKFILES / "uv" / "uv.lock")
    first = build_bom([source], root_project(tmp_path))
    second = build_bom([read_dependency_file(LOCKFILES / "uv" / "uv.lock")], root_project(tmp_path))
    assert first == second
    assert json.loads(first)["metadata"]["timestamp"] == "2026-01-01T00:00:00+00:00"
    xml = build_bom([source], root_project(tmp_path), fmt="xml", spec_version="1.7")
    assert xml.startswith("<?xml") and "http://cyclonedx.org/schema/bom/1.7" in xml
    assert _check(tmp_path, xml, "bom.xml")["name"][0] > 0


def test_bad_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bastion._internal.errors import UsageError

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        build_bom([], root_project(tmp_path))


def test_cli_generate_and_check(make_project: MakeProject) -> None:
    root = make_project(
        {
            "pyproject.toml": '[project]\nname = "shop"\nversion = "1.0"\n'
            'authors = [{name = "Shop Team"}]\n',
            "uv.lock": (LOCKFILES / "uv" / "uv.lock").read_text(),
        }
    )
    code, out, err = run_cli("sbom", str(root), "-o", str(root / "shop.cdx.json"))
    assert code == 0, err
    data = json.loads((root / "shop.cdx.json").read_text())
    assert data["metadata"]["authors"] == [{"name": "Shop Team"}]
    assert data["metadata"]["component"]["version"] == "1.0"
    code, out, _ = run_cli("sbom", "check", str(root / "shop.cdx.json"), "--format", "json")
    report = json.loads(out)
    licence = next(e for e in report["elements"] if e["element"] == "licence")
    assert licence["passing"] == 0  # a lock alone carries no licences: said, not hidden
    assert licence["required"] is False and report["profile"] == "ntia"
    assert code == 0  # NTIA does not require a licence
    code, out, _ = run_cli("sbom", "check", str(root / "shop.cdx.json"), "--profile", "cisa-2025")
    assert code == 1 and "MISSING licence" in out
    code, _, err = run_cli("sbom", "check", str(root / "uv.lock"))
    assert code == 3 and "not an SBOM" in err
    code, _, err = run_cli("sbom", str(root / "empty"))
    assert code == 3


def test_authors_fall_back_to_the_last_committer(tmp_path: Path) -> None:
    from tests.conftest import run_git

    (tmp_path / "README").write_text("x")
    run_git(tmp_path, "init", "-q")
    run_git(tmp_path, "add", "README")
    assert root_project(tmp_path).authors == ()  # no commit yet, no pyproject authors
    run_git(tmp_path, "commit", "-qm", "x")
    assert root_project(tmp_path).authors == ("t",)  # run_git's author
