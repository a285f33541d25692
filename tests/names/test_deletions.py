"""The flat deletion keys hold the deletion index's entries, in its order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.names.corpus import Corpus, load_corpus
from bastion._internal.names.deletions import DeletionKeys
from bastion._internal.names.typosquat import MIN_EDIT_TARGET, TyposquatIndex


def full_index(names: list[str]) -> dict[str, list[tuple[str, int]]]:
    corpus = Corpus("t", {n: r for r, n in enumerate(names, start=1)}, dict.fromkeys(names, 1))
    index = TyposquatIndex(corpus)
    index.use_deletion_index()
    assert index._deleted is not None
    return index._deleted


def neighbours_by_brute_force(index: dict[str, list[tuple[str, int]]]) -> set[str]:
    return {
        target
        for entries in index.values()
        if len({t for t, _ in entries}) > 1
        for target, _ in entries
    }


def test_the_corpus_gives_the_same_entries_and_neighbours() -> None:
    names = [n for n in load_corpus().ranks if len(n) >= MIN_EDIT_TARGET]
    index = full_index(names)
    flat = DeletionKeys.build(names)
    assert flat.keys == frozenset(index)
    some = set(list(index)[::50]) | {"requests", "reqests", "nosuchkey"}
    assert flat.entries(some) == {k: index[k] for k in some if k in index}
    assert flat.neighboured == neighbours_by_brute_force(index)
    assert 1000 < len(flat.neighboured) < len(names) // 2
    assert flat.entries(set()) == {}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text("abn-", min_size=4, max_size=7), max_size=30, unique=True))
def test_small_alphabets_with_many_shared_keys(names: list[str]) -> None:
    index = full_index(names)
    flat = DeletionKeys.build(names)
    assert flat.entries(set(index)) == index
    assert flat.neighboured == neighbours_by_brute_force(index)
