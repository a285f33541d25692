"""Byte patterns that mean harm wherever they appear: miners, webhooks, shell droppers.

These run over every member, text or binary, and over data decoded from
base64 or zlib inside it, so a payload under ``dist/`` or in a ``.json``
file is found like one in ``__init__.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator

MINER = re.compile(
    rb"stratum\+(?:tcp|ssl|tls)://|\bxmrig\b|--donate-level|\bcpuminer\b|\bminerd\b"
    rb"|(?:supportxmr|moneroocean|nanopool|minexmr|hashvault|c3pool|herominers|2miners"
    rb"|nicehash|f2pool|unmineable)\.(?:com|org|stream|pro|net)",
    re.IGNORECASE,
)
WEBHOOK = re.compile(
    rb"(?:discord(?:app)?\.com/api/webhooks/\d{5,}/[\w-]{20,}"
    rb"|api\.telegram\.org/bot\d{5,}:[\w-]{20,}"
    rb"|hooks\.slack\.com/services/T\w+/B\w+/\w+)",
    re.IGNORECASE,
)
# A shell line that fetches something and runs it, or leaves it running.
DROPPER = re.compile(
    rb"(?:curl|wget)\b[^\n]{0,300}?(?:\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|chmod\s+\+?[0-7]*x"
    rb"|chmod\s+[0-7]?[157][0-7]{2}|nohup\b|\s-O\s*/(?:tmp|dev/shm|var/tmp)/)"
    rb"|nohup\s+/(?:tmp|dev/shm|var/tmp)/",
    re.IGNORECASE,
)
# Plain substrings (lower case) one of which each pattern needs: a cheap test before the regex.
MINER_HINTS = (
    b"stratum+",
    b"xmrig",
    b"donate-level",
    b"cpuminer",
    b"minerd",
    b"supportxmr",
    b"moneroocean",
    b"nanopool",
    b"minexmr",
    b"hashvault",
    b"c3pool",
    b"herominers",
    b"2miners",
    b"nicehash",
    b"f2pool",
    b"unmineable",
)
WEBHOOK_HINTS = (b"/api/webhooks/", b"api.telegram.org/bot", b"hooks.slack.com/services/")
DROPPER_HINTS = (b"curl", b"wget", b"nohup")
BASE64_BLOB = re.compile(rb"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{160,}={0,2}")
MAX_BLOBS = 64
MAX_DEPTH = 3


def search(
    pattern: re.Pattern[bytes], hints: tuple[bytes, ...], data: bytes, lower: bytes
) -> re.Match[bytes] | None:
    """``pattern.search(data)``, skipped when ``lower`` (the data in lower case) has no hint."""
    if any(hint in lower for hint in hints):
        return pattern.search(data)
    return None


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line holding ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def decoded_blobs(data: bytes, budget: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of base64 blobs in ``data`` that decode to something, unzipped if zlib."""
    used = 0
    for count, match in enumerate(BASE64_BLOB.finditer(data)):
        if count >= MAX_BLOBS or used >= budget:
            return
        blob = match.group()
        try:
            raw = base64.b64decode(blob[: len(blob) - len(blob) % 4], validate=True)
        except (binascii.Error, ValueError):
            continue
        raw = _unzipped(raw, budget - used)
        used += len(raw)
        yield match.start(), raw


def _unzipped(raw: bytes, budget: int) -> bytes:
    """zlib, gzip or raw deflate data inflated (bounded), else the bytes as they are."""
    for wbits in (47, -15):  # zlib or gzip header (auto), raw deflate
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(raw, max(budget, 0))
        except zlib.error:
            continue
        if out and (inflater.eof or len(out) >= budget):
            return out
    return raw
