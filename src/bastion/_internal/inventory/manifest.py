"""A bulk-ingest manifest: which SBOM file is which service release.

A CSV file with a header row naming at least ``sbom``, ``service`` and
``release`` (``released_at`` optional, ISO 8601); SBOM paths are relative to
the manifest. Every row is checked before anything is stored, and an error
names the manifest's line.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import parse_timestamp
from bastion._internal.safe_read import read_text

MAX_ROWS = 1_000_000
MAX_FIELD = 2_000
REQUIRED = ("sbom", "service", "release")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One row: an SBOM file and the service release it describes."""

    sbom: Path
    service: str
    release: str
    released_at: datetime | None
    line: int


def read_manifest(path: Path) -> list[ManifestEntry]:
    """The rows of a manifest, each checked; ``InputError`` naming the line otherwise."""
    text = read_text(path)
    reader = csv.reader(text.splitlines(), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(path, "empty manifest (expected a header: sbom,service,release)") from None
    except csv.Error as exc:
        raise InputError(path, f"not CSV: {exc}", 1) from None
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(path, f"the header needs column(s) {', '.join(missing)}", 1)
    columns = {name: header.index(name) for name in (*REQUIRED, "released_at") if name in header}
    entries: list[ManifestEntry] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(entries) >= MAX_ROWS:
                raise InputError(path, f"more than {MAX_ROWS:,} rows", line)
            if len(row) != len(header) or any(len(cell) > MAX_FIELD for cell in row):
                raise InputError(path, f"expected {len(header)} fields of sane length", line)
            sbom, service, release = (row[columns[name]].strip() for name in REQUIRED)
            if not (sbom and service and release):
                raise InputError(path, "sbom, service and release must not be empty", line)
            when = None
            written = row[columns["released_at"]].strip() if "released_at" in columns else ""
            if written:
                when = parse_timestamp(written)
                if when is None:
                    raise InputError(path, f"released_at {written!r} is not a date or time", line)
            if (service, release) in seen:
                raise InputError(
                    path, f"{service} {release} is also on line {seen[(service, release)]}", line
                )
            seen[(service, release)] = line
            entries.append(ManifestEntry(path.parent / sbom, service, release, when, line))
    except csv.Error as exc:
        raise InputError(path, f"not CSV: {exc}", reader.line_num) from None
    return entries
