"""What the advisory and names layers say about a project, asked by the policy.

Calls the advisory store (known-malicious versions, fixed versions) and the
names layer (look-alike judgement, the approved list); copies neither. The
SQLite connection is shared by the server's threads behind a lock; answers
are kept per project (bounded) until ``forget`` clears them.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bastion._internal.advisories.matcher import is_affected
from bastion._internal.advisories.osv import Advisory, ParseWarnings
from bastion._internal.advisories.store import (
    advisories_for,
    default_db_path,
    ensure_database,
    open_database,
)
from bastion._internal.controls.names import REPORT_CONFIDENCE
from bastion._internal.names.corpus import load_corpus
from bastion._internal.names.typosquat import Resemblance, TyposquatIndex

REMEMBERED = 4096  # projects whose advisories are kept in memory


class Intel:
    """Advisories and name judgements for the policy."""

    def __init__(
        self,
        advisory_db: Path | None = None,
        *,
        approved: frozenset[str] = frozenset(),
        judge_names: bool = True,
    ) -> None:
        path = advisory_db or default_db_path()
        if advisory_db is None:
            ensure_database(path)
        self._db: sqlite3.Connection = open_database(path, any_thread=True)
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Advisory, ...]] = {}
        self._lookalikes: dict[str, Resemblance | None] = {}
        self.approved = approved
        self._names = TyposquatIndex(load_corpus()) if judge_names else None

    def close(self) -> None:
        """Close the advisory database."""
        self._db.close()

    def forget(self) -> None:
        """Drop remembered answers (after the advisory database changed)."""
        with self._lock:
            self._known.clear()
            self._lookalikes.clear()

    def advisories(self, name: str) -> tuple[Advisory, ...]:
        """Every advisory naming the canonical project (malicious ones included)."""
        with self._lock:
            known = self._known.get(name)
            if known is None:
                known = tuple(advisories_for(self._db, name))
                if len(self._known) >= REMEMBERED:
                    self._known.clear()
                self._known[name] = known
            return known

    def malicious(self, name: str, version: str | None) -> Advisory | None:
        """A malicious-package record that covers this version (or every version), or None."""
        warnings = ParseWarnings()
        for advisory in self.advisories(name):
            if not advisory.malicious:
                continue
            for affected in advisory.affected:
                if affected.package != name:
                    continue
                if not affected.versions and not affected.ranges:
                    return advisory  # the whole project is malware
                if version is not None and is_affected(affected, version, warnings):
                    return advisory
        return None

    def fixes(self, name: str, newest_allowed: str, candidate: str) -> Advisory | None:
        """An advisory affecting ``newest_allowed`` that ``candidate`` is not affected by."""
        warnings = ParseWarnings()
        for advisory in self.advisories(name):
            if advisory.malicious or advisory.withdrawn is not None:
                continue
            mine = [a for a in advisory.affected if a.package == name]
            if any(is_affected(a, newest_allowed, warnings) for a in mine) and not any(
                is_affected(a, candidate, warnings) for a in mine
            ):
                return advisory
        return None

    def lookalike(self, name: str) -> Resemblance | None:
        """The popular project this name imitates (at the names layer's reporting confidence)."""
        if self._names is None or name in self.approved:
            return None
        if name in self._lookalikes:
            return self._lookalikes[name]
        try:
            found = self._names.judge(name)
        except ValueError:
            found = None
        if found is not None and found.confidence < REPORT_CONFIDENCE:
            found = None
        if len(self._lookalikes) >= REMEMBERED:
            self._lookalikes.clear()
        self._lookalikes[name] = found
        return found
