"""PEP 440 versions as strings that sort and compare exactly like the versions.

``version_key(Version(a)) < version_key(Version(b))`` exactly when
``Version(a) < Version(b)``, and the keys are equal exactly when the versions
are (``1.0 == 1.0.0``). The database stores these keys at import, so an audit
compares strings instead of parsing every version a record lists.

The key is a byte string held in a ``str`` of code points 0-255 (so it survives
JSON): the fields of packaging's comparison key (epoch, release without
trailing zeros, pre/post/dev ranks, local segments) each written so that
byte order is the field's order. A number is its big-endian bytes after a
two-byte length (a shorter number is smaller; Python's 4,300-digit limit keeps
every parsed number far below 65,535 bytes).
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import Version

_PRE_RANK = {"a": 1, "b": 2, "rc": 3}  # dev-only releases 0, no pre-release 4
_NO_PRE = 4


def _number(value: int) -> bytes:
    size = (value.bit_length() + 7) // 8
    return size.to_bytes(2, "big") + value.to_bytes(size, "big")


def _local(local: str) -> bytes:
    """Segments: strings (marker 1, NUL-terminated) sort before numbers (marker 2)."""
    parts = []
    for segment in local.split("."):
        if segment.isdigit():
            parts.append(b"\x02" + _number(int(segment)))
        else:
            parts.append(b"\x01" + segment.encode("latin-1") + b"\x00")
    return b"\x01" + b"".join(parts) + b"\x00"


def version_key(version: Version) -> str:
    """The order-preserving key of a PEP 440 version."""
    release = version.release
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    parts = [_number(version.epoch)]
    parts.extend(b"\x01" + _number(part) for part in release[:end])
    parts.append(b"\x00")
    pre, post, dev = version.pre, version.post, version.dev
    if pre is not None:
        parts.append(bytes((_PRE_RANK[pre[0]],)) + _number(pre[1]))
    elif post is None and dev is not None:
        parts.append(b"\x00" + _number(0))
    else:
        parts.append(bytes((_NO_PRE,)) + _number(0))
    parts.append(b"\x00" if post is None else b"\x01" + _number(post))
    parts.append(b"\x01" if dev is None else b"\x00" + _number(dev))
    local = version.local
    parts.append(b"\x00" if local is None else _local(local))
    return b"".join(parts).decode("latin-1")


@lru_cache(maxsize=65536)
def key_of(text: str) -> str | None:
    """The key of a version string, or ``None`` when it is not PEP 440 (or has a number of more
    than 4,300 digits, which ``int`` refuses with a ``ValueError``, as ``InvalidVersion`` is)."""
    try:
        return version_key(Version(text))
    except ValueError:
        return None
