"""A wheel's RECORD against its members: every file listed, every hash right."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass

from bastion._internal.inspect.hits import Hit, evidence
from bastion._internal.model import Severity

MAX_RECORD_ROWS = 200_000
_UNLISTED_OK = ("RECORD", "RECORD.jws", "RECORD.p7s")


@dataclass(frozen=True, slots=True)
class MemberDigest:
    """A member's name, size and sha256 (hex), as read from the archive."""

    name: str
    size: int
    sha256: str
    git_id: str = ""


def record_hits(
    members: list[MemberDigest], record_name: str | None, record: bytes | None
) -> list[Hit]:
    """Mismatched, missing and unlisted files (a wheel changed after it was built)."""
    if record_name is None or record is None:
        return [
            Hit(
                "inspect-record",
                Severity.HIGH,
                "*.dist-info/RECORD",
                None,
                "the wheel has no RECORD",
            )
        ]
    dist_info = record_name.rsplit("/", 1)[0]
    listed: dict[str, tuple[str, str]] = {}
    try:
        rows = csv.reader(io.StringIO(record.decode("utf-8")))
        for count, row in enumerate(rows):
            if count >= MAX_RECORD_ROWS:
                break
            if row and row[0]:
                listed[row[0]] = (row[1] if len(row) > 1 else "", row[2] if len(row) > 2 else "")
    except (UnicodeDecodeError, csv.Error) as exc:
        return [
            Hit("inspect-record", Severity.HIGH, record_name, None, f"RECORD unreadable: {exc}")
        ]
    hits = []
    present = {m.name for m in members}
    for member in members:
        entry = listed.get(member.name)
        if entry is None:
            if member.name.rsplit("/", 1)[-1] in _UNLISTED_OK and member.name.startswith(dist_info):
                continue
            hits.append(
                Hit("inspect-record", Severity.HIGH, member.name, None, "file not listed in RECORD")
            )
            continue
        digest, size = entry
        algorithm, _, value = digest.partition("=")
        if algorithm != "sha256" or not value:
            if member.name != record_name:
                hits.append(
                    Hit(
                        "inspect-record",
                        Severity.HIGH,
                        member.name,
                        None,
                        f"RECORD gives no sha256 ({evidence(digest, 40)})",
                    )
                )
            continue
        expected = base64.urlsafe_b64encode(bytes.fromhex(member.sha256)).rstrip(b"=").decode()
        if value.rstrip("=") != expected or (size.isdigit() and int(size) != member.size):
            hits.append(
                Hit(
                    "inspect-record",
                    Severity.HIGH,
                    member.name,
                    None,
                    "content does not match its RECORD hash",
                )
            )
    for name in sorted(set(listed) - present)[:50]:
        hits.append(
            Hit(
                "inspect-record",
                Severity.MEDIUM,
                name,
                None,
                "listed in RECORD but not in the wheel",
            )
        )
    return hits
