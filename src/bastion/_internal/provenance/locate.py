"""The locked artifacts whose provenance is checked: file name (where the lock has it) and sha256.

The inputs layer gives every locked package with its digests. Locks that also
name each file (uv.lock, pylock.toml, poetry.lock, pdm.lock) are read again
here for the file of each digest, so provenance is matched by file name; for
the others (requirements, Pipfile.lock) an artifact is its digest alone, and
the provenance's own subject names the file. pylock.toml's PEP 751
``attestation-identities`` become expectations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.model import DependencySource, Location, LockedPackage, SourceFormat
from bastion._internal.provenance.model import Artifact, Expectation, Identity
from bastion._internal.safe_read import TomlLines, parse_toml, read_text

_NAMED_FORMATS = frozenset(
    {SourceFormat.UV_LOCK, SourceFormat.PYLOCK, SourceFormat.POETRY_LOCK, SourceFormat.PDM_LOCK}
)
_HEX = frozenset("0123456789abcdef")


def locked_artifacts(sources: Iterable[DependencySource]) -> list[Artifact]:
    """Every artifact with a sha256 the sources lock, once per (package, digest)."""
    found: dict[tuple[str, str], Artifact] = {}
    for source in sources:
        names = _file_names(source) if source.format in _NAMED_FORMATS else {}
        for package in source.packages:
            if package.is_local or package.source_kind.value == "vcs":
                continue
            for digest in package.hashes.get("sha256", ()):
                if not _is_sha256(digest):
                    continue
                key = (package.name, digest)
                filename = names.get(digest)
                known = found.get(key)
                if known is None or (known.filename is None and filename is not None):
                    found[key] = Artifact(
                        package.name, package.version, digest, filename, package.location
                    )
    return sorted(found.values(), key=lambda a: (a.name, a.version or "", a.label))


def _is_sha256(digest: str) -> bool:
    return len(digest) == 64 and set(digest) <= _HEX


def _file_names(source: DependencySource) -> dict[str, str]:
    """sha256 -> file name, from the lock's per-file entries (a lock already read once)."""
    try:
        data = parse_toml(source.path, read_text(source.path))
    except InputError:
        return {}
    names: dict[str, str] = {}
    for filename, digest in _files(source.format, data):
        if filename and digest:
            names.setdefault(digest.lower(), filename)
    return names


def _files(fmt: SourceFormat, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if fmt is SourceFormat.UV_LOCK:
        for entry in _tables(data.get("package")):
            for artifact in (entry.get("sdist"), *_tables(entry.get("wheels"))):
                if isinstance(artifact, dict):
                    yield _name_of(artifact), _hash_value(artifact.get("hash"))
    elif fmt is SourceFormat.PYLOCK:
        for entry in _tables(data.get("packages")):
            single = (entry.get("sdist"), entry.get("archive"))
            for artifact in (*single, *_tables(entry.get("wheels"))):
                if isinstance(artifact, dict):
                    hashes = artifact.get("hashes")
                    digest = hashes.get("sha256") if isinstance(hashes, dict) else None
                    yield _name_of(artifact), digest if isinstance(digest, str) else ""
    else:  # poetry.lock (1.x keeps files under [metadata.files]) and pdm.lock
        entries = [e.get("files") for e in _tables(data.get("package"))]
        metadata = data.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("files"), dict):
            entries.extend(metadata["files"].values())
        for files in entries:
            for item in _tables(files):
                name = item.get("file")
                yield (
                    name if isinstance(name, str) else _name_of(item),
                    _hash_value(item.get("hash")),
                )


def _tables(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _name_of(artifact: dict[str, Any]) -> str:
    name = artifact.get("name") or artifact.get("filename")
    if isinstance(name, str) and name:
        return name
    for key in ("url", "path"):
        value = artifact.get(key)
        if isinstance(value, str) and value:
            tail = unquote(urlsplit(value).path).rsplit("/", 1)[-1]
            return tail.split("#", 1)[0]
    return ""


def _hash_value(value: object) -> str:
    if isinstance(value, str) and value.lower().startswith("sha256:"):
        return value[7:].lower()
    return ""


def pylock_expectations(sources: Iterable[DependencySource]) -> dict[str, Expectation]:
    """Expected publishers from pylock.toml ``attestation-identities`` (PEP 751), by package.

    An identity with a kind bastion cannot compare (PEP 751 allows any) is an
    ``InputError`` naming the line: an expectation must never be silently dropped.
    """
    found: dict[str, Expectation] = {}
    for source in sources:
        if source.format is not SourceFormat.PYLOCK:
            continue
        text = read_text(source.path)
        data = parse_toml(source.path, text)
        lines = TomlLines(text, "packages")
        for index, entry in enumerate(_tables(data.get("packages"))):
            raw = entry.get("attestation-identities")
            if raw is None:
                continue
            location = Location(source.path, _key_line(text, lines.line_of(index)))
            name = entry.get("name")
            if not isinstance(name, str) or not isinstance(raw, list):
                message = "'attestation-identities' must be an array"
                raise InputError(source.path, message, location.line)
            identities = tuple(_pylock_identity(source.path, location.line, item) for item in raw)
            if identities:
                found[canonical(name)] = Expectation(
                    canonical(name), identities, location, "pylock.toml attestation-identities"
                )
    return found


def _key_line(text: str, start: int | None) -> int | None:
    """The line of the package's ``attestation-identities`` key (else its own line)."""
    if start is None:
        return None
    for number, line in enumerate(text.splitlines()[start - 1 :], start=start):
        stripped = line.lstrip()
        if stripped.startswith("[[") and number > start:
            break
        if stripped.startswith(("attestation-identities", '"attestation-identities"')):
            return number
    return start


def _pylock_identity(path: Path, line: int | None, item: object) -> Identity:
    if not isinstance(item, dict):
        raise InputError(path, "an attestation identity must be a table", line)
    kind = item.get("kind")
    fields = {
        "GitHub": ("repository", "workflow"),
        "GitLab": ("repository", "workflow_filepath"),
        "Google": ("email", None),
    }
    if not isinstance(kind, str) or kind not in fields:
        shown = str(kind)[:40]
        message = f"attestation identity of unknown kind {shown!r} (GitHub, GitLab, Google)"
        raise InputError(path, message, line)
    first, second = fields[kind]
    repository = item.get(first)
    workflow = item.get(second, "") if second else ""
    environment = item.get("environment", "")
    if not isinstance(repository, str) or not repository or not isinstance(workflow, str):
        raise InputError(path, f"{kind} attestation identity needs {first!r}", line)
    if kind != "Google" and not workflow:
        raise InputError(path, f"{kind} attestation identity needs {second!r}", line)
    if not isinstance(environment, str):
        raise InputError(path, "attestation identity 'environment' must be a string", line)
    return Identity(kind, repository, workflow, environment)


def packages_by_name(sources: Iterable[DependencySource]) -> dict[str, LockedPackage]:
    """The first locked package of each name (for locations in findings)."""
    found: dict[str, LockedPackage] = {}
    for source in sources:
        for package in source.packages:
            found.setdefault(package.name, package)
    return found
