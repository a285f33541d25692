"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning, with rule metadata and help."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bastion._internal.model import Finding, Report, Severity, relative_to
from bastion._internal.rules import Rule, rule
from bastion._internal.threats import THREATS, path_state
from bastion._internal.version import VERSION

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/bastion-security/bastion"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps security-severity to critical (>= 9), high (>= 7), medium (>= 4), low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _rule_for(finding: Finding) -> Rule:
    known = rule(finding.rule_id)
    if known is not None:
        return known
    family = rule(finding.rule_id[:1]) if finding.rule_id[:1].isalpha() else None
    base = family or Rule(
        finding.rule_id,
        finding.rule_id,
        finding.message,
        finding.remediation,
        finding.severity,
        finding.threat,
        finding.control,
    )
    return Rule(
        id=finding.rule_id,
        name=finding.rule_id,
        summary=base.summary,
        help=base.help,
        severity=finding.severity,
        threat=finding.threat,
        control=finding.control,
        help_uri=finding.references[0] if finding.references else base.help_uri,
    )


def _rule_descriptor(meta: Rule) -> dict[str, Any]:
    tags = ["security", "supply-chain"]
    if meta.threat:
        tags.append(meta.threat)
    descriptor: dict[str, Any] = {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.summary},
        "help": {"text": meta.help, "markdown": f"**{meta.summary}**\n\n{meta.help}"},
        "defaultConfiguration": {"level": _LEVEL[meta.severity]},
        "properties": {
            "tags": tags,
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[meta.severity],
            "control": meta.control,
        },
    }
    if meta.help_uri:
        descriptor["helpUri"] = meta.help_uri
    return descriptor


def _fingerprint(finding: Finding, path: str) -> str:
    key = "\x1f".join(
        (finding.rule_id, path, finding.package or "", finding.version or "", finding.message)
    )
    return hashlib.sha256(key.encode()).hexdigest()


def _result(finding: Finding, index: int, report: Report) -> dict[str, Any]:
    path = relative_to(finding.location.path, report.root) if finding.location else ""
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {
            "text": finding.message
            + (f" Fix: {finding.remediation}" if finding.remediation else "")
        },
        "partialFingerprints": {"bastionFinding/v1": _fingerprint(finding, path)},
        "properties": {
            "severity": finding.severity.label,
            "threat": finding.threat,
            "control": finding.control,
        },
    }
    if finding.confidence:
        result["properties"]["confidence"] = finding.confidence.value
    if finding.package:
        result["properties"]["package"] = finding.package
    if finding.version:
        result["properties"]["version"] = finding.version
    if finding.location is not None:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
        }
        if finding.location.line:
            region: dict[str, int] = {"startLine": finding.location.line}
            if finding.location.column:
                region["startColumn"] = finding.location.column
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    return result


def to_data(report: Report) -> dict[str, Any]:
    """The SARIF log as JSON-ready data."""
    findings = report.findings
    rules: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    for finding in findings:
        if finding.rule_id not in index_of:
            index_of[finding.rule_id] = len(rules)
            rules.append(_rule_descriptor(_rule_for(finding)))
    notifications = [
        {
            "level": "error",
            "message": {"text": f"control {r.control} could not run: {r.detail}"},
            "descriptor": {"id": r.control},
        }
        for r in report.results
        if r.status.value == "error"
    ]
    titles = {t.id: t.title for t in THREATS}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bastion",
                        "version": VERSION,
                        "semanticVersion": VERSION,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": report.root.as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not report.incomplete,
                        "exitCode": report.exit_code,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [_result(f, index_of[f.rule_id], report) for f in findings],
                "properties": {
                    "coverage": [
                        {
                            "threat": row.threat,
                            "title": titles[row.threat],
                            "verdict": row.verdict.value,
                            "path": path_state(row),
                            "controls": {c.control: c.status.value for c in row.controls},
                        }
                        for row in report.coverage
                    ]
                },
            }
        ],
    }


def render(report: Report, color: bool = False) -> str:
    """The SARIF document."""
    del color
    return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"
