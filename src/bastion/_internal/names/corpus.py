"""The popularity corpus: PyPI project names with their download counts.

The format is hugovk/top-pypi-packages' JSON (``{"rows": [{"project",
"download_count"}]}``, most downloaded first). A file of another shape is an
``InputError`` naming what is wrong, never a half-built corpus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.safe_read import read_text

MAX_CORPUS_NAMES = 1_000_000
MAX_NAME_LENGTH = 200
MAX_CORPUS_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Corpus:
    """Canonical names, their 1-based popularity rank and download count."""

    source: str
    ranks: dict[str, int]
    downloads: dict[str, int]

    def __len__(self) -> int:
        return len(self.ranks)


def bundled_corpus_path() -> Path:
    """The 15,000-name corpus shipped inside the package."""
    return Path(str(resources.files("bastion") / "data" / "top-pypi-packages.json"))


@lru_cache(maxsize=4)
def load_corpus(path: Path | None = None) -> Corpus:
    """Read a corpus file (default: the bundled one)."""
    path = path or bundled_corpus_path()
    return parse_corpus(path, read_text(path, limit=MAX_CORPUS_BYTES))


def parse_corpus(path: Path, text: str) -> Corpus:
    """A corpus from the text of the file at ``path`` (named in errors)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise InputError(path, 'not a popularity corpus: expected {"rows": [...]}')
    if len(rows) > MAX_CORPUS_NAMES:
        raise InputError(path, f"more than {MAX_CORPUS_NAMES} names")
    ranks: dict[str, int] = {}
    downloads: dict[str, int] = {}
    for position, row in enumerate(rows, start=1):
        project = row.get("project") if isinstance(row, dict) else None
        count = row.get("download_count") if isinstance(row, dict) else None
        if not isinstance(project, str) or not 0 < len(project) <= MAX_NAME_LENGTH:
            raise InputError(path, f"row {position}: 'project' should be a name")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InputError(path, f"row {position}: 'download_count' should be a count")
        name = canonical(project)
        if name not in ranks:
            ranks[name] = position
            downloads[name] = count
    return Corpus(str(path), ranks, downloads)
