"""--format sarif is valid SARIF 2.1.0 with rule metadata GitHub code scanning uses."""

from __future__ import annotations

import json

import jsonschema

from bastion._internal.model import Report
from bastion._internal.report.sarif import render
from tests.conftest import DATA


def test_sarif_validates_against_the_official_schema(report: Report) -> None:
    schema = json.loads((DATA / "schemas/sarif-2.1.0.json").read_text())
    log = json.loads(render(report))
    jsonschema.Draft7Validator(schema).validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert float(rule["properties"]["security-severity"]) > 0
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["bastionFinding/v1"]
    s602 = next(r for r in rules if r["id"] == "S602")
    assert s602["helpUri"].startswith("https://docs.astral.sh/ruff/rules/")
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["index-confusion"] == "error"
    assert levels["unpinned-requirement"] == "warning"
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["properties"]["coverage"][0]["threat"] == "tampering"


def test_fingerprints_are_stable_across_runs(report: Report) -> None:
    first = json.loads(render(report))["runs"][0]["results"]
    second = json.loads(render(report))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in first] == [r["partialFingerprints"] for r in second]
    assert len({r["partialFingerprints"]["bastionFinding/v1"] for r in first}) == len(first)
