"""Typed access to parsed TOML/JSON: a wrong shape is an ``InputError`` with file and line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import split_hash
from bastion._internal.model import IndexSetting, Location, LockedPackage, SourceKind
from bastion._internal.safe_read import describe_type

T = TypeVar("T")

MAX_PACKAGES = 100_000


class Fields:
    """Reads values of one file, reporting shape errors at the given line."""

    def __init__(self, path: Path, line_of: Callable[[int], int | None] | None = None) -> None:
        self.path = path
        self.resolved = path.resolve()  # once: resolving per package costs a syscall each
        self._line_of = line_of

    def line(self, index: int | None) -> int | None:
        """The line of the ``index``-th entry, when the reader can tell."""
        if index is None or self._line_of is None:
            return None
        return self._line_of(index)

    def fail(self, message: str, index: int | None = None) -> InputError:
        """An ``InputError`` for this file at the entry's line."""
        return InputError(self.path, message, self.line(index))

    def get(
        self, table: dict[str, Any], key: str, kind: type[T], index: int | None, default: T
    ) -> T:
        """``table[key]`` when it has type ``kind``; ``default`` when absent."""
        value = table.get(key, default)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.fail(
                f"{key!r} should be a {describe_type(default)}, not a {describe_type(value)}",
                index,
            )
        return value

    def require(self, table: dict[str, Any], key: str, kind: type[T], index: int | None) -> T:
        """``table[key]``, which must be present and of type ``kind``."""
        if key not in table:
            raise self.fail(f"missing required key {key!r}", index)
        value = table[key]
        if not isinstance(value, kind):
            raise self.fail(f"{key!r} has the wrong type ({describe_type(value)})", index)
        return value

    def tables(self, value: object, what: str, index: int | None = None) -> list[dict[str, Any]]:
        """A list whose every item is a table, bounded in length."""
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{what} should be an array of tables", index)
        if len(value) > MAX_PACKAGES:
            raise self.fail(f"{what} has more than {MAX_PACKAGES} entries", index)
        return value

    def strings(self, value: object, what: str, index: int | None = None) -> list[str]:
        """A list whose every item is a string."""
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{what} should be an array of strings", index)
        return value

    def hash_value(self, value: object, index: int | None) -> tuple[str, str]:
        """An ``algorithm:digest`` string split into its parts."""
        parsed = split_hash(value) if isinstance(value, str) else None
        if parsed is None:
            raise self.fail(f"malformed hash {value!r} (expected ALGORITHM:DIGEST)", index)
        return parsed

    def timestamp(self, value: object, index: int | None) -> datetime | None:
        """An upload time, as a TOML datetime or an RFC 3339 string, in UTC."""
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(f"invalid timestamp {value!r}", index) from None
        else:
            raise self.fail(f"invalid timestamp {value!r}", index)
        if moment.tzinfo is UTC:  # fromisoformat's "+00:00"
            return moment
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def add_hash(hashes: dict[str, list[str]], algo: str, digest: str) -> None:
    """Record a digest once per algorithm."""
    bucket = hashes.setdefault(algo, [])
    if digest not in bucket:
        bucket.append(digest)


def frozen(hashes: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """The digests as tuples, for ``LockedPackage``."""
    return {algo: tuple(values) for algo, values in hashes.items()}


def newest(times: list[datetime | None]) -> datetime | None:
    """The latest of the known times (a new artifact on an old release counts)."""
    known = [t for t in times if t is not None]
    return max(known) if known else None


ABSENT = object()  # an artifact without a "hash" key


def artifact_digests(
    fields: Fields, index: int, artifacts: list[dict[str, Any]]
) -> tuple[dict[str, tuple[str, ...]], datetime | None]:
    """Digests of ``{hash = "algo:hex", upload-time = ...}`` artifacts, and the newest upload."""
    return digests_and_newest(
        fields, index, [(a.get("hash", ABSENT), a.get("upload-time")) for a in artifacts]
    )


def digests_and_newest(
    fields: Fields, index: int, artifacts: Sequence[tuple[object, object]]
) -> tuple[dict[str, tuple[str, ...]], datetime | None]:
    """Digests and the newest upload of ``(hash or ABSENT, upload time or None)`` pairs."""
    hashes: dict[str, list[str]] = {}
    latest: datetime | None = None
    for value, uploaded in artifacts:
        if value is not ABSENT:
            algo, digest = fields.hash_value(value, index)
            bucket = hashes.get(algo)
            if bucket is None:
                hashes[algo] = [digest]
            elif digest not in bucket:
                bucket.append(digest)
        moment = fields.timestamp(uploaded, index)
        if moment is not None and (latest is None or moment > latest):
            latest = moment  # a new artifact on an old release counts
    return frozen(hashes), latest


def registry_settings(packages: list[LockedPackage]) -> tuple[IndexSetting, ...]:
    """One ``source`` setting per registry the packages come from, at its first package."""
    first: dict[str, Location] = {}
    for package in packages:
        if package.source_kind is SourceKind.REGISTRY and package.source:
            first.setdefault(package.source, package.location)
    return tuple(IndexSetting("source", url, location) for url, location in first.items())
