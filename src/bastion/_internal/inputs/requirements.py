"""pip requirements files, the whole format.

Handles ``-r``/``-c`` includes relative to the including file (cycles are an
error), ``--hash`` (several per line), line continuations, comments,
environment markers, extras, editables, ``name @ url`` and VCS URLs, index
options, ``--require-hashes`` and ``${VAR}`` expansion, as pip does. Nothing is
fetched: a remote include is recorded so that the pinning layer can flag it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from bastion._internal.errors import InputError
from bastion._internal.inputs.common import exact_version, is_full_commit, vcs_ref
from bastion._internal.model import (
    DependencySource,
    IndexSetting,
    Location,
    LockedPackage,
    SourceFormat,
    SourceKind,
)
from bastion._internal.safe_read import read_text

MAX_INCLUDE_DEPTH = 32
MAX_INCLUDED_FILES = 1000
MAX_LOGICAL_LINE = 256 * 1024
HEADER_LINES = 20  # where pip-compile and uv write the command that generated a file

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")
_HASH_ALGORITHMS = frozenset(
    {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s"}
)

# Options pip accepts in a requirements file, with whether they take a value.
_FILE_OPTIONS: Mapping[str, bool] = {
    "-r": True,
    "--requirement": True,
    "-c": True,
    "--constraint": True,
    "-e": True,
    "--editable": True,
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "-f": True,
    "--find-links": True,
    "--trusted-host": True,
    "--require-hashes": False,
    "--pre": False,
    "--prefer-binary": False,
    "--only-binary": True,
    "--no-binary": True,
    "--use-feature": True,
    "--config-settings": True,
    "--global-option": True,
    "--hash": True,
}
_PER_REQUIREMENT_OPTIONS = frozenset({"--hash", "--config-settings", "--global-option"})


@dataclass
class _State:
    """Accumulates what a top-level file and its includes describe."""

    env: Mapping[str, str]
    packages: list[LockedPackage] = field(default_factory=list)
    constraints: list[LockedPackage] = field(default_factory=list)
    indexes: list[IndexSetting] = field(default_factory=list)
    require_hashes: bool = False
    files_read: set[Path] = field(default_factory=set)
    header: list[str] = field(default_factory=list)  # the top file's first lines


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


def parse_requirements(path: Path, env: Mapping[str, str] | None = None) -> DependencySource:
    """Read a requirements file and everything it includes into one dependency source."""
    top = path.resolve()
    state = _State(env=os.environ if env is None else env)
    _read_file(top, state, stack=(), constraint=False)
    packages = _apply_constraints(state.packages, state.constraints)
    hashed = state.require_hashes or any(p.has_hash for p in packages)
    return DependencySource(
        path=top,
        format=SourceFormat.REQUIREMENTS,
        packages=tuple(packages),
        indexes=tuple(state.indexes),
        require_hashes=hashed,
        generated_from=_generated_from(top, state.header),
        includes=tuple(sorted(state.files_read - {top})),
    )


def _read_file(path: Path, state: _State, stack: tuple[Path, ...], constraint: bool) -> None:
    if len(stack) > MAX_INCLUDE_DEPTH:
        raise InputError(stack[-1], f"includes nested deeper than {MAX_INCLUDE_DEPTH} files")
    if len(state.files_read) >= MAX_INCLUDED_FILES:
        raise InputError(stack[-1], f"more than {MAX_INCLUDED_FILES} included files")
    state.files_read.add(path)
    text = read_text(path)
    if not stack:
        state.header = text.splitlines()[:HEADER_LINES]
    for line in _logical_lines(path, text):
        expanded = _ENV_VAR.sub(lambda m: state.env.get(m.group(1), m.group(0)), line.text)
        _handle_line(path, line.number, expanded.strip(), state, (*stack, path), constraint)


def _logical_lines(path: Path, text: str) -> Iterator[_Line]:
    """Join continuations and strip comments, keeping the first physical line number."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if _COMMENT.sub("", raw).strip() == "" and raw.lstrip().startswith("#"):
            # A comment line ends a continuation, as in pip.
            if pending:
                yield _Line(start, _COMMENT.sub("", " ".join(pending)))
                pending = []
            continue
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pending.append(raw[:-1])
            if sum(len(p) for p in pending) > MAX_LOGICAL_LINE:
                raise InputError(path, "continued line is too long", start)
            continue
        pending.append(raw)
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if joined:
            yield _Line(start, joined)
    if pending:
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        if joined:
            yield _Line(start, joined)


def _split_options(text: str) -> tuple[str, list[str]]:
    """Split a line into the requirement part and its option tokens, as pip does."""
    tokens = text.split()
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), tokens[i:]
    return " ".join(tokens), []


def _parse_options(path: Path, number: int, tokens: list[str]) -> list[tuple[str, str]]:
    """Turn ``--opt value``, ``--opt=value`` and ``-rvalue`` tokens into pairs."""
    options: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name, value = token, ""
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        elif not token.startswith("--") and len(token) > 2 and token[:2] in _FILE_OPTIONS:
            name, value = token[:2], token[2:]
        if name not in _FILE_OPTIONS:
            raise InputError(path, f"unknown option {name!r}", number)
        takes_value = _FILE_OPTIONS[name]
        if takes_value and not value:
            if i + 1 >= len(tokens):
                raise InputError(path, f"option {name} needs a value", number)
            i += 1
            value = tokens[i]
        elif not takes_value and value:
            raise InputError(path, f"option {name} takes no value", number)
        options.append((name, value))
        i += 1
    return options


def _handle_line(
    path: Path,
    number: int,
    text: str,
    state: _State,
    stack: tuple[Path, ...],
    constraint: bool,
) -> None:
    requirement_text, option_tokens = _split_options(text)
    options = _parse_options(path, number, option_tokens)
    location = Location(path, number)
    if requirement_text:
        bad = [name for name, _ in options if name not in _PER_REQUIREMENT_OPTIONS]
        if bad:
            raise InputError(path, f"option {bad[0]} cannot follow a requirement", number)
        hashes = _parse_hashes(path, number, [v for n, v in options if n == "--hash"])
        package = _parse_requirement(path, number, requirement_text, hashes)
        (state.constraints if constraint else state.packages).append(package)
        return
    for name, value in options:
        if name in _PER_REQUIREMENT_OPTIONS:
            raise InputError(path, f"option {name} must follow a requirement", number)
        if name in ("-r", "--requirement", "-c", "--constraint"):
            is_constraint = constraint or name in ("-c", "--constraint")
            _include(path, number, value, state, stack, is_constraint)
        elif name in ("-e", "--editable"):
            package = _parse_editable(path, number, value)
            (state.constraints if constraint else state.packages).append(package)
        elif name in ("-i", "--index-url"):
            state.indexes.append(IndexSetting("index-url", value, location))
        elif name == "--extra-index-url":
            state.indexes.append(IndexSetting("extra-index-url", value, location))
        elif name in ("-f", "--find-links"):
            state.indexes.append(IndexSetting("find-links", value, location))
        elif name == "--trusted-host":
            state.indexes.append(IndexSetting("trusted-host", value, location))
        elif name == "--no-index":
            state.indexes.append(IndexSetting("no-index", "", location))
        elif name == "--require-hashes":
            state.require_hashes = True


def _include(
    path: Path,
    number: int,
    value: str,
    state: _State,
    stack: tuple[Path, ...],
    constraint: bool,
) -> None:
    scheme = urlsplit(value).scheme.lower()
    if scheme in ("http", "https", "ftp"):
        state.indexes.append(IndexSetting("remote-include", value, Location(path, number)))
        return
    target = Path(unquote(value[len("file://") :])) if scheme == "file" else Path(value)
    if not target.is_absolute():
        target = path.parent / target
    target = target.resolve()
    if target in stack:
        chain = " -> ".join(p.name for p in (*stack[stack.index(target) :], target))
        raise InputError(path, f"include cycle: {chain}", number)
    if not target.is_file():
        raise InputError(path, f"included file not found: {value}", number)
    _read_file(target, state, stack, constraint)


def _parse_hashes(path: Path, number: int, values: list[str]) -> dict[str, tuple[str, ...]]:
    hashes: dict[str, list[str]] = {}
    for value in values:
        algo, sep, digest = value.partition(":")
        algo = algo.lower()
        if not sep or not digest:
            raise InputError(path, f"--hash must be ALGORITHM:DIGEST, got {value!r}", number)
        if algo not in _HASH_ALGORITHMS:
            raise InputError(path, f"unknown hash algorithm {algo!r}", number)
        hashes.setdefault(algo, []).append(digest.lower())
    return {algo: tuple(digests) for algo, digests in hashes.items()}


def _parse_requirement(
    path: Path, number: int, text: str, hashes: dict[str, tuple[str, ...]]
) -> LockedPackage:
    location = Location(path, number)
    if _looks_like_url_or_path(text):
        return _parse_url_or_path(path, number, text, hashes, editable=False)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise InputError(path, f"invalid requirement {text!r}: {first}", number) from None
    markers = str(req.marker) if req.marker else None
    extras = tuple(sorted(req.extras))
    name = canonicalize_name(req.name)
    if req.url:
        return _url_package(location, name, req.url, hashes, markers, extras, editable=False)
    specifier = str(req.specifier)
    return LockedPackage(
        name=name,
        version=exact_version(req.specifier),
        location=location,
        hashes=hashes,
        source_kind=SourceKind.REGISTRY,
        specifier=specifier,
        markers=markers,
        extras=extras,
    )


_NAME_AT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")


def _looks_like_url_or_path(text: str) -> bool:
    """True for a bare URL, VCS URL or path; False for PEP 508 (``name @ url`` included)."""
    head = text.split(";", 1)[0].strip()
    if _NAME_AT.match(head):
        return False
    if "://" in head or head.startswith(_VCS_SCHEMES):
        return True
    if head.startswith((".", "/", "~")) or "\\" in head:
        return True
    return "/" in head or head.lower().endswith(_ARCHIVE_SUFFIXES)


def _parse_editable(path: Path, number: int, value: str) -> LockedPackage:
    return _parse_url_or_path(path, number, value, {}, editable=True)


def _parse_url_or_path(
    path: Path,
    number: int,
    text: str,
    hashes: dict[str, tuple[str, ...]],
    editable: bool,
) -> LockedPackage:
    location = Location(path, number)
    target, _, marker_text = text.partition(" ;")
    if not marker_text and ";" in target and "://" not in target:
        target, _, marker_text = target.partition(";")
    target = target.strip()
    markers = marker_text.strip() or None
    extras: tuple[str, ...] = ()
    extras_match = re.search(r"\[([^\]]*)\]$", target)
    if extras_match and "://" not in target:
        extras = tuple(sorted(e.strip() for e in extras_match.group(1).split(",") if e.strip()))
        target = target[: extras_match.start()]
    name = _name_from_target(target)
    if name is None:
        raise InputError(
            path, f"cannot tell the project name of {target!r} (add #egg=NAME)", number
        )
    return _url_package(location, name, target, hashes, markers, extras, editable)


def _url_package(
    location: Location,
    name: str,
    url: str,
    hashes: dict[str, tuple[str, ...]],
    markers: str | None,
    extras: tuple[str, ...],
    editable: bool,
) -> LockedPackage:
    split = urlsplit(url)
    fragment_hashes = dict(hashes)
    for part in split.fragment.split("&"):
        algo, _, digest = part.partition("=")
        if algo.lower() in _HASH_ALGORITHMS and digest:
            fragment_hashes.setdefault(algo.lower(), ())
            fragment_hashes[algo.lower()] = (*fragment_hashes[algo.lower()], digest.lower())
    version = _version_from_filename(split.path)
    if url.startswith(_VCS_SCHEMES):
        ref = vcs_ref(url)
        return LockedPackage(
            name=name,
            version=version,
            location=location,
            hashes=fragment_hashes,
            source_kind=SourceKind.VCS,
            source=url,
            markers=markers,
            extras=extras,
            vcs_commit=ref if ref and is_full_commit(ref) else None,
        )
    scheme = split.scheme.lower()
    if scheme in ("", "file"):
        kind = SourceKind.EDITABLE if editable else SourceKind.PATH
    else:
        kind = SourceKind.URL
    return LockedPackage(
        name=name,
        version=version,
        location=location,
        hashes=fragment_hashes,
        source_kind=kind,
        source=url,
        markers=markers,
        extras=extras,
    )


def _name_from_target(target: str) -> str | None:
    split = urlsplit(target)
    for part in split.fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "egg" and value:
            return canonicalize_name(value.split("[", 1)[0])
    filename = unquote(split.path.rstrip("/").rsplit("/", 1)[-1])
    if filename.endswith(".whl"):
        try:
            return str(parse_wheel_filename(filename)[0])
        except InvalidWheelFilename:
            return None
    try:
        return str(parse_sdist_filename(filename)[0])
    except InvalidSdistFilename:
        pass
    if split.scheme in ("", "file") and filename and not target.startswith(_VCS_SCHEMES):
        return canonicalize_name(Path(filename).name)
    return None


def _version_from_filename(url_path: str) -> str | None:
    filename = unquote(url_path.rstrip("/").rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _apply_constraints(
    packages: list[LockedPackage], constraints: list[LockedPackage]
) -> list[LockedPackage]:
    """Give unpinned or unhashed requirements the pin and hashes of their constraint."""
    by_name = {c.name: c for c in constraints if c.version}
    result = []
    for package in packages:
        constraint = by_name.get(package.name)
        if constraint is not None and package.source_kind is SourceKind.REGISTRY:
            package = replace(
                package,
                version=package.version or constraint.version,
                specifier=package.specifier or constraint.specifier,
                hashes=package.hashes if package.has_hash else constraint.hashes,
            )
        result.append(package)
    return result


_COMMAND_LINE = re.compile(r"^#\s+(?:uv pip compile|pip-compile|pip compile)\b(.*)$")


def _generated_from(path: Path, head: list[str]) -> tuple[Path, ...]:
    """The declared inputs named in a pip-compile or uv header, if the file has one.

    The tools write paths relative to where they ran, which is usually the
    file's folder or one of its parents; the nearest existing match is taken.
    """
    inputs: list[Path] = []
    for line in head:
        match = _COMMAND_LINE.match(line.strip())
        if not match:
            continue
        for token in match.group(1).split():
            if token.startswith("-") or "=" in token:
                continue
            if token.endswith(("pyproject.toml", ".in", "setup.cfg")):
                inputs.append(_nearest(path.parent, token))
    return tuple(inputs)


def _nearest(folder: Path, relative: str, levels: int = 3) -> Path:
    for base in (folder, *list(folder.parents)[:levels]):
        candidate = (base / relative).resolve()
        if candidate.exists():
            return candidate
    return (folder / relative).resolve()
