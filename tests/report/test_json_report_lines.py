"""``render`` writes each finding line from parts: byte for byte the encoder's own line.

The reference below is the straightforward rendering (``to_data``, one
``json.dumps`` per finding); ``render`` must give the same text for any
findings, including hostile strings, absent locations and odd value types.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.model import (
    Confidence,
    ControlResult,
    ControlStatus,
    Finding,
    Location,
    Report,
    Severity,
)
from bastion._internal.report.json_report import render, to_data

ROOT = Path("/repo")


def _reference(report: Report) -> str:
    data = to_data(report)
    lists = {key: data.pop(key) for key in ("findings", "waived")}
    head = json.dumps(data, indent=2, ensure_ascii=False)
    parts = [head[: head.rstrip().rfind("}")].rstrip()]
    for key, items in lists.items():
        body = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in items)
        parts.append(f',\n  "{key}": [\n{body}\n  ]' if items else f',\n  "{key}": []')
    return "".join(parts) + "\n}\n"


def _report(findings: list[Finding]) -> Report:
    result = ControlResult("workflows", ControlStatus.FAIL, ("t",), tuple(findings))
    return Report(
        root=ROOT,
        sources=(),
        results=(result,),
        coverage=(),
        waived=(),
        fail_on=Severity.LOW,
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


class _Label(str):
    """A str subclass: encoded as its text."""


_TEXT = st.text(max_size=12) | st.sampled_from(['"', "\\", "\x00\x1f\x7f", "é\u2028😀", "</x>"])
_FEW = st.sampled_from(["rule-a", "rule-b"]) | _TEXT  # repeats, so parts are reused
_PATHS = st.sampled_from([ROOT / "a.yml", ROOT / "b" / "c.yml", Path("/elsewhere/d.yml")])
_NUMBER = st.none() | st.integers(0, 10**30) | st.booleans()
_LOCATION = st.none() | st.builds(Location, _PATHS, _NUMBER, _NUMBER)
_FINDING = st.builds(
    Finding,
    rule_id=_FEW,
    severity=st.sampled_from(list(Severity)),
    threat=st.sampled_from(["", "tampering"]),
    control=st.sampled_from(["workflows", "advisories"]),
    message=_TEXT | _TEXT.map(_Label),
    location=_LOCATION,
    remediation=_FEW,
    references=st.lists(_FEW, max_size=2).map(tuple) | st.lists(_FEW, max_size=2),
    package=st.none() | _FEW,
    version=st.none() | _FEW,
    aliases=st.lists(_FEW, max_size=2).map(tuple),
    confidence=st.none() | st.sampled_from(list(Confidence)),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(_FINDING, max_size=12))
def test_render_matches_the_encoder_line_for_line(findings: list[Any]) -> None:
    report = _report(findings)
    assert render(report) == _reference(report)


def test_findings_sharing_a_rule_keep_their_own_message_and_place() -> None:
    shared: dict[str, Any] = {
        "rule_id": "template-injection",
        "severity": Severity.HIGH,
        "threat": "tampering",
        "control": "workflows",
        "remediation": "use an env var",
        "confidence": Confidence.HIGH,
    }
    findings = [
        Finding(message="one", location=Location(ROOT / "a.yml", 3, 5), **shared),
        Finding(message='two "quoted"', location=Location(ROOT / "a.yml", 9), **shared),
        Finding(message="three", location=None, **shared),
        Finding(message="four", location=Location(ROOT / "b.yml", True, 2), **shared),
    ]
    text = render(_report(findings))
    assert text == _reference(_report(findings))
    body = text.split('\n  "findings": [\n', 1)[1].split("\n  ]", 1)[0]
    lines = {json.loads(line.strip().rstrip(","))["message"]: line for line in body.splitlines()}
    assert '"location": {"path": "a.yml", "line": 3, "column": 5}' in lines["one"]
    assert '"location": {"path": "a.yml", "line": 9, "column": null}' in lines['two "quoted"']
    assert '"location": null' in lines["three"]
    assert '"line": true' in lines["four"]  # a bool is JSON's true, not the int 1
