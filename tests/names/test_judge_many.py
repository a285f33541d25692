"""``judge_many`` (the batch behind ``names scan``) against ``judge``, name by name."""

from __future__ import annotations

import json
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.inputs.common import canonical
from bastion._internal.names import typosquat
from bastion._internal.names.corpus import Corpus, load_corpus
from bastion._internal.names.deletions import DeletionKeys
from bastion._internal.names.typosquat import (
    _PREFIXES,
    _SUFFIXES,
    INDEX_AFTER,
    Resemblance,
    TyposquatIndex,
)
from tests.advisories.test_matcher import SNAPSHOT

CORPUS = load_corpus()
POPULAR = list(CORPUS.ranks)
SINGLE = TyposquatIndex(CORPUS)  # judge(): by trial, then its own deletion index
BATCH = TyposquatIndex(CORPUS)  # judge_many() only, by the batch path whatever the count
BATCH.use_deletion_index()
SCREENED = TyposquatIndex(CORPUS)  # the batch path with its edits screened by trial
SCREENED.neighboured = DeletionKeys.build(SCREENED.edit_targets()).neighboured  # as cached
SCREENED._judged = INDEX_AFTER  # past the few-names fallback, so every batch is screened
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789-_.IOL"
CONFUSABLE = (("l", "1"), ("l", "I"), ("o", "0"), ("m", "rn"), ("w", "vv"), ("i", "l"))


def one_by_one(index: TyposquatIndex, raws: list[str]) -> list[Resemblance | None] | str:
    """judge() of each name, or the message of the first ValueError."""
    found = []
    for raw in raws:
        try:
            found.append(index.judge(raw))
        except ValueError as exc:
            return str(exc)
    return found


def batched(index: TyposquatIndex, raws: list[str]) -> list[Resemblance | None] | str:
    try:
        return index.judge_many(raws)
    except ValueError as exc:
        return str(exc)


@st.composite
def look_alike(draw: st.DrawFn) -> str:
    """A popular name (or two) with up to three of the changes a typosquatter makes."""
    name = draw(st.sampled_from(POPULAR[:2000]) | st.sampled_from(POPULAR))
    for _ in range(draw(st.integers(0, 3))):
        change = draw(st.integers(0, 11))
        at = draw(st.integers(0, max(len(name) - 1, 0)))
        letter = draw(st.sampled_from(LETTERS))
        if change == 0:  # omission
            name = name[:at] + name[at + 1 :]
        elif change == 1:  # insertion
            name = name[:at] + letter + name[at:]
        elif change == 2:  # substitution
            name = name[:at] + letter + name[at + 1 :]
        elif change == 3 and at + 1 < len(name):  # transposition
            name = name[:at] + name[at + 1] + name[at] + name[at + 2 :]
        elif change == 4:  # a doubled letter
            name = name[:at] + name[at : at + 1] * 2 + name[at + 1 :]
        elif change == 5:
            name = draw(st.sampled_from((*_PREFIXES, "Py", "PY-"))) + name
        elif change == 6:
            name += draw(st.sampled_from((*_SUFFIXES, "-2.0", "3", "-v2", "_1-1", "2024")))
        elif change == 7:  # combined with another popular name or a word
            other = draw(st.sampled_from([*POPULAR[:1500], "helper", "x1", "utils"]))
            sep = draw(st.sampled_from("-_."))
            name = f"{name}{sep}{other}" if draw(st.booleans()) else f"{other}{sep}{name}"
        elif change == 8:  # confusable characters
            plain, looks = draw(st.sampled_from(CONFUSABLE))
            name = name.replace(plain, looks, 1)
        elif change == 9:  # separators dropped, changed or moved
            name = name.replace("-", draw(st.sampled_from(["", "_", ".", "--"])))
        elif change == 10:  # word order
            name = "-".join(reversed(name.split("-")))
        else:  # case, or a character no name may hold
            name = name.upper() if letter in "IOL" else name + draw(st.sampled_from("é \x00/"))
    return name


@settings(max_examples=150, deadline=None)
@given(st.lists(look_alike() | st.text(max_size=12), min_size=1, max_size=12))
def test_the_batch_finds_what_judge_finds(raws: list[str]) -> None:
    assert batched(BATCH, raws) == one_by_one(SINGLE, raws)


@settings(max_examples=150, deadline=None)
@given(st.lists(look_alike() | st.text(max_size=12), min_size=1, max_size=12))
def test_the_screen_by_trial_finds_what_judge_finds(raws: list[str]) -> None:
    assert batched(SCREENED, raws) == one_by_one(SINGLE, raws)
    assert SCREENED._flat_deletions is None  # screened by trial, no neighbourhood built


def test_the_flat_neighbourhood_is_built_only_past_the_trial_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raws = [*POPULAR[:300], "reqeusts", "numpyy", "djnago", "flaskk-login", "pandsa"]
    expected = [SINGLE.judge(raw) for raw in raws]
    index = TyposquatIndex(CORPUS)
    index.neighboured = SCREENED.neighboured
    index._judged = INDEX_AFTER
    assert index.judge_many(raws) == expected
    assert index._flat_deletions is None
    monkeypatch.setattr(typosquat, "SCREEN_BY_TRIAL_MAX", 3)  # more near names than that
    assert index.judge_many(raws) == expected
    assert index._flat_deletions is not None


def test_a_varied_sample_agrees_and_exercises_every_stage() -> None:
    """Real malicious names, the corpus itself and edits of it: same results both ways."""
    with zipfile.ZipFile(SNAPSHOT) as archive:
        malicious = sorted(
            {
                canonical(entry["package"]["name"])
                for member in archive.namelist()[:4000]
                if member.startswith("MAL-")
                for entry in json.loads(archive.read(member)).get("affected", [])
            }
        )
    corpus = POPULAR[::5]
    edited = [n[:2] + n[3:] for n in POPULAR[::37]] + [n + "s" for n in POPULAR[1::41]]
    versioned = [
        f"{n}-{i % 3}.{i % 10}" if i % 2 else f"{n}{i % 9}" for i, n in enumerate(POPULAR[2::61])
    ]
    raws = malicious + corpus + edited + versioned
    raws += [f"{n}-x{i}" for i, n in enumerate(POPULAR[::53])]
    index = TyposquatIndex(CORPUS)
    single = [SINGLE.judge(raw) for raw in raws]
    assert index.judge_many(raws) == single
    assert SCREENED.judge_many(raws) == single
    kinds = {r.transformation for r in single if r is not None}
    assert kinds >= {
        "separators",
        "repeated-character",
        "omission",
        "insertion",
        "substitution",
        "transposition",
        "affix",
        "combination",
    }


def test_the_first_bad_name_is_refused_and_nothing_judged() -> None:
    index = TyposquatIndex(CORPUS)
    with pytest.raises(ValueError, match="not a valid project name: 'b@d'"):
        index.judge_many(["requestss", "b@d", "also bad"])
    with pytest.raises(ValueError, match="longer than 200"):
        index.judge_many(["requestss"] * 2000 + ["a" * 201])
    with pytest.raises(ValueError, match="empty name"):
        index.judge_many([""])
    assert index.judge_many([]) == []
    assert BATCH.judge_many([]) == []  # the batch path, not the fallback by trial


def test_popularity_exemptions_hold_in_the_batch() -> None:
    ranks = {"famous": 1, "famus": 2, "famous-tool": 3, "famoustool": 4}
    downloads = {"famous": 10**6, "famus": 10**4, "famous-tool": 10**5, "famoustool": 10}
    corpus = Corpus("t", ranks, downloads)
    names = ["famus", "famous-tool", "famoustool", "famos", "famous-toool", "pyfamous"]
    names = names * (INDEX_AFTER // len(names) + 1)  # enough to take the batch path
    for exempt_rank, ratio in ((0, 1000), (0, 10), (2, 10), (4, 1)):
        single = TyposquatIndex(corpus, exempt_rank=exempt_rank, download_ratio=ratio)
        batch = TyposquatIndex(corpus, exempt_rank=exempt_rank, download_ratio=ratio)
        expected = [single.judge(n) for n in names]
        assert batch.judge_many(names) == expected
    assert expected[:3] == [None, None, None]  # every corpus name within exempt_rank 4
    assert [(r.imitates, r.transformation) if r else None for r in expected[3:6]] == [
        ("famous", "omission"),
        ("famous-tool", "repeated-character"),
        ("famous", "affix"),
    ]


def test_a_small_batch_is_judged_by_trial_without_the_deletion_index() -> None:
    index = TyposquatIndex(CORPUS)
    found = index.judge_many(["reqeusts", "numpy-dev"])
    assert [r.transformation for r in found if r] == ["transposition", "affix"]
    assert not index.has_deletion_index


def test_the_batch_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    BATCH.judge_many(["reqeusts"])
    assert gc.isenabled()
    gc.disable()
    try:
        BATCH.judge_many(["reqeusts"])
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError):
        BATCH.judge_many(["bad name"])
    assert gc.isenabled()
