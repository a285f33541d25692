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


def _head_data(report: Report) -> dict[str, Any]:
    """Every key of the document before its finding lists."""
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
    }


def to_data(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    return {
        **_head_data(report),
        "findings": [finding_dict(f, report) for f in report.findings],
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


_ITEM_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps made one per finding
_encode_string = json.encoder.encode_basestring  # what that encoder writes for a str


def render(report: Report, color: bool = False) -> str:
    """The JSON document with a final newline: indented, one finding per line.

    Findings are written one to a line so that a report of thousands of findings
    renders in milliseconds and still diffs line by line. Each line is the
    encoder's text of ``finding_dict``, assembled from parts: the fields a rule's
    findings share are encoded once per distinct set of values (within this call),
    the message and location per finding (see ``_FindingLines``).
    """
    del color
    head = json.dumps(_head_data(report), indent=2, ensure_ascii=False)
    lines = _FindingLines(report)
    findings = [lines.line(f) for f in report.findings]
    waived = [
        _ITEM_ENCODER.encode(
            {
                **finding_dict(w.finding, report),
                "waiver": {
                    "id": w.waiver.id,
                    "reason": w.waiver.reason,
                    "expires": w.waiver.expires.date().isoformat(),
                },
            }
        )
        for w in report.waived
    ]
    parts = [head[: head.rstrip().rfind("}")].rstrip()]
    for key, items in (("findings", findings), ("waived", waived)):
        body = ",\n".join("    " + item for item in items)
        parts.append(f',\n  "{key}": [\n{body}\n  ]' if items else f',\n  "{key}": []')
    return "".join(parts) + "\n}\n"


class _FindingLines:
    """``_ITEM_ENCODER.encode(finding_dict(finding, report))``, from parts, for one report.

    The text before the message (rule, severity, threat, control) and after the
    location (remediation ... confidence) is the encoder's own output for those
    keys, cut at the braces; the message is encoded as the encoder encodes a str,
    the location by hand for the usual int-or-None line and column. Any value of
    another type (a bool, an int or str subclass) takes the encoder whole.
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.heads: dict[tuple[Any, ...], str] = {}
        self.tails: dict[tuple[Any, ...], str] = {}
        self.paths: dict[Any, str] = {}

    def line(self, finding: Finding) -> str:
        location = finding.location
        place = "null"
        if location is not None:
            line, column = location.line, location.column
            if (line is not None and type(line) is not int) or (
                column is not None and type(column) is not int
            ):
                return _ITEM_ENCODER.encode(finding_dict(finding, self.report))
            path = self.paths.get(location.path)
            if path is None:
                path = _encode_string(relative_to(location.path, self.report.root))
                self.paths[location.path] = path
            place = (
                f'{{"path": {path}, "line": {"null" if line is None else int.__repr__(line)}, '
                f'"column": {"null" if column is None else int.__repr__(column)}}}'
            )
        message = finding.message
        if type(message) is not str:
            return _ITEM_ENCODER.encode(finding_dict(finding, self.report))
        try:
            head = self.heads.get(head_key := self._head_key(finding))
            tail = self.tails.get(tail_key := self._tail_key(finding))
        except TypeError:  # a value that cannot key a dict (a list): encode it whole
            return _ITEM_ENCODER.encode(finding_dict(finding, self.report))
        if head is None or tail is None:
            data = finding_dict(finding, self.report)
            head = _ITEM_ENCODER.encode({k: data[k] for k in _HEAD_KEYS})[:-1]
            tail = _ITEM_ENCODER.encode({k: data[k] for k in _TAIL_KEYS})[1:]
            self.heads[head_key] = head
            self.tails[tail_key] = tail
        return f'{head}, "message": {_encode_string(message)}, "location": {place}, {tail}'

    @staticmethod
    def _head_key(finding: Finding) -> tuple[Any, ...]:
        return (finding.rule_id, finding.severity, finding.threat, finding.control)

    @staticmethod
    def _tail_key(finding: Finding) -> tuple[Any, ...]:
        return (
            finding.remediation,
            finding.references,
            finding.package,
            finding.version,
            finding.aliases,
            finding.confidence,
        )


_HEAD_KEYS = ("rule_id", "severity", "threat", "control")
_TAIL_KEYS = ("remediation", "references", "package", "version", "aliases", "confidence")
