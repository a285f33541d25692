"""The deletion neighbourhood of the edit targets, flat, for judging many names at once.

``TyposquatIndex`` finds one-letter edits with a dictionary from each key (a
target, or a target with one letter deleted) to its entries ``(target,
deleted position or -1)``: 210,000 keys for 15,000 names, a quarter of a
second to build as lists of tuples. A batch needs that dictionary only for
the keys its few near names look up, so this keeps the same entries as three
flat lists (built with comprehensions) and answers:

- ``keys``: every key, for a C-level screen of a name's deletions;
- ``neighboured``: the targets sharing a key with another target (the other
  targets' search finds only themselves);
- ``entries(wanted)``: the dictionary restricted to ``wanted`` keys, with the
  entries in the same order as the full one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeletionKeys:
    """Each target and its one-letter deletions, in the order the full index holds them."""

    keys: frozenset[str]
    neighboured: frozenset[str]
    _flat: list[str]  # target, then its deletions at 0, 1, ...; target after target
    _owners: list[str]
    _positions: list[int]  # -1 for the target itself

    @classmethod
    def build(
        cls, targets: Iterable[str], neighboured: frozenset[str] | None = None
    ) -> DeletionKeys:
        """Over ``targets`` in rank order (each at most once); ``neighboured`` when known
        (the typosquat cache keeps it), else computed here."""
        names = list(targets)
        flat = [
            name if i < 0 else name[:i] + name[i + 1 :]
            for name in names
            for i in range(-1, len(name))
        ]
        owners = [name for name in names for _ in range(len(name) + 1)]
        positions = [i for name in names for i in range(-1, len(name))]
        if neighboured is not None:
            return cls(frozenset(flat), neighboured, flat, owners, positions)
        # A target's keys are contiguous: a key has two owners exactly when its first
        # and its last entry name different targets.
        first = dict(zip(reversed(flat), reversed(owners), strict=True))
        last = dict(zip(flat, owners, strict=True))
        shared = {key for key, owner in first.items() if last[key] != owner}
        neighboured = frozenset(
            owner for key, owner in zip(flat, owners, strict=True) if key in shared
        )
        return cls(frozenset(first), neighboured, flat, owners, positions)

    def entries(self, wanted: set[str]) -> dict[str, list[tuple[str, int]]]:
        """``{key: [(target, position), ...]}`` for the ``wanted`` keys that exist."""
        found: dict[str, list[tuple[str, int]]] = {}
        for at in [at for at, key in enumerate(self._flat) if key in wanted]:
            found.setdefault(self._flat[at], []).append((self._owners[at], self._positions[at]))
        return found
