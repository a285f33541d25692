"""``--format json``: a stable, versioned document (schema in bastion/schemas/)."""

from __future__ import annotations

import json
from typing import Any

from bastion._internal.model import Finding, Report, relative_to
from bastion._internal.report.common import severity_counts
from bastion._internal.threats import path_state
from bastion._internal.version import VERSION

SCHEMA_VERSION = 1


def finding_dict(finding: Finding, report: Report) -> dict[str, Any]:
    """A finding as JSON-ready data."""
    location = None
    if finding.location is not None:
        location = {
            "path": relative_to(finding.location.path, report.root),
            "line": finding.location.line,
            "column": finding.location.column,
        }
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "threat": finding.threat or None,
        "control": finding.control,
        "message": finding.message,
        "location": location,
        "remediation": finding.remediation,
        "references": list(finding.references),
        "package": finding.package,
        "version": finding.version,
        "aliases": list(finding.aliases),
        "confidence": finding.confidence.value if finding.confidence else None,
    }


def to_data(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    findings = report.findings
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "bastion", "version": VERSION},
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "root": report.root.as_posix(),
        "fail_on": report.fail_on.label,
        "exit_code": report.exit_code,
        "summary": {
            "findings": len(findings),
            "by_severity": severity_counts(findings),
            "waived": len(report.waived),
            "incomplete": report.incomplete,
        },
        "notes": list(report.notes),
        "sources": [
            {
                "path": relative_to(s.path, report.root),
                "format": s.format.value,
                "packages": len(s.packages),
                "hashed": sum(1 for p in s.packages if p.has_hash),
            }
            for s in report.sources
        ],
        "controls": [
            {
                "id": r.control,
                "status": r.status.value,
                "threats": list(r.threats),
                "detail": r.detail,
                "enforced": r.enforced,
                "findings": len(r.findings),
            }
            for r in report.results
        ],
        "coverage": [
            {
                "threat": row.threat,
                "title": row.title,
                "verdict": row.verdict.value,
                "path": path_state(row),
                "open_findings": row.open_findings,
                "controls": [{"id": c.control, "status": c.status.value} for c in row.controls],
            }
            for row in report.coverage
        ],
        "findings": [finding_dict(f, report) for f in findings],
        "waived": [
            {
                **finding_dict(w.finding, report),
                "waiver": {
                    "id": w.waiver.id,
                    "reason": w.waiver.reason,
                    "expires": w.waiver.expires.date().isoformat(),
                },
            }
            for w in report.waived
        ],
    }


_ITEM_LISTS = ("findings", "waived")
_ITEM_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps made one per finding


def render(report: Report, color: bool = False) -> str:
    """The JSON document with a final newline: indented, one finding per line.

    Findings are written one to a line (by the C encoder) so that a report of
    thousands of findings renders in milliseconds and still diffs line by line.
    """
    del color
    data = to_data(report)
    lists = {key: data.pop(key) for key in _ITEM_LISTS}
    head = json.dumps(data, indent=2, ensure_ascii=False)
    parts = [head[: head.rstrip().rfind("}")].rstrip()]
    for key, items in lists.items():
        body = ",\n".join("    " + _ITEM_ENCODER.encode(item) for item in items)
        parts.append(f',\n  "{key}": [\n{body}\n  ]' if items else f',\n  "{key}": []')
    return "".join(parts) + "\n}\n"
