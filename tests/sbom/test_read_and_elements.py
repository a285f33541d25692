"""Reading SBOMs from other tools, and the minimum-elements check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion._internal.errors import InputError
from bastion._internal.sbom import read as sbom_read
from bastion._internal.sbom.elements import check_elements, valid_purl
from bastion._internal.sbom.read import read_sbom
from tests.conftest import DATA

SBOM_DATA = DATA / "sbom"


def _elements(path: Path) -> dict[str, tuple[int, int]]:
    report = check_elements(read_sbom(path))
    return {e.element: (e.passing, e.total) for e in report.elements}


def test_cyclonedx_py_output_lacks_supplier_hashes_author_and_context() -> None:
    found = _elements(SBOM_DATA / "cyclonedx-py-environment.json")
    assert found["supplier"] == (0, 12)
    assert found["hash"] == (0, 12)
    assert found["author of the SBOM data"] == (0, 1)
    assert found["generation context"] == (0, 1)
    assert found["name"] == (12, 12) and found["licence"] == (12, 12)
    assert found["tool"] == (1, 1) and found["timestamp"] == (1, 1)


def test_spdx_document() -> None:
    document = read_sbom(SBOM_DATA / "spdx-2.3.json")
    assert (document.format, document.spec_version, document.root) == (
        "spdx",
        "2.3",
        "SPDXRef-shop-api",
    )
    assert document.tools == ("example-sbom-tool-2.0",) and document.authors == ("Example Shop",)
    urllib3 = next(c for c in document.components if c.name == "urllib3")
    assert urllib3.supplier == "Andrey Petrov" and urllib3.purl == "pkg:pypi/urllib3@1.26.4"
    assert urllib3.hashes[0][0] == "SHA256"
    assert document.dependencies["SPDXRef-requests"] == ("SPDXRef-urllib3",)
    found = _elements(SBOM_DATA / "spdx-2.3.json")
    assert found["supplier"] == (2, 3)  # NOASSERTION is not a supplier
    assert found["licence"] == (2, 3)


CDX_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <metadata>
    <timestamp>2026-11-01T00:00:00Z</timestamp>
    <tools><components>
      <component type="application"><name>maker</name></component>
    </components></tools>
    <authors><author><name>Platform team</name></author></authors>
    <lifecycles><lifecycle><phase>build</phase></lifecycle></lifecycles>
    <component type="application" bom-ref="app"><name>app</name></component>
  </metadata>
  <components>
    <component type="library" bom-ref="pkg:pypi/idna@3.7">
      <supplier><name>Kim Davies</name></supplier>
      <name>idna</name><version>3.7</version>
      <hashes><hash alg="SHA-256">AABB</hash></hashes>
      <licenses><license><id>BSD-3-Clause</id></license></licenses>
      <purl>pkg:pypi/idna@3.7</purl>
      <components>
        <component type="library" bom-ref="inner">
          <name>inner</name><version>1</version><purl>not a purl</purl>
        </component>
      </components>
    </component>
  </components>
  <dependencies>
    <dependency ref="app"><dependency ref="pkg:pypi/idna@3.7"/></dependency>
  </dependencies>
</bom>
"""


def test_cyclonedx_xml(tmp_path: Path) -> None:
    path = tmp_path / "bom.xml"
    path.write_text(CDX_XML)
    document = read_sbom(path)
    assert (document.spec_version, document.encoding, document.root) == ("1.5", "xml", "app")
    assert [c.name for c in document.components] == ["idna", "inner"]
    assert document.components[0].hashes == (("SHA-256", "aabb"),)
    report = check_elements(document)
    by_name = {e.element: e for e in report.elements}
    assert by_name["unique identifier"].missing == ("inner@1",)  # the purl does not parse
    assert by_name["dependency relationships"].missing == ("inner@1",)
    assert by_name["generation context"].complete and by_name["author of the SBOM data"].complete


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("just text", "neither JSON nor XML"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "neither JSON nor XML"),
        ('{"a": 1}', "no bomFormat"),
        ('{"bomFormat": "CycloneDX", "specVersion": "9"}', "specVersion"),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}',
            "components should be an array",
        ),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 5}]}',
            "components[0].name should be a string",
        ),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "dependencies": [{"dependsOn": []}]}',
            "dependencies[0].ref",
        ),
        ('{"spdxVersion": "SPDX-3.0"}', "SPDX-2.x"),
        (
            '{"spdxVersion": "SPDX-2.3", "packages": [{"checksums": "x"}]}',
            "checksums should be an array",
        ),
        ('<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "x">]><bom/>', "DOCTYPE"),
        ("<bom><unclosed></bom>", "invalid XML"),
        ('<bom xmlns="urn:other"/>', "not a CycloneDX document"),
        ("[" * 100_000, "neither JSON nor XML"),
        ("{" + '"a":' * 100_000, "invalid JSON"),
    ],
)
def test_bad_sboms_are_one_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=problem.replace("[", r"\[").replace("]", r"\]")) as info:
        read_sbom(path)
    assert str(path) in str(info.value)


def test_too_many_components(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sbom_read, "MAX_COMPONENTS", 1000)
    path = tmp_path / "big.json"
    components = [{"name": f"p{i}", "version": "1"} for i in range(1001)]
    path.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components})
    )
    with pytest.raises(InputError, match="more than 1000 components"):
        read_sbom(path)


def test_a_million_components_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "million.json"
    item = '{"name":"p","version":"1"}'
    path.write_text(
        '{"bomFormat":"CycloneDX","specVersion":"1.6","components":['
        + ",".join([item] * 1_000_000)
        + "]}"
    )
    with pytest.raises(InputError, match="more than 200000 components"):
        read_sbom(path)


def test_purl_validation() -> None:
    assert valid_purl("pkg:pypi/requests@2.32.3")
    assert not valid_purl("pypi/requests")
    assert not valid_purl("")
    assert not valid_purl(None)


def _without_licences(tmp_path: Path) -> Path:
    """A complete bastion-style SBOM whose one component has no licence (real offline case)."""
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {
            "timestamp": "2026-01-01T00:00:00Z",
            "authors": [{"name": "Ops"}],
            "tools": {"components": [{"type": "application", "name": "bastion"}]},
            "lifecycles": [{"phase": "pre-build"}],
            "component": {"type": "application", "name": "app", "bom-ref": "app"},
        },
        "components": [
            {
                "type": "library",
                "name": "sigstore-models",
                "version": "0.0.6",
                "bom-ref": "pkg:pypi/sigstore-models@0.0.6",
                "purl": "pkg:pypi/sigstore-models@0.0.6",
                "supplier": {"name": "PyPI"},
                "hashes": [{"alg": "SHA-256", "content": "a" * 64}],
            }
        ],
        "dependencies": [{"ref": "app", "dependsOn": ["pkg:pypi/sigstore-models@0.0.6"]}],
    }
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(document))
    return path


def test_profiles_decide_which_elements_are_required(tmp_path: Path) -> None:
    document = read_sbom(_without_licences(tmp_path))
    ntia = check_elements(document)
    assert ntia.profile == "ntia" and ntia.complete
    assert {e.element for e in ntia.required} >= {"supplier", "timestamp"}
    assert "licence" not in {e.element for e in ntia.required}
    cisa = check_elements(document, profile="cisa-2025")
    assert not cisa.complete
    assert [e.element for e in cisa.required if not e.complete] == ["licence"]
    with pytest.raises(ValueError, match="unknown SBOM profile"):
        check_elements(document, profile="fda")


def test_sbom_check_names_its_profile(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    path = _without_licences(tmp_path)
    code, out, _ = run_cli("sbom", "check", str(path))
    assert code == 0 and "complete for the NTIA minimum elements" in out
    assert "absent  licence" in out
    code, out, _ = run_cli("sbom", "check", str(path), "--profile", "cisa-2025")
    assert code == 1 and "incomplete for the CISA 2025" in out and "MISSING licence" in out
    code, out, _ = run_cli("sbom", "check", str(path), "--profile", "cisa-2025", "--format", "json")
    data = json.loads(out)
    assert data["profile"] == "cisa-2025" and data["complete"] is False
    assert {e["element"]: e["required"] for e in data["elements"]}["licence"] is True
