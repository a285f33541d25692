"""How much of an archive bastion is willing to read (zip and tar bombs stop here)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one archive; every one can be changed on the command line."""

    max_members: int = 100_000
    max_member_bytes: int = 2048 * MIB  # one uncompressed member, declared or read
    max_total_bytes: int = 8192 * MIB  # every member together, uncompressed
    max_ratio: int = 200  # uncompressed / compressed, for members over ratio_floor
    ratio_floor: int = 4 * MIB
    max_scan_bytes: int = 16 * MIB  # a member larger than this is hashed, not parsed
    max_decoded_bytes: int = 8 * MIB  # base64 / zlib data decoded per member
