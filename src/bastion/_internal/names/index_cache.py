"""The typosquat lookup tables, built once and kept in the user cache.

Building a ``TyposquatIndex`` from the corpus costs about 0.15 s per run
(parse 1.5 MB of JSON, then four tables over 15,000 names); loading the
finished tables is about 20 ms. It also keeps which edit targets share a
deletion key with another (``deletions.py``; 0.1 s to compute, used when many
names are judged at once). The cache file is keyed on the SHA-256 of the
corpus bytes, of the code that computes the tables (``typosquat.py``,
``deletions.py``) and on bastion's version: any change to the input or the code is a miss, never a
stale answer. It is plain JSON, checked field by field on load: a cache file
that is unreadable, truncated, tampered or of another shape is ignored and
rebuilt (written atomically), never trusted and never fatal.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion._internal.names import deletions, typosquat
from bastion._internal.names.corpus import (
    MAX_CORPUS_BYTES,
    MAX_CORPUS_NAMES,
    Corpus,
    bundled_corpus_path,
)
from bastion._internal.names.typosquat import (
    DEFAULT_DOWNLOAD_RATIO,
    DEFAULT_EXEMPT_RANK,
    TyposquatIndex,
)
from bastion._internal.user_cache import cache_dir
from bastion._internal.version import VERSION

if TYPE_CHECKING:
    from bastion._internal.config import Config

FORMAT = 2
MAX_CACHE_BYTES = 256 * 1024 * 1024
TABLES = ("_squashed", "_skeletons", "_collapsed", "_words")


def cache_key(corpus_bytes: bytes) -> str:
    """What the tables depend on: the corpus, the code that builds them, bastion's version."""
    digest = hashlib.sha256()
    digest.update(corpus_bytes)
    digest.update(Path(typosquat.__file__).read_bytes())
    digest.update(Path(deletions.__file__).read_bytes())
    digest.update(f"{VERSION}\0{FORMAT}".encode())
    return digest.hexdigest()


def configured_index(config: Config) -> TyposquatIndex:
    """The index over the configured corpus, with the configured exemptions."""
    return cached_index(
        config.typosquat_corpus,
        exempt_rank=config.typosquat_exempt_rank,
        download_ratio=config.typosquat_download_ratio,
    )


def cached_index(
    path: Path | None = None,
    *,
    exempt_rank: int = DEFAULT_EXEMPT_RANK,
    download_ratio: int = DEFAULT_DOWNLOAD_RATIO,
    directory: Path | None = None,
) -> TyposquatIndex:
    """The index over the corpus at ``path`` (default: the bundled one), from the cache if it
    holds this corpus's tables, else built (and cached for the next run)."""
    from bastion._internal.errors import InputError
    from bastion._internal.names.corpus import parse_corpus
    from bastion._internal.safe_read import read_bytes

    path = path or bundled_corpus_path()
    data = read_bytes(path, limit=MAX_CORPUS_BYTES)
    key = cache_key(data)
    where = (directory or cache_dir()) / f"typosquat-{key[:32]}.json"
    loaded = _load(where, key, str(path))
    if loaded is not None:
        corpus, tables, neighboured = loaded
        index = _restore(corpus, tables, exempt_rank, download_ratio)
        index.neighboured = neighboured
        return index
    # Built from the very bytes the key was computed from (as read_text would decode them).
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "binary content (NUL byte), not a text file", line)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, "not valid UTF-8 text", line) from None
    corpus = parse_corpus(path, text)
    index = TyposquatIndex(corpus, exempt_rank=exempt_rank, download_ratio=download_ratio)
    _store(where, key, index)
    return index


def _restore(
    corpus: Corpus, tables: dict[str, dict[str, str]], exempt_rank: int, download_ratio: int
) -> TyposquatIndex:
    # An index over an empty corpus has every attribute; the cached tables then replace
    # the four the constructor would compute (test: equal to a freshly built index).
    index = TyposquatIndex(
        Corpus(corpus.source, {}, {}), exempt_rank=exempt_rank, download_ratio=download_ratio
    )
    index.corpus = corpus
    for name, table in tables.items():
        setattr(index, name, table)
    return index


def _store(where: Path, key: str, index: TyposquatIndex) -> None:
    names = list(index.corpus.ranks)
    if [index.corpus.ranks[n] for n in names] != list(range(1, len(names) + 1)):
        return  # ranks with gaps cannot be stored as positions: build every run instead
    position = {name: number for number, name in enumerate(names)}
    neighboured = deletions.DeletionKeys.build(index.edit_targets()).neighboured
    index.neighboured = neighboured
    document: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "names": names,
        "downloads": [index.corpus.downloads[n] for n in names],
        "neighboured": sorted(position[n] for n in neighboured),
    }
    for table in TABLES:
        entries: dict[str, str] = getattr(index, table)
        document[table] = [list(entries), [position[v] for v in entries.values()]]
    try:
        from bastion._internal.safe_write import write_atomically

        where.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(where, json.dumps(document, separators=(",", ":")))
    except OSError:
        pass  # a read-only cache only costs the next run the build


Loaded = tuple[Corpus, dict[str, dict[str, str]], frozenset[str]]


def _load(where: Path, key: str, source: str) -> Loaded | None:
    from bastion._internal.errors import InputError
    from bastion._internal.safe_read import read_bytes

    try:
        document = json.loads(read_bytes(where, limit=MAX_CACHE_BYTES))
    except (OSError, InputError, ValueError):
        return None
    try:
        return _parse(document, key, source)
    except (TypeError, ValueError, KeyError, IndexError):
        return None


def _parse(document: Any, key: str, source: str) -> Loaded | None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    if document.get("key") != key:
        return None
    names = document["names"]
    downloads = document["downloads"]
    if not (isinstance(names, list) and isinstance(downloads, list)):
        return None
    if len(names) != len(downloads) or len(names) > MAX_CORPUS_NAMES:
        return None
    if not all(isinstance(n, str) for n in names):
        return None
    if not all(type(d) is int and d >= 0 for d in downloads):
        return None
    ranks = {name: number for number, name in enumerate(names, start=1)}
    if len(ranks) != len(names):
        return None
    tables: dict[str, dict[str, str]] = {}
    for table in TABLES:
        keys, targets = document[table]
        if not (isinstance(keys, list) and isinstance(targets, list)):
            return None
        if len(keys) != len(targets) or not all(isinstance(k, str) for k in keys):
            return None
        if not all(type(t) is int and 0 <= t < len(names) for t in targets):
            return None
        tables[table] = dict(zip(keys, (names[t] for t in targets), strict=True))
    neighboured = document["neighboured"]
    if not isinstance(neighboured, list):
        return None
    if not all(type(t) is int and 0 <= t < len(names) for t in neighboured):
        return None
    corpus = Corpus(source, ranks, dict(zip(names, downloads, strict=True)))
    return corpus, tables, frozenset(names[t] for t in neighboured)
