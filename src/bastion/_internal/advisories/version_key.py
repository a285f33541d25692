"""PEP 440 versions as short strings that compare exactly like the versions.

Two keys per version, computed at import for every version a record names:

- the **order key**: ``order_key(Version(a)) < order_key(Version(b))`` exactly when
  ``Version(a) < Version(b)``, equal exactly when the versions are (``1.0 == 1.0.0``);
  the fields of packaging's comparison key (epoch, release without trailing zeros,
  pre/post/dev ranks, local segments), each written so that byte order is the
  field's order, in hex (hex digits sort like the bytes they spell);
- the **equality key**: the normalised version with trailing zeros trimmed
  (``1.0.0`` -> ``1``), equal exactly when the versions are; shorter, for the
  ``versions`` lists, which are only tested for membership.

A number in an order key is one byte below 240, else a byte ``0xF0 + length``
and its big-endian bytes (``0xFF``, a two-byte length and the bytes past 14
bytes; Python's 4,300-digit limit keeps every parsed number far below that):
a longer number is a larger one.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import Version

_PRE_RANK = {"a": 1, "b": 2, "rc": 3}  # dev-only releases 0, no pre-release 4


def _number(value: int) -> bytes:
    if value < 0xF0:
        return bytes((value,))
    size = (value.bit_length() + 7) // 8
    body = value.to_bytes(size, "big")
    if size < 15:
        return bytes((0xF0 + size,)) + body
    return b"\xff" + size.to_bytes(2, "big") + body


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    return release[:end]


def order_key(version: Version) -> str:
    """The order-preserving key of a PEP 440 version."""
    parts = [_number(version.epoch)]
    # Components as value + 1 (never 0) and a 0 after the last: a shorter release sorts first.
    parts.extend(_number(part + 1) for part in _trimmed(version.release))
    parts.append(b"\x00")
    pre, post, dev = version.pre, version.post, version.dev
    if pre is not None:
        parts.append(bytes((_PRE_RANK[pre[0]],)) + _number(pre[1]))
    else:
        parts.append(b"\x00" if post is None and dev is not None else b"\x04")
    parts.append(b"\x00" if post is None else b"\x01" + _number(post))
    parts.append(b"\x01" if dev is None else b"\x00" + _number(dev))
    local = version.local
    if local is None:
        parts.append(b"\x00")
    else:  # segments: strings (1, NUL-terminated) sort before numbers (2); then the end (0)
        parts.append(b"\x01")
        for segment in local.split("."):
            if segment.isdigit():
                parts.append(b"\x02" + _number(int(segment)))
            else:
                parts.append(b"\x01" + segment.encode("ascii") + b"\x00")
        parts.append(b"\x00")
    return b"".join(parts).hex()


def equality_key(version: Version) -> str:
    """The normalised version without trailing zeros: equal exactly when the versions are."""
    text = ".".join(map(str, _trimmed(version.release))) or "0"
    if version.epoch:
        text = f"{version.epoch}!{text}"
    if version.pre is not None:
        text += f"{version.pre[0]}{version.pre[1]}"
    if version.post is not None:
        text += f".post{version.post}"
    if version.dev is not None:
        text += f".dev{version.dev}"
    if version.local is not None:
        text += f"+{version.local}"
    return text


@lru_cache(maxsize=65536)
def keys_of(text: str) -> tuple[str, str] | None:
    """(order key, equality key) of a version string, or ``None`` when it is not PEP 440 (or
    has a number of more than 4,300 digits, which ``int`` refuses with a ``ValueError``, as
    ``InvalidVersion`` is)."""
    try:
        version = Version(text)
    except ValueError:
        return None
    return order_key(version), equality_key(version)
