"""uv.lock: uv's universal lockfile (TOML, ``version = 1``)."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical, is_full_commit, parse_duration
from bastion._internal.inputs.fields import (
    ABSENT,
    MAX_PACKAGES,
    Fields,
    artifact_digests,
    digests_and_newest,
    registry_settings,
)
from bastion._internal.inputs.uv_lock_layout import EntryFields, entry_fields, read_entry
from bastion._internal.model import (
    DependencySource,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import TomlLines, parse_toml, read_lock_text

PLACEHOLDER_BEFORE_YEAR = 1970  # uv writes 0001-01-01T00:00:00Z when the setting is relative
MAX_OVERRIDES = 10_000
_HEAD = re.compile(r"^\[\[package\]\]", re.MULTILINE)
_SOURCE_KINDS = {
    "registry": SourceKind.REGISTRY,
    "git": SourceKind.VCS,
    "url": SourceKind.URL,
    "path": SourceKind.PATH,
    "directory": SourceKind.PATH,
    "editable": SourceKind.EDITABLE,
    "virtual": SourceKind.VIRTUAL,
}


def parse_uv_lock(path: Path) -> DependencySource:
    """Read a uv.lock file."""
    text = read_lock_text(path)
    lines = TomlLines(text, "package")
    fields = Fields(path, lines.line_of)
    read = _read_by_package(fields, text, lines.offsets) or _read_whole(fields, text)
    del text  # the packages hold what they need; the text and the parsed tables go
    head, packages = read
    version = head.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fields.fail("not a uv.lock file: missing integer 'version'")
    options = _options(fields, head)
    return DependencySource(
        path=path.resolve(),
        format=SourceFormat.UV_LOCK,
        packages=tuple(packages),
        indexes=registry_settings(packages),
        per_package_index=True,
        exclude_newer=options.cutoff,
        exclude_newer_span=options.span,
    )


def _read_whole(fields: Fields, text: str) -> tuple[dict[str, Any], list[LockedPackage]]:
    """The top-level tables but ``package``, and the packages, the text parsed in one piece."""
    data = parse_toml(fields.path, text)
    entries = fields.tables(data.pop("package", []), "'package'")
    return data, [_package(fields, index, entry) for index, entry in enumerate(entries)]


def _read_by_package(
    fields: Fields, text: str, cuts: list[int]
) -> tuple[dict[str, Any], list[LockedPackage]] | None:
    """The top-level tables and the packages, parsing one ``[[package]]`` at a time.

    A 5,000-package lock parsed whole is a 31 MB tree of dicts beside its 7 MB
    text; parsed by package, only one package's tree lives at a time. The text
    is cut before each line that looks like a ``[[package]]`` header (``cuts``,
    from ``TomlLines``). The parts mean what the whole means when the head
    (everything before the first cut) has no ``package`` key and every later
    part holds only ``package`` tables: each ``[[package]]`` appends to the
    array, and every ``[package.x]`` sub-table belongs to the last element,
    which is in the same part. A cut that is not a real header (inside a
    multi-line string or array) leaves the part before it unterminated, which
    fails to parse. ``None`` (parse the whole text, whose answer and errors are
    the authority) whenever a part fails or holds anything else. A part in uv's
    own layout is read by ``uv_lock_layout`` (one regex match) straight into
    its package, any other by the TOML parser.
    """
    if len(cuts) > MAX_PACKAGES:
        return None  # the whole parse tells whether they are all real (and refuses them)
    ends = [*cuts, len(text)]
    try:
        head = parse_toml(fields.path, text[: ends[0]])
        if "package" in head:
            return None
        packages: list[LockedPackage] = []
        for start, end in zip(cuts, ends[1:], strict=True):
            chunk = text[start:end]
            found = entry_fields(chunk)
            package = _layout_package(fields, len(packages), found) if found else None
            if package is not None:
                packages.append(package)
                continue
            part = read_entry(chunk) or parse_toml(fields.path, chunk)
            if part.keys() != {"package"}:
                return None
            for entry in fields.tables(part["package"], "'package'"):
                packages.append(_package(fields, len(packages), entry))
    except InputError:  # a shape error too: the whole parse raises it, with its line
        return None
    if len(packages) > MAX_PACKAGES:  # more tables than cuts: the whole parse refuses them
        return None
    return head, packages


@dataclass(frozen=True, slots=True)
class UvLockOptions:
    """uv.lock's ``[options]`` resolver cutoffs, as uv means them.

    ``cutoff`` is the absolute ``exclude-newer`` (``None`` when uv wrote its
    ``0001-01-01`` placeholder for a relative setting); ``span`` the relative
    ``exclude-newer-span``; ``per_package`` the ``exclude-newer-package``
    overrides by canonical name: a timestamp, a span, or ``None`` for ``false``
    (no cutoff for that package).
    """

    cutoff: datetime | None = None
    span: timedelta | None = None
    per_package: Mapping[str, datetime | timedelta | None] = field(default_factory=dict)

    @property
    def relative(self) -> bool:
        """True when the lock records a relative cutoff without the moment it was applied."""
        return self.span is not None and self.cutoff is None


def lock_options(path: Path) -> UvLockOptions:
    """The ``[options]`` of the uv.lock at ``path`` (read up to its first ``[[package]]``)."""
    text = read_lock_text(path)
    head = _HEAD.split(text, maxsplit=1)[0]
    try:
        data = parse_toml(path, head)
    except InputError:  # [options] after the packages, or a table split oddly: read it all
        data = parse_toml(path, text)
    return _options(Fields(path, TomlLines(head, "package").line_of), data)


def _options(fields: Fields, data: dict[str, Any]) -> UvLockOptions:
    options = fields.get(data, "options", dict, None, {})
    cutoff = fields.timestamp(options.get("exclude-newer"), None)
    if cutoff is not None and cutoff.year < PLACEHOLDER_BEFORE_YEAR:
        cutoff = None  # uv's placeholder beside a relative exclude-newer-span
    span_text = fields.get(options, "exclude-newer-span", str, None, "")
    span = parse_duration(span_text) if span_text else None
    if span_text and span is None:
        raise fields.fail(f"invalid exclude-newer-span {span_text!r}")
    overrides = fields.get(options, "exclude-newer-package", dict, None, {})
    if len(overrides) > MAX_OVERRIDES:
        raise fields.fail(f"more than {MAX_OVERRIDES} exclude-newer-package entries")
    per_package = {
        canonical(name): _override(fields, name, value) for name, value in overrides.items()
    }
    return UvLockOptions(cutoff, span, MappingProxyType(per_package))


def _override(fields: Fields, name: str, value: object) -> datetime | timedelta | None:
    """One ``exclude-newer-package`` value: ``false``, a timestamp, a span, or both in a table."""
    if value is False:
        return None
    if isinstance(value, dict):  # { timestamp = "...", span = "P7D" }
        value = value.get("span") or value.get("timestamp")
    if isinstance(value, str):
        span = parse_duration(value)
        if span is not None:
            return span
    moment = fields.timestamp(value, None) if isinstance(value, str | datetime) else None
    if moment is None:
        raise fields.fail(f"invalid exclude-newer-package value for {name!r}: {value!r:.60}")
    return moment


def _package(fields: Fields, index: int, entry: dict[str, Any]) -> LockedPackage:
    name = canonical(fields.require(entry, "name", str, index))
    version = fields.get(entry, "version", str, index, "") or None
    source = fields.get(entry, "source", dict, index, {})
    kind_and_location = _source(fields, index, source)
    artifacts = [fields.get(entry, "sdist", dict, index, {})] if "sdist" in entry else []
    artifacts += fields.tables(entry.get("wheels", []), f"'wheels' of {name}", index)
    hashes, uploaded = artifact_digests(fields, index, artifacts)
    dependencies = _dependency_names(fields, index, entry)
    return _locked(fields, index, name, version, kind_and_location, hashes, uploaded, dependencies)


def _layout_package(fields: Fields, index: int, entry: EntryFields) -> LockedPackage | None:
    """The package ``_package`` makes of this entry's table; ``None`` where that would raise."""
    if len(entry.artifacts) > MAX_PACKAGES or len(entry.dependencies) > MAX_PACKAGES:
        return None
    try:
        source = _source(fields, index, dict([entry.source]))
        pairs = [(ABSENT if value is None else value, at) for value, at in entry.artifacts]
        hashes, uploaded = digests_and_newest(fields, index, pairs)
    except InputError:
        return None  # the TOML path raises it, with its message
    dependencies = tuple(sorted({canonical(name) for name in entry.dependencies}))
    name = canonical(entry.name)
    version = entry.version or None
    return _locked(fields, index, name, version, source, hashes, uploaded, dependencies)


def _locked(
    fields: Fields,
    index: int,
    name: str,
    version: str | None,
    source: tuple[SourceKind, str | None],
    hashes: dict[str, tuple[str, ...]],
    uploaded: datetime | None,
    dependencies: tuple[str, ...],
) -> LockedPackage:
    kind, location_value = source
    if location_value is not None:
        location_value = sys.intern(location_value)  # one registry URL for thousands of packages
    commit = None
    if kind is SourceKind.VCS and location_value and "#" in location_value:
        fragment = location_value.rsplit("#", 1)[1]
        commit = fragment if is_full_commit(fragment) else None
    return LockedPackage(
        name=name,
        version=version,
        location=Location(fields.resolved, fields.line(index)),
        hashes=hashes,
        source_kind=kind,
        source=location_value,
        specifier=f"=={version}" if version else "",
        dependencies=dependencies,
        upload_time=uploaded,
        vcs_commit=commit,
    )


def _source(fields: Fields, index: int, source: dict[str, Any]) -> tuple[SourceKind, str | None]:
    for key, kind in _SOURCE_KINDS.items():
        if key in source:
            value = source[key]
            if not isinstance(value, str):
                raise fields.fail(f"source {key!r} should be a string", index)
            return kind, value
    if source:
        raise fields.fail(f"unknown package source {sorted(source)}", index)
    return SourceKind.REGISTRY, None


def _dependency_names(fields: Fields, index: int, entry: dict[str, Any]) -> tuple[str, ...]:
    names: set[str] = set()
    groups = [entry.get("dependencies", [])]
    for key in ("optional-dependencies", "dev-dependencies"):
        table = fields.get(entry, key, dict, index, {})
        groups.extend(table.values())
    for group in groups:
        for dep in fields.tables(group, "dependencies", index):
            names.add(canonical(fields.require(dep, "name", str, index)))
    return tuple(sorted(names))
