"""Typosquat judgement: every transformation, popularity exemptions, bad names, corpus errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.names.corpus import Corpus, load_corpus
from bastion._internal.names.typosquat import INDEX_AFTER, TyposquatIndex, validate
from tests.advisories.test_matcher import SNAPSHOT

INDEX = TyposquatIndex(load_corpus())


@pytest.mark.parametrize(
    ("candidate", "imitates", "transformation"),
    [
        ("pythondateutil", "python-dateutil", "separators"),
        ("setup-tools", "setuptools", "separators"),
        ("djang0", "django", "confusable"),
        ("lxmI", "lxml", "confusable"),
        ("requestss", "requests", "repeated-character"),
        ("urlib3", "urllib3", "omission"),
        ("colourama", "colorama", "insertion"),
        ("reqursts", "requests", "substitution"),
        ("reqeusts", "requests", "transposition"),
        ("dateutil-python", "python-dateutil", "word-order"),
        ("py-requests", "requests", "affix"),
        ("numpy-dev", "numpy", "affix"),
        ("requests-2.0", "requests", "affix"),
        ("requests-helper", "requests", "combination"),
    ],
)
def test_each_transformation(candidate: str, imitates: str, transformation: str) -> None:
    found = INDEX.judge(candidate)
    assert found is not None
    assert (found.imitates, found.transformation) == (imitates, transformation)


def test_keyboard_adjacency_weighs_substitutions() -> None:
    adjacent, distant = INDEX.judge("reqiests"), INDEX.judge("reqxests")  # u~i adjacent
    assert adjacent is not None and distant is not None
    assert adjacent.confidence > distant.confidence


def test_popular_names_and_unrelated_names_are_not_flagged() -> None:
    for name in ("requests", "numpy", "boto3", "django", "my-company-billing"):
        assert INDEX.judge(name) is None


def test_popularity_exemption_by_rank_and_download_ratio() -> None:
    corpus = Corpus("t", {"famous": 1, "famus": 2}, {"famous": 1_000_000, "famus": 10_000})
    assert TyposquatIndex(corpus, exempt_rank=0, download_ratio=1000).judge("famus") is None
    flagged = TyposquatIndex(corpus, exempt_rank=0, download_ratio=10).judge("famus")
    assert flagged is not None and flagged.imitates == "famous"
    assert TyposquatIndex(corpus, exempt_rank=2, download_ratio=10).judge("famus") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty name"),
        ("a" * 10_000, "longer than 200"),
        ("réquests", "not a valid project name"),
        ("req\x00uests", "not a valid project name"),
        ("-leading", "not a valid project name"),
        ("two words", "not a valid project name"),
    ],
)
def test_bad_names_are_value_errors(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(raw)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "not a popularity corpus"),
        ('{"rows": []}', "not a popularity corpus"),
        ('{"rows": [{"project": "", "download_count": 1}]}', "row 1: 'project'"),
        ('{"rows": [{"project": "a", "download_count": -1}]}', "row 1: 'download_count'"),
        ('{"rows": [{"project": "a", "download_count": true}]}', "row 1: 'download_count'"),
        ('{"rows": [\n oops', "invalid JSON"),
    ],
)
def test_a_corpus_of_another_shape_is_an_input_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "corpus.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_corpus(path)


def test_a_replacement_corpus(tmp_path: Path) -> None:
    path = tmp_path / "corpus.json"
    rows = [{"project": "Internal_Tool", "download_count": 10**9}]
    path.write_text(json.dumps({"rows": rows}))
    index = TyposquatIndex(load_corpus(path))
    found = index.judge("internal-tol")
    assert found is not None and found.imitates == "internal-tool"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_judged_or_refused(raw: str) -> None:
    try:
        found = INDEX.judge(raw)
    except ValueError:
        return
    assert found is None or 0 < found.confidence <= 1


def test_trial_edits_and_the_deletion_index_find_the_same() -> None:
    corpus = load_corpus()
    with zipfile.ZipFile(SNAPSHOT) as archive:
        malicious = sorted(
            canonical(entry["package"]["name"])
            for member in archive.namelist()[:3000]
            if member.startswith("MAL-")
            for entry in json.loads(archive.read(member)).get("affected", [])
        )
    names = malicious[:600] + list(corpus.ranks)[::75]
    by_trial = TyposquatIndex(corpus)
    indexed = TyposquatIndex(corpus)
    indexed.use_deletion_index()
    found = [by_trial.judge(n) for n in names]
    assert found == [indexed.judge(n) for n in names]
    assert sum(r is not None for r in found) > 50  # the sample exercises real resemblances


def test_the_index_is_built_after_many_names() -> None:
    index = TyposquatIndex(Corpus("t", {"famous": 1}, {"famous": 10}))
    for _ in range(INDEX_AFTER):
        index.judge("famus")
    assert not index.has_deletion_index
    found = index.judge("famus")
    assert index.has_deletion_index
    assert found is not None and found.transformation == "omission"
