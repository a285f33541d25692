"""Questions to the inventory: by requirement, purl prefix, hash, or advisory id."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from bastion._internal.errors import UsageError
from bastion._internal.inputs.common import canonical
from bastion._internal.inventory.store import Hit, Inventory, check_query
from bastion._internal.report.common import printable

MAX_CELL = 60  # characters of a table cell: a long name is cut, not padded into every row


class UnknownAdvisoryError(UsageError):
    """No advisory (or alias) of that id in the advisory database."""

    def __init__(self, advisory_id: str, db_path: Path) -> None:
        self.advisory_id = advisory_id
        super().__init__(f"no advisory {advisory_id!r} in the advisory database ({db_path})")

    def public(self) -> str:
        """The message without the database's path, for clients of a server."""
        return f"no advisory {self.advisory_id!r} in the advisory database"


def by_requirement(inventory: Inventory, text: str, latest_only: bool) -> list[Hit]:
    """``'urllib3<1.26.5'``: the name's versions filtered by the specifier (PEP 440)."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise UsageError(f"--package {text!r}: {exc}") from None
    name = canonical(requirement.name)
    if not requirement.specifier:
        return inventory.by_name(name, None, latest_only)
    versions = [
        v
        for v in inventory.versions_of(name)
        if requirement.specifier.contains(v, prereleases=True)
    ]
    return inventory.by_name(name, versions, latest_only)


def by_advisory(
    inventory: Inventory, advisory_id: str, db_path: Path | None, latest_only: bool
) -> tuple[str, list[Hit]]:
    """Every release shipping a version an advisory (or an alias of one) affects."""
    from bastion._internal.advisories.audit import affects
    from bastion._internal.advisories.osv import ParseWarnings, parse_record
    from bastion._internal.advisories.store import (
        default_db_path,
        ensure_database,
        open_database,
    )

    check_query("advisory id", advisory_id)
    path = db_path or default_db_path()
    ensure_database(path)
    db = open_database(path)
    try:
        row = db.execute("SELECT record FROM advisory WHERE id = ?", (advisory_id,)).fetchone()
        if row is None:
            row = db.execute(
                "SELECT a.record FROM alias l JOIN advisory a ON a.id = l.advisory_id "
                "WHERE l.alias = ? ORDER BY a.id LIMIT 1",
                (advisory_id,),
            ).fetchone()
    finally:
        db.close()
    if row is None:
        raise UnknownAdvisoryError(advisory_id, path)
    warnings = ParseWarnings()
    advisory = parse_record(json.loads(row[0]), warnings)
    if advisory is None:
        raise UsageError(f"advisory {advisory_id!r} could not be read")
    hits: list[Hit] = []
    for package in sorted({entry.package for entry in advisory.affected}):
        versions = [
            v for v in inventory.versions_of(package) if affects(advisory, package, v, warnings)
        ]
        hits.extend(inventory.by_name(package, versions, latest_only))
    return advisory.id, hits


COLUMNS = ("service", "release", "released_at", "latest", "package", "version", "purl")


def rows(hits: list[Hit]) -> list[dict[str, object]]:
    """Hits as plain rows."""
    return [
        {
            "service": h.service,
            "release": h.release,
            "released_at": h.released_at.isoformat() if h.released_at else None,
            "latest": h.latest,
            "package": h.name,
            "version": h.version,
            "purl": h.purl,
        }
        for h in hits
    ]


def render(hits: list[Hit], fmt: str) -> str:
    """``table``, ``json`` or ``csv``."""
    data = rows(hits)
    if fmt == "json":
        return (
            json.dumps({"matches": data, "services": len({h.service for h in hits})}, indent=2)
            + "\n"
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        return buffer.getvalue()
    if not data:
        return "no match\n"
    shown = [{c: _cell(row[c]) for c in COLUMNS if c != "purl"} for row in data]
    widths = {c: max(len(c), *(len(r[c]) for r in shown)) for c in shown[0]}
    lines = ["  ".join(c.ljust(widths[c]) for c in widths)]
    for cells in shown:
        lines.append("  ".join(cells[c].ljust(widths[c]) for c in widths))
    services = len({h.service for h in hits})
    lines.append(f"{len(hits)} match(es) in {services} service(s)")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    """A table cell: control characters shown escaped, at most ``MAX_CELL`` characters."""
    text = printable(str(value if value is not None else ""))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _csv_safe(value: object) -> object:
    """Keep a spreadsheet from running a cell that starts like a formula; escape controls."""
    if not isinstance(value, str):
        return value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return printable(value)
