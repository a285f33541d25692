"""Look-alike names: which popular project a name imitates, how, and how surely.

Judged on names alone (no advisory data). Every check is a dictionary lookup
in an index built once over the corpus, never a scan of the corpus per name:

- ``separators``: the same letters with separators dropped or changed
  (``python-dateutil`` / ``pythondateutil``);
- ``confusable``: visually confusable characters (l/I/1, O/0, rn/m, vv/w);
- ``repeated-character``: a doubled letter added or removed (``requestss``);
- ``omission``, ``insertion``, ``substitution`` (weighted by keyboard
  adjacency), ``transposition`` of adjacent letters: one edit, found with a
  deletion-neighbourhood index (each corpus name and its one-letter deletions);
- ``word-order``: the same words around separators in another order;
- ``affix``: a popular name with ``py``/``python`` prefixes, ``-py``,
  ``-python``, ``-lib``, ``-sdk``, ``-api``, ``-client``, ``-dev`` suffixes or
  trailing digits and versions added;
- ``combination``: a popular name combined with another word (weak evidence:
  low confidence, below the default reporting threshold).

A candidate that is itself popular is not flagged: when its rank is within
``exempt_rank``, or its downloads are at least 1/``download_ratio`` of the
name it resembles.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter

from bastion._internal.inputs.common import canonical
from bastion._internal.names.corpus import MAX_NAME_LENGTH, Corpus
from bastion._internal.names.deletions import DeletionKeys

DEFAULT_EXEMPT_RANK = 1000
DEFAULT_DOWNLOAD_RATIO = 1000
MIN_EDIT_TARGET = 4  # one-letter edits of shorter names are mostly other real names
COMBINATION_TOP = 1000
INDEX_AFTER = 1000  # names judged by trial cost about as much as building the index
SCREEN_BY_TRIAL_MAX = 4000  # near names screened by trial before the flat neighbourhood pays
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"  # every character of a canonical name

_VALID = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_CANONICAL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # fullmatch: valid and already canonical
_DIGITS = frozenset("0123456789")
_SEPARATORS = re.compile(r"[-_.]+")
_PREFIXES = ("python-", "python", "py-", "py")
_SUFFIXES = ("-python", "-py", "py", "-lib", "lib", "-sdk", "-api", "-client", "-dev")
_KEYBOARD = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POSITION = {
    ch: (row, col) for row, keys in enumerate(_KEYBOARD) for col, ch in enumerate(keys)
}

# The stages of the search (bits): one lookup per table; one-letter edits; a popular
# name with affixes dropped; a popular name among the parts.
LOOKUPS, EDITS, STEMS, COMBINATIONS = 1, 2, 4, 8
ALL_STAGES = LOOKUPS | EDITS | STEMS | COMBINATIONS

CONFIDENCE = {
    "separators": 0.95,
    "confusable": 0.95,
    "repeated-character": 0.9,
    "transposition": 0.85,
    "omission": 0.8,
    "substitution-adjacent": 0.8,
    "word-order": 0.8,
    "insertion": 0.75,
    "affix": 0.7,
    "substitution": 0.65,
    "combination": 0.4,
}


@dataclass(frozen=True, slots=True)
class Resemblance:
    """A candidate name that imitates a popular one."""

    name: str  # the candidate, canonical
    imitates: str  # the popular name, canonical
    transformation: str
    confidence: float
    imitated_rank: int


def validate(raw: str) -> str:
    """The canonical form of a project name; ``ValueError`` when it cannot be one."""
    if not raw:
        raise ValueError("empty name")
    if len(raw) > MAX_NAME_LENGTH:
        raise ValueError(f"name longer than {MAX_NAME_LENGTH} characters")
    if _CANONICAL.fullmatch(raw):
        return raw  # lower-case letters and digits, single hyphens between: canonical already
    if not _VALID.match(raw):
        shown = raw.encode("ascii", "backslashreplace").decode()[:60]
        raise ValueError(f"not a valid project name: {shown!r}")
    return canonical(raw)


def without_trailing_version(name: str) -> str:
    """``name`` without the trailing version a regex ``(-?\\d+)+$`` would remove (2.0 is 2-0).

    A scan: that regex backtracked exponentially on a name such as ``a1111…1b``.
    """
    start = len(name.rstrip("0123456789-"))
    run = name[start:]
    if not run or run[-1] == "-":
        return name
    doubled = run.rfind("--")  # a version part is "-" then digits: "--" cannot be inside one
    return name[: start + doubled + 1] if doubled >= 0 else name[:start]


def _squash(name: str) -> str:
    return _SEPARATORS.sub("", name)


def _skeleton(raw: str) -> str:
    """Separators dropped, confusable characters folded (works on raw or canonical)."""
    text = raw.replace("I", "l").lower().replace("1", "l").replace("0", "o")
    return _squash(text).replace("rn", "m").replace("vv", "w")


_REPEATS = re.compile(r"(.)\1+")


_FIRST_GROUP = itemgetter(1)  # a function of the match: three times faster than r"\1"


def _folded(squashed: str) -> str:
    """``_skeleton`` of a canonical name from its squashed form."""
    return squashed.replace("1", "l").replace("0", "o").replace("rn", "m").replace("vv", "w")


def _collapse(name: str) -> str:
    return _REPEATS.sub(_FIRST_GROUP, name)


def _words(name: str) -> str | None:
    parts = _SEPARATORS.split(name)
    return "-".join(sorted(parts)) if len(parts) > 1 else None


def _deletions(name: str) -> Iterator[tuple[int, str]]:
    for i in range(len(name)):
        yield i, name[:i] + name[i + 1 :]


def _adjacent(a: str, b: str) -> bool:
    pa, pb = _KEY_POSITION.get(a), _KEY_POSITION.get(b)
    return pa is not None and pb is not None and abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


class TyposquatIndex:
    """Lookup tables over a corpus, built once (linear in the corpus size)."""

    def __init__(
        self,
        corpus: Corpus,
        *,
        exempt_rank: int = DEFAULT_EXEMPT_RANK,
        download_ratio: int = DEFAULT_DOWNLOAD_RATIO,
    ) -> None:
        self.corpus = corpus
        self.exempt_rank = exempt_rank
        self.download_ratio = download_ratio
        self._squashed: dict[str, str] = {}
        self._skeletons: dict[str, str] = {}
        self._collapsed: dict[str, str] = {}
        self._words: dict[str, str] = {}
        # key -> (name, deleted index); built on demand, see use_deletion_index()
        self._deleted: dict[str, list[tuple[str, int]]] | None = None
        self._combined: frozenset[str] | None = None  # see _combination_parts()
        self._heads_tails: tuple[list[frozenset[str]], list[frozenset[str]]] | None = None
        self._flat_deletions: DeletionKeys | None = None  # see _screen_edits()
        # Edit targets sharing a deletion key with another (DeletionKeys), once known.
        self.neighboured: frozenset[str] | None = None
        self._vocabulary: frozenset[str] | None = None  # see _word_vocabulary()
        self._judged = 0
        for name in corpus.ranks:  # most popular first: setdefault keeps the best target
            self._squashed.setdefault(_squash(name), name)
            self._skeletons.setdefault(_skeleton(name), name)
            self._collapsed.setdefault(_collapse(_squash(name)), name)
            words = _words(name)
            if words is not None:
                self._words.setdefault(words, name)

    def edit_targets(self) -> list[str]:
        """The names one-letter edits are looked for against, most popular first."""
        return [name for name in self.corpus.ranks if len(name) >= MIN_EDIT_TARGET]

    @property
    def has_deletion_index(self) -> bool:
        """True once the deletion-neighbourhood index is built."""
        return self._deleted is not None

    def use_deletion_index(self) -> None:
        """Build the deletion-neighbourhood index (about 0.3 s for 15,000 names).

        Until it exists, one-letter edits are found by trying every edit of the
        candidate against the corpus (a few hundred set lookups a name), which
        is cheaper for the tens or hundreds of names a project locks. ``judge``
        builds the index itself after ``INDEX_AFTER`` names; a caller that
        knows it will judge many may build it first. Both ways find the same
        resemblances (tested).
        """
        self._deletion_index()

    def _deletion_index(self) -> dict[str, list[tuple[str, int]]]:
        if self._deleted is not None:
            return self._deleted
        deleted: dict[str, list[tuple[str, int]]] = {}
        for name in self.corpus.ranks:
            if len(name) >= MIN_EDIT_TARGET:
                deleted.setdefault(name, []).append((name, -1))
                for i, key in _deletions(name):
                    deleted.setdefault(key, []).append((name, i))
        self._deleted = deleted
        return deleted

    def judge(self, raw: str) -> Resemblance | None:
        """The most likely imitation for a name, or ``None``. ``ValueError`` for a bad name."""
        name = validate(raw)
        self._judged += 1
        if self._judged > INDEX_AFTER:
            self.use_deletion_index()
        return self._judge_valid(raw, name)

    def judge_many(self, raws: Sequence[str]) -> list[Resemblance | None]:
        """``judge`` of every name, in order, with the same results; ``ValueError`` for the
        first bad name (nothing judged then).

        Made for many names: a screen runs stage by stage over all names at once (each
        name's forms against the tables' keys in one C-level set intersection per stage),
        and the search of ``judge`` runs only for the names the screen cannot clear, only
        for the stages it cannot rule out. The screen rules a stage out only when it
        would find no target other than the name itself (tested against ``judge``).
        """
        names = [validate(raw) for raw in raws]
        if not names:
            return []
        if self._deleted is None and self._judged + len(names) <= INDEX_AFTER:
            return [self.judge(raw) for raw in raws]  # a few names: by trial, as judge does
        self._judged += len(names)
        # Hundreds of thousands of short-lived tuples and lists, no cycles among them: the
        # cyclic collector would only walk the index's tables again and again (10-20 %).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._judge_batch(raws, names)
        finally:
            if collecting:
                gc.enable()

    def _judge_batch(self, raws: Sequence[str], names: list[str]) -> list[Resemblance | None]:
        edits, deleted = self._screen_edits(names)
        stages: dict[int, int] = {}
        for stage, flagged in (
            (LOOKUPS, self._screen_lookups(raws, names)),
            (EDITS, edits),
            (STEMS, self._screen_stems(names)),
            (COMBINATIONS, self._screen_combinations(names)),
        ):
            for position in flagged:
                stages[position] = stages.get(position, 0) | stage
        results: list[Resemblance | None] = [None] * len(names)
        for position, flags in stages.items():
            raw, name = raws[position], names[position]
            results[position] = self._judge_valid(raw, name, flags, deleted)
        return results

    def _screen_lookups(self, raws: Sequence[str], names: list[str]) -> list[int]:
        """Positions of names whose forms find a target other than themselves in a table."""
        # Each form of every name at once: one C-level pass over the names joined by
        # newlines (no name holds one, and no replacement or repeat spans one).
        joined = "\n".join(names).replace("-", "")  # canonical: "-" is the only separator
        squashed = joined.split("\n")
        skeletons = [
            form if raw is name else _skeleton(raw)  # canonical: as _skeleton would fold it
            for raw, name, form in zip(raws, names, _folded(joined).split("\n"), strict=True)
        ]
        collapsed = [
            (i, form)
            for i, (form, original) in enumerate(
                zip(_collapse(joined).split("\n"), squashed, strict=True)
            )
            if form != original
        ]
        vocabulary = self._word_vocabulary()  # a name with another word has no word order
        words = [
            (i, "-".join(sorted(parts)))
            for i, name in enumerate(names)
            if "-" in name and vocabulary.issuperset(parts := name.split("-"))
        ]
        flagged = []
        for table, forms in ((self._squashed, squashed), (self._skeletons, skeletons)):
            hits = table.keys() & set(forms)
            flagged += [
                i for i, form in enumerate(forms) if form in hits and table[form] != names[i]
            ]
        for table, pairs in ((self._collapsed, collapsed), (self._words, words)):
            hits = table.keys() & {form for _, form in pairs}
            flagged += [i for i, form in pairs if form in hits and table[form] != names[i]]
        return flagged

    def _word_vocabulary(self) -> frozenset[str]:
        """Every word of the word-order table's keys."""
        if self._vocabulary is None:
            self._vocabulary = frozenset(word for key in self._words for word in key.split("-"))
        return self._vocabulary

    def _screen_edits(self, names: list[str]) -> tuple[list[int], dict[str, list[tuple[str, int]]]]:
        """Positions of names with a one-letter edit of a target other than themselves, and
        the deletion index restricted to the keys their search looks up."""
        heads, tails = self._halves()
        near = [  # (position, 1: the first half matches a target's, 2: the last, 3: both)
            (position, side)
            for position, name in enumerate(names)
            if (
                side := (name[: (half := (len(name) - 1) // 2)] in heads[len(name)])
                | ((name[half + 1 :] in tails[len(name)]) << 1)
            )
        ]
        searched = None
        if self._flat_deletions is None and self.neighboured is not None:
            searched = self._searched(names, near, self.neighboured)
            if len(searched) <= SCREEN_BY_TRIAL_MAX:
                return self._screen_edits_by_trial(names, searched)
        if self._flat_deletions is None:
            self._flat_deletions = DeletionKeys.build(self.edit_targets(), self.neighboured)
            self.neighboured = self._flat_deletions.neighboured
        keys, neighboured = self._flat_deletions.keys, self._flat_deletions.neighboured
        if searched is None:
            searched = self._searched(names, near, neighboured)
        flagged = []
        wanted: set[str] = set()
        for position, side in searched:
            name = names[position]
            size = len(name)
            # An edit's first differing position p is where a deletion key meets the
            # target's. Only the first half matched: no target shares the last half, so
            # p >= half; only the last half: p < half. (An omission is the name itself.)
            half = (size - 1) // 2
            start, stop = (half, size) if side == 1 else (0, half) if side == 2 else (0, size)
            deletions = [name[:i] + name[i + 1 :] for i in range(start, stop)]
            if name in keys or not keys.isdisjoint(deletions):
                flagged.append(position)
                wanted.add(name)
                wanted.update(name[:i] + name[i + 1 :] for i in range(size))
        return flagged, self._flat_deletions.entries(wanted)

    def _searched(
        self, names: list[str], near: list[tuple[int, int]], neighboured: frozenset[str]
    ) -> list[tuple[int, int]]:
        """The ``near`` names whose edits need a search: not a target whose deletion keys
        are its own (no other target shares one, so it finds only itself)."""
        ranks = self.corpus.ranks
        return [
            (position, side)
            for position, side in near
            if len(name := names[position]) < MIN_EDIT_TARGET
            or name not in ranks
            or name in neighboured
        ]

    def _screen_edits_by_trial(
        self, names: list[str], near: list[tuple[int, int]]
    ) -> tuple[list[int], dict[str, list[tuple[str, int]]]]:
        """``_screen_edits`` for a few thousand ``near`` names, without the flat deletion
        neighbourhood of the whole corpus (210,000 keys: about 25 MB and 0.1 s to build).

        Every one-letter edit of each name (omission, insertion, substitution,
        transposition) is tried against the corpus in one C-level set intersection; the
        corpus names found are exactly the targets the search can find for it. The
        deletion index is then built over those targets only: the search finds the same
        resemblances in it as in the whole one.
        """
        ranks = self.corpus.ranks
        corpus = ranks.keys()
        flagged = []
        targets: set[str] = set()
        for position, _side in near:
            name = names[position]
            size = len(name)
            edits = [name[:i] + name[i + 1 :] for i in range(size)]
            edits += [
                name[:i] + letter + name[j:]
                for i in range(size + 1)
                for j in (i, i + 1)
                if j <= size
                for letter in _ALPHABET
            ]
            edits += [name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(size - 1)]
            found = [t for t in corpus & edits if t != name and len(t) >= MIN_EDIT_TARGET]
            if found:
                flagged.append(position)
                targets.update(found)
        wanted: set[str] = set()
        for position in flagged:
            name = names[position]
            wanted.add(name)
            wanted.update(name[:i] + name[i + 1 :] for i in range(len(name)))
        keys = DeletionKeys.build(sorted(targets, key=ranks.__getitem__))
        return flagged, keys.entries(wanted)

    def _screen_stems(self, names: list[str]) -> list[int]:
        """Positions of names ``_stems`` may find a stem other than themselves in: names
        with an affix, and names whose trailing version leaves a stem with an affix or a
        popular one."""
        ranks = self.corpus.ranks
        return [
            position
            for position, name in enumerate(names)
            if name.startswith(_PREFIXES)
            or name.endswith(_SUFFIXES)
            or (
                name[-1] in _DIGITS
                and (stem := without_trailing_version(name)) != name
                and (
                    stem.endswith(_SUFFIXES)
                    or (len(bare := stem.strip("-")) >= 3 and bare in ranks)
                )
            )
        ]

    def _screen_combinations(self, names: list[str]) -> list[int]:
        """Positions of names with a part ``_combinations`` reports."""
        combined = self._combination_parts()
        return [
            position
            for position, name in enumerate(names)
            if "-" in name and not combined.isdisjoint(name.split("-"))
        ]

    def _halves(self) -> tuple[list[frozenset[str]], list[frozenset[str]]]:
        """By a candidate's length n: the first (n - 1) // 2 and the last n - 1 - (n - 1) // 2
        letters of every edit target it could be one edit from (length n - 1 to n + 1).

        One edit of a candidate of length n leaves its first p letters and, of the rest,
        all but the two letters after them (a transposition) in place: p + s >= n - 2
        for the common prefix p and suffix s. So a candidate within one edit of a
        target shares its first (n - 1) // 2 letters or its last n - 1 - (n - 1) // 2
        with it; a candidate that shares neither with any target has no edit to find.
        """
        if self._heads_tails is None:
            heads: list[set[str]] = [set() for _ in range(MAX_NAME_LENGTH + 2)]
            tails: list[set[str]] = [set() for _ in range(MAX_NAME_LENGTH + 2)]
            for target in self.corpus.ranks:
                size = len(target)
                if size < MIN_EDIT_TARGET:
                    continue
                for length in (size - 1, size, size + 1):
                    if length <= MAX_NAME_LENGTH:
                        half = (length - 1) // 2
                        heads[length].add(target[:half])
                        tails[length].add(target[size - (length - 1 - half) :])
            self._heads_tails = ([frozenset(h) for h in heads], [frozenset(t) for t in tails])
        return self._heads_tails

    def _combination_parts(self) -> frozenset[str]:
        """The names ``_combinations`` reports as a part of a combination."""
        if self._combined is None:
            self._combined = frozenset(
                name
                for name, rank in self.corpus.ranks.items()
                if rank <= COMBINATION_TOP and len(name) >= 4
            )
        return self._combined

    def _judge_valid(
        self,
        raw: str,
        name: str,
        stages: int = ALL_STAGES,
        deleted: dict[str, list[tuple[str, int]]] | None = None,
    ) -> Resemblance | None:
        rank = self.corpus.ranks.get(name)
        if rank is not None and rank <= self.exempt_rank:
            return None
        best: Resemblance | None = None
        for target, kind in self._candidates(raw, name, stages, deleted):
            if target == name or self._exempt(name, target):
                continue
            found = Resemblance(name, target, kind, CONFIDENCE[kind], self.corpus.ranks[target])
            if best is None or (found.confidence, -found.imitated_rank) > (
                best.confidence,
                -best.imitated_rank,
            ):
                best = found
        if best is not None and best.transformation == "substitution-adjacent":
            return Resemblance(
                best.name, best.imitates, "substitution", best.confidence, best.imitated_rank
            )
        return best

    def _exempt(self, name: str, target: str) -> bool:
        mine = self.corpus.downloads.get(name)
        if mine is None:
            return False
        return mine * self.download_ratio >= self.corpus.downloads[target]

    def _candidates(
        self,
        raw: str,
        name: str,
        stages: int = ALL_STAGES,
        deleted: dict[str, list[tuple[str, int]]] | None = None,
    ) -> Iterator[tuple[str, str]]:
        """(target, kind) for every resemblance, stage by stage (``stages``: which run;
        ``deleted``: the deletion index, or the part of it holding the keys of ``name``)."""
        if stages & LOOKUPS:
            squashed = _squash(name)
            if (target := self._squashed.get(squashed)) is not None:
                yield target, "separators"
            if (target := self._skeletons.get(_skeleton(raw))) is not None:
                yield target, "confusable"
            collapsed = _collapse(squashed)
            if collapsed != squashed and (target := self._collapsed.get(collapsed)) is not None:
                yield target, "repeated-character"
            words = _words(name)
            if words is not None and (target := self._words.get(words)) is not None:
                yield target, "word-order"
        if stages & EDITS:
            yield from self._edits(name, deleted)
        if stages & STEMS:
            yield from self._stems(name)
        if stages & COMBINATIONS:
            yield from self._combinations(name)

    def _edits(
        self, name: str, index: dict[str, list[tuple[str, int]]] | None = None
    ) -> Iterator[tuple[str, str]]:
        index = self._deleted if index is None else index
        if index is None:
            yield from self._edits_by_trial(name)
            return
        for target, deleted in index.get(name, ()):
            if deleted >= 0:
                yield target, "omission"  # the candidate lacks one letter of the target
        for i, key in _deletions(name):
            for target, deleted in index.get(key, ()):
                if deleted < 0:
                    neighbours = name[max(i - 1, 0) : i] + name[i + 1 : i + 2]
                    yield target, "repeated-character" if name[i] in neighbours else "insertion"
                elif deleted == i:
                    adjacent = _adjacent(name[i], target[i])
                    yield target, "substitution-adjacent" if adjacent else "substitution"
                elif abs(deleted - i) == 1:
                    low = min(i, deleted)
                    if name[low : low + 2] == target[low : low + 2][::-1]:
                        yield target, "transposition"

    def _edits_by_trial(self, name: str) -> Iterator[tuple[str, str]]:
        """The same resemblances as the deletion index, by trying every one-letter edit."""
        ranks = self.corpus.ranks

        def known(target: str) -> bool:
            return len(target) >= MIN_EDIT_TARGET and target in ranks

        for i in range(len(name) + 1):
            for letter in _ALPHABET:
                if known(target := name[:i] + letter + name[i:]):
                    yield target, "omission"
        for i, target in _deletions(name):
            if known(target):
                neighbours = name[max(i - 1, 0) : i] + name[i + 1 : i + 2]
                yield target, "repeated-character" if name[i] in neighbours else "insertion"
        for i, original in enumerate(name):
            for letter in _ALPHABET:
                if letter != original and known(target := name[:i] + letter + name[i + 1 :]):
                    adjacent = _adjacent(original, letter)
                    yield target, "substitution-adjacent" if adjacent else "substitution"
        for i in range(len(name) - 1):
            swapped = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
            if swapped != name and known(swapped):
                yield swapped, "transposition"

    def _stems(self, name: str) -> Iterator[tuple[str, str]]:
        stems = {without_trailing_version(name)}
        stems |= {name.removeprefix(p) for p in _PREFIXES if name.startswith(p)}
        stems |= {name.removesuffix(s) for s in _SUFFIXES if name.endswith(s)}
        for stem in list(stems):
            stems |= {stem.removesuffix(s) for s in _SUFFIXES if stem.endswith(s)}
        for stem in stems:
            stem = stem.strip("-")
            if stem != name and len(stem) >= 3 and stem in self.corpus.ranks:
                yield stem, "affix"

    def _combinations(self, name: str) -> Iterator[tuple[str, str]]:
        parts = name.split("-")
        if len(parts) > 1:
            for part in parts:
                rank = self.corpus.ranks.get(part)
                if rank is not None and rank <= COMBINATION_TOP and len(part) >= 4:
                    yield part, "combination"
