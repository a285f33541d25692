"""Trojan Source: bidirectional controls in code, and identifiers that look like other ones."""

from __future__ import annotations

import io
import re
import tokenize
import unicodedata

from bastion._internal.inspect.hits import Hit, evidence
from bastion._internal.model import Severity

BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200f\u061c")
# Cyrillic and Greek letters drawn like Latin ones (Unicode confusables, the common subset).
CONFUSABLE = frozenset(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04bb\u051b\u051d"
    "\u04cf\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0406\u0408"
    "\u0405\u03bf\u03b1\u03c1\u03bd\u03b9\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c"
    "\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
)

_BIDI = re.compile("[" + "".join(sorted(BIDI)) + "]")
_SUSPECT = re.compile("[" + "".join(sorted(CONFUSABLE)) + "\uff01-\uff5e]")


def unicode_hits(member: str, source: bytes) -> list[Hit]:
    """Bidi controls anywhere in the file; mixed-script or normalising identifiers."""
    if source.isascii():
        return []
    text = source.decode("utf-8", "replace")
    hits = []
    first = _BIDI.search(text)
    if first is not None:
        number = text.count("\n", 0, first.start()) + 1
        line = text.splitlines()[number - 1]
        if True:
            shown = "".join(f"<U+{ord(ch):04X}>" if ch in BIDI else ch for ch in line)
            hits.append(
                Hit(
                    "inspect-unicode",
                    Severity.MEDIUM,
                    member,
                    number,
                    evidence(f"bidirectional control character: {shown}"),
                )
            )
    if not _SUSPECT.search(text):
        return hits
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(source).readline))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, IndentationError):
        return hits
    for token in tokens:
        if token.type != tokenize.NAME or token.string.isascii():
            continue
        name = token.string
        normal = unicodedata.normalize("NFKC", name)
        mixed = any(ch in CONFUSABLE for ch in name) and any(
            ch.isascii() and ch.isalpha() for ch in name
        )
        if mixed or (normal != name and normal.isascii()):
            hits.append(
                Hit(
                    "inspect-unicode",
                    Severity.MEDIUM,
                    member,
                    token.start[0],
                    evidence(f"identifier {name!r} looks like {normal!r} (confusable letters)"),
                )
            )
            break
    return hits
