"""Pipfile.lock, as written by pipenv (JSON, ``pipfile-spec`` 6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical, is_full_commit
from bastion._internal.inputs.fields import Fields, add_hash, frozen
from bastion._internal.model import (
    DependencySource,
    IndexSetting,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import parse_json, read_lock_text


def parse_pipfile_lock(path: Path) -> DependencySource:
    """Read a Pipfile.lock file (its ``default`` and ``develop`` sections)."""
    text = read_lock_text(path)
    data = parse_json(path, text)
    fields = Fields(path)
    if not isinstance(data, dict) or "_meta" not in data:
        raise fields.fail("not a Pipfile.lock file: no '_meta' object")
    lines = _key_lines(text)
    meta = fields.get(data, "_meta", dict, None, {})
    indexes = []
    named: dict[str, str] = {}
    for source in fields.tables(meta.get("sources", []), "'_meta.sources'"):
        url = fields.get(source, "url", str, None, "")
        label = fields.get(source, "name", str, None, "") or None
        if label:
            named[label] = url
        line = lines.get(f"url:{url}")
        indexes.append(IndexSetting("source", url, Location(path.resolve(), line), label))
        if source.get("verify_ssl") is False:
            indexes.append(IndexSetting("trusted-host", url, Location(path.resolve(), line), label))
    packages = []
    every_entry_names_its_index = True
    for section in ("default", "develop"):
        table = fields.get(data, section, dict, None, {})
        for raw_name, entry in table.items():
            line = lines.get(f"key:{raw_name}")
            if not isinstance(entry, dict):
                raise InputError(path, f"entry {raw_name!r} should be an object", line)
            every_entry_names_its_index &= "index" in entry
            packages.append(_package(fields, line, raw_name, entry, section, named))
    return DependencySource(
        path=path.resolve(),
        format=SourceFormat.PIPFILE_LOCK,
        packages=tuple(packages),
        indexes=tuple(indexes),
        per_package_index=every_entry_names_its_index,
    )


def _package(
    fields: Fields,
    line: int | None,
    raw_name: str,
    entry: dict[str, Any],
    section: str,
    named_sources: dict[str, str],
) -> LockedPackage:
    where = Location(fields.resolved, line)
    hashes: dict[str, list[str]] = {}
    for value in fields.strings(entry.get("hashes", []), f"'hashes' of {raw_name}"):
        add_hash(hashes, *fields.hash_value(value, None))
    pinned = fields.get(entry, "version", str, None, "")
    version = pinned[2:] if pinned.startswith("==") else None
    kind, source, commit = SourceKind.REGISTRY, None, None
    if "git" in entry:
        kind, source = SourceKind.VCS, fields.get(entry, "git", str, None, "")
        ref = fields.get(entry, "ref", str, None, "")
        commit = ref if is_full_commit(ref) else None
    elif "path" in entry:
        editable = fields.get(entry, "editable", bool, None, False)
        kind = SourceKind.EDITABLE if editable else SourceKind.PATH
        source = fields.get(entry, "path", str, None, "")
    elif "file" in entry:
        kind, source = SourceKind.URL, fields.get(entry, "file", str, None, "")
    else:
        index_name = fields.get(entry, "index", str, None, "")
        source = named_sources.get(index_name) or None
    extras = fields.strings(entry.get("extras", []), f"'extras' of {raw_name}")
    markers = fields.get(entry, "markers", str, None, "") or None
    return LockedPackage(
        name=canonical(raw_name),
        version=version,
        location=where,
        hashes=frozen(hashes),
        source_kind=kind,
        source=source,
        specifier=pinned if pinned != "*" else "",
        markers=markers,
        extras=tuple(extras),
        vcs_commit=commit,
        groups=(section,),
    )


_KEY = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*:')
_URL = re.compile(r'^\s*"url"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _key_lines(text: str) -> dict[str, int]:
    """First line of each ``"key":`` at the start of a line, and of each source ``"url"``."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        key = _KEY.match(line)
        if key:
            lines.setdefault(f"key:{key.group(1)}", number)
        url = _URL.match(line)
        if url:
            lines.setdefault(f"url:{url.group(1)}", number)
    return lines
