"""--format json follows its published, versioned schema."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema

from bastion._internal.model import Report
from bastion._internal.report.json_report import render


def test_json_validates_against_the_shipped_schema(report: Report) -> None:
    schema = json.loads(files("bastion").joinpath("schemas/report-v1.schema.json").read_text())
    data = json.loads(render(report))
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)
    assert data["exit_code"] == 1
    assert [row["threat"] for row in data["coverage"]][:2] == ["tampering", "known-vulnerable"]
    rules = {f["rule_id"] for f in data["findings"]}
    assert {
        "index-confusion",
        "insecure-index",
        "unpinned-requirement",
        "S602",
    } <= rules
    (waived,) = data["waived"]
    assert waived["package"] == "weird-name"
    assert waived["waiver"]["expires"] == "2099-01-01"
    assert data["summary"]["by_severity"]["high"] >= 3


def test_paths_are_relative_to_the_root(report: Report) -> None:
    data = json.loads(render(report))
    assert {f["location"]["path"] for f in data["findings"]} == {
        "requirements.txt",
        "app.py",
        ".github/workflows/ci.yml",
    }


def test_workflow_findings_carry_confidence(report: Report) -> None:
    data = json.loads(render(report))
    injection = next(f for f in data["findings"] if f["rule_id"] == "template-injection")
    assert injection["confidence"] == "high"
    assert injection["location"] == {"path": ".github/workflows/ci.yml", "line": 8, "column": 20}
    pinning = next(f for f in data["findings"] if f["rule_id"] == "unpinned-requirement")
    assert pinning["confidence"] is None
