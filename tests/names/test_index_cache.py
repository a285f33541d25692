"""The typosquat tables kept in the user cache: same answers, keyed on content, never trusted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.names.corpus import load_corpus
from bastion._internal.names.deletions import DeletionKeys
from bastion._internal.names.index_cache import FORMAT, TABLES, _parse, cache_key, cached_index
from bastion._internal.names.typosquat import TyposquatIndex

# Real look-alikes and near misses of popular names, and popular names themselves.
PROBES = (
    "reqeusts",
    "requests",
    "python-dateutil2",
    "urlib3",
    "numpyy",
    "djang0",
    "beautifulsoup",
    "colourama",
    "pandas-py",
    "setuptool",
    "crypt0graphy",
    "some-unrelated-internal-name",
)


def _tables(index: TyposquatIndex) -> dict[str, object]:
    return {t: getattr(index, t) for t in TABLES}


def _corpus(path: Path, names: list[str]) -> Path:
    rows = [{"project": n, "download_count": 10_000_000 // (i + 1)} for i, n in enumerate(names)]
    path.write_text(json.dumps({"rows": rows}))
    return path


def _only_file(folder: Path) -> Path:
    files = list(folder.glob("typosquat-*.json"))
    assert len(files) == 1, files
    return files[0]


def test_cached_index_answers_like_a_fresh_one(tmp_path: Path) -> None:
    fresh = TyposquatIndex(load_corpus())
    first = cached_index(directory=tmp_path)  # a miss: builds and stores
    stored = _only_file(tmp_path)
    second = cached_index(directory=tmp_path)  # a hit: loads
    neighboured = DeletionKeys.build(fresh.edit_targets()).neighboured
    for index in (first, second):
        assert _tables(index) == _tables(fresh)
        assert index.corpus.ranks == fresh.corpus.ranks
        assert index.corpus.downloads == fresh.corpus.downloads
        assert index.neighboured == neighboured
        assert [index.judge(n) for n in PROBES] == [fresh.judge(n) for n in PROBES]
        assert index.judge_many(PROBES * 100) == [fresh.judge(n) for n in PROBES * 100]
    assert fresh.judge("reqeusts") is not None  # the probes exercise real resemblances
    assert _only_file(tmp_path) == stored


def test_a_hit_is_read_from_the_cache_file(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.json", ["alpha-project", "beta-project"])
    cached_index(corpus, directory=tmp_path)
    stored = _only_file(tmp_path)
    document = json.loads(stored.read_text())
    # Point the squashed key of "gamma-project" at beta (same key, so it is this corpus's file).
    keys, targets = document["_squashed"]
    document["_squashed"] = [[*keys, "gammaproject"], [*targets, 1]]
    stored.write_text(json.dumps(document))
    found = cached_index(corpus, directory=tmp_path).judge("gamma_project")
    assert found is not None and found.imitates == "beta-project"


def test_the_key_follows_the_corpus_content(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.json", ["alpha-project", "beta-project"])
    assert cached_index(corpus, directory=tmp_path).judge("alpha-projekt") is not None
    before = _only_file(tmp_path)
    _corpus(corpus, ["delta-project"])  # same path, new content: never the stale tables
    index = cached_index(corpus, directory=tmp_path)
    assert index.judge("alpha-projekt") is None
    found = index.judge("delta-projekt")
    assert found is not None and found.imitates == "delta-project"
    assert len(list(tmp_path.glob("typosquat-*.json"))) == 2
    assert before.exists()
    assert cache_key(b"a") != cache_key(b"b")


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "not json",
        lambda text: "[]",
        lambda text: text.replace(f'"format":{FORMAT}', f'"format":{FORMAT + 1}'),
        lambda text: text.replace('"key":"', '"key":"0'),
        lambda text: text.replace('"downloads":[', '"downloads":[-5,'),
        lambda text: text.replace('"_words":[[', '"_words":[[7,'),
        lambda text: text.replace('"_skeletons":[[', '"_skeletons":[["x"],[99999]],"y":[['),
        lambda text: json.dumps({**json.loads(text), "_collapsed": [["x"], [10**9]]}),
        lambda text: json.dumps({**json.loads(text), "names": ["dup", "dup"]}),
        lambda text: json.dumps({**json.loads(text), "neighboured": [2]}),
        lambda text: json.dumps({**json.loads(text), "neighboured": {"0": 1}}),
        lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "neighboured"}),
    ],
)
def test_a_damaged_cache_is_ignored_and_rebuilt(tmp_path: Path, damage: object) -> None:
    corpus = _corpus(tmp_path / "corpus.json", ["alpha-project", "beta-project"])
    fresh = TyposquatIndex(load_corpus(corpus))
    cached_index(corpus, directory=tmp_path)
    stored = _only_file(tmp_path)
    assert callable(damage)
    stored.write_text(damage(stored.read_text()))
    index = cached_index(corpus, directory=tmp_path)
    assert _tables(index) == _tables(fresh)
    assert index.corpus.ranks == fresh.corpus.ranks
    assert index.neighboured == frozenset()  # rebuilt: two names, no shared deletion
    assert json.loads(stored.read_text())["key"] == json.loads(stored.read_text())["key"]
    assert cached_index(corpus, directory=tmp_path).corpus.ranks == fresh.corpus.ranks


def test_an_unwritable_cache_costs_only_the_build(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocked = tmp_path / "file-not-folder"
        blocked.write_text("")  # root ignores permissions: a file where the folder should be
        folder = blocked / "cache"
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
    corpus = _corpus(tmp_path / "corpus.json", ["alpha-project"])
    found = cached_index(corpus, directory=folder).judge("alpha-projekt")
    assert found is not None and found.imitates == "alpha-project"


def test_a_bad_corpus_is_still_an_input_error(tmp_path: Path) -> None:
    from bastion._internal.errors import InputError

    bad = tmp_path / "corpus.json"
    bad.write_text('{"rows": [{"project": 5}]}')
    with pytest.raises(InputError, match="row 1"):
        cached_index(bad, directory=tmp_path)
    assert list(tmp_path.glob("typosquat-*.json")) == []
    with pytest.raises(InputError):
        cached_index(tmp_path / "missing.json", directory=tmp_path)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {"format": st.just(FORMAT), "key": st.just("k")},
        optional={
            "names": _JSON,
            "downloads": _JSON,
            "neighboured": _JSON,
            **{table: _JSON for table in TABLES},
        },
    )
)
def test_any_document_is_either_refused_or_well_formed(document: dict[str, object]) -> None:
    try:
        parsed = _parse(document, "k", "src")
    except (TypeError, ValueError, KeyError, IndexError):
        return  # refused: the caller treats these as a miss
    if parsed is None:
        return
    corpus, tables, neighboured = parsed
    assert set(tables) == set(TABLES)
    assert neighboured <= set(corpus.ranks)
    assert all(target in corpus.ranks for table in tables.values() for target in table.values())
    assert all(isinstance(count, int) and count >= 0 for count in corpus.downloads.values())


def test_binary_corpus_is_refused_like_the_reader_does(tmp_path: Path) -> None:
    from bastion._internal.errors import InputError

    bad = tmp_path / "corpus.json"
    bad.write_bytes(b'{"rows": []}\n\x00')
    with pytest.raises(InputError, match="NUL byte"):
        cached_index(bad, directory=tmp_path)
    bad.write_bytes(b'{"rows": [\xff]}')
    with pytest.raises(InputError, match="UTF-8"):
        cached_index(bad, directory=tmp_path)
