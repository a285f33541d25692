"""What an installed distribution says about itself: supplier, licence, links, and a hash.

Read from ``*.dist-info/METADATA`` and ``RECORD`` as text; nothing is imported.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.safe_read import read_text

MAX_METADATA_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 32 * 1024 * 1024
_LICENSE_CLASSIFIER = re.compile(r"^License :: (?:OSI Approved :: )?(.+)$")
# Classifier text -> SPDX id, for the licences Python packages use most.
_CLASSIFIER_IDS = {
    "MIT License": "MIT",
    "BSD License": "BSD-3-Clause",
    "Apache Software License": "Apache-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "ISC License (ISCL)": "ISC",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "The Unlicense (Unlicense)": "Unlicense",
}


@dataclass(frozen=True, slots=True)
class DistributionFacts:
    """Supplier, licence and links of an installed distribution, and the RECORD's hash."""

    supplier: str | None
    author: str | None
    licence: str | None  # an SPDX expression or a licence name
    licence_is_expression: bool
    urls: tuple[tuple[str, str], ...]  # (label, url)
    record_sha256: str | None
    description: str | None


def _person(name: str | None, email: str | None) -> str | None:
    if name and name.strip() and name.strip().upper() != "UNKNOWN":
        return " ".join(name.split())
    if email:
        people = [n or e for n, e in getaddresses([email]) if n or e]
        if people:
            return ", ".join(people)
    return None


def read_facts(dist_info: Path) -> DistributionFacts:
    """The facts of the distribution whose ``*.dist-info`` folder is ``dist_info``."""
    metadata_path = dist_info / "METADATA"
    try:
        headers = HeaderParser().parsestr(read_text(metadata_path, limit=MAX_METADATA_BYTES))
    except InputError:
        headers = HeaderParser().parsestr("")
    author = _person(headers.get("Author"), headers.get("Author-email"))
    maintainer = _person(headers.get("Maintainer"), headers.get("Maintainer-email"))
    licence, expression = _licence(headers)
    urls: list[tuple[str, str]] = []
    if headers.get("Home-page"):
        urls.append(("Homepage", str(headers["Home-page"]).strip()))
    for entry in headers.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if url.strip().startswith(("https://", "http://")):
            urls.append((label.strip(), url.strip()))
    return DistributionFacts(
        supplier=maintainer or author,
        author=author,
        licence=licence,
        licence_is_expression=expression,
        urls=tuple(urls),
        record_sha256=_record_hash(dist_info),
        description=str(headers.get("Summary")).strip() if headers.get("Summary") else None,
    )


def _licence(headers: Message) -> tuple[str | None, bool]:
    get, get_all = headers.get, headers.get_all
    expression = get("License-Expression")
    if expression and str(expression).strip():
        return str(expression).strip(), True
    for classifier in get_all("Classifier") or []:
        match = _LICENSE_CLASSIFIER.match(str(classifier).strip())
        if match and match.group(1) in _CLASSIFIER_IDS:
            return _CLASSIFIER_IDS[match.group(1)], True
    text = get("License")
    if text and str(text).strip() and "\n" not in str(text).strip() and len(str(text)) < 100:
        value = str(text).strip()
        if value.upper() != "UNKNOWN":
            return value, False
    for classifier in get_all("Classifier") or []:
        match = _LICENSE_CLASSIFIER.match(str(classifier).strip())
        if match:
            return match.group(1), False
    return None, False


def _record_hash(dist_info: Path) -> str | None:
    record = dist_info / "RECORD"
    try:
        if record.stat().st_size > MAX_RECORD_BYTES:
            return None
        return hashlib.sha256(record.read_bytes()).hexdigest()
    except OSError:
        return None
