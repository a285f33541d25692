"""pip requirements files, the whole format.

Handles ``-r``/``-c`` includes relative to the including file (cycles are an
error), ``--hash`` (several per line), line continuations, comments,
environment markers, extras, editables, ``name @ url`` and VCS URLs, index
options, ``--require-hashes`` and ``${VAR}`` expansion, as pip does. Nothing is
fetched: a remote include is recorded so that the pinning layer can flag it.

The file is untrusted: each included file is read once per run (a diamond of
includes is linear, not exponential), includes must stay inside the project
folder (``-r /etc/shadow`` is refused before it is opened), an error quotes at
most a short, sanitised excerpt, and an expanded ``${VAR}`` value is never
stored or printed (URLs keep the ``${VAR}`` as written, errors show it too).
"""

from __future__ import annotations

import os
import re
import shlex
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
from packaging.version import InvalidVersion, Version

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
from bastion._internal.safe_read import excerpt, read_text

MAX_INCLUDE_DEPTH = 32
MAX_INCLUDED_FILES = 1000
MAX_LOGICAL_LINE = 256 * 1024
MAX_QUOTED_OPTIONS = 16 * 1024
HEADER_LINES = 20  # where pip-compile and uv write the command that generated a file

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,200}[A-Za-z0-9])?")
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
    root: Path  # includes must stay inside this folder
    packages: list[LockedPackage] = field(default_factory=list)
    constraints: list[LockedPackage] = field(default_factory=list)
    indexes: list[IndexSetting] = field(default_factory=list)
    require_hashes: bool = False
    files_read: set[Path] = field(default_factory=set)
    visits: set[tuple[Path, bool]] = field(default_factory=set)  # (file, as constraints)
    header: list[str] = field(default_factory=list)  # the top file's first lines


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


@dataclass(frozen=True)
class _Where:
    """The line being read, and the ``${VAR}`` values expanded into it (never shown)."""

    path: Path
    number: int
    secrets: Mapping[str, str] = field(default_factory=dict)  # expanded value -> "${NAME}"

    def hide(self, text: str) -> str:
        """``text`` with every expanded value put back as the ``${NAME}`` it came from."""
        for value in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(value, self.secrets[value])
        return text

    def quote(self, text: str) -> str:
        """A short, sanitised excerpt of ``text`` for an error, expanded values hidden."""
        return excerpt(self.hide(text))

    def fail(self, message: str) -> InputError:
        return InputError(self.path, message, self.number)


def project_root(top: Path) -> Path:
    """The folder includes may not leave when the caller names none.

    The nearest enclosing git work tree; else the working directory when the
    file is inside it (and it is not ``/`` or the home folder); else the file's
    own folder.
    """
    for folder in top.parents:
        if (folder / ".git").exists():
            return folder
    cwd = Path.cwd().resolve()
    if top.is_relative_to(cwd) and cwd not in (Path(cwd.anchor), Path.home().resolve()):
        return cwd
    return top.parent


def parse_requirements(
    path: Path, env: Mapping[str, str] | None = None, *, root: Path | None = None
) -> DependencySource:
    """Read a requirements file and everything it includes into one dependency source.

    ``root`` is the folder that includes must stay inside (the project, or the
    folder the user named); by default ``project_root(path)``.
    """
    top = path.resolve()
    base = (root or project_root(top)).resolve()
    state = _State(env=os.environ if env is None else env, root=base)
    _read_file(top, state, stack=(), constraint=False)
    packages = _apply_constraints(state.packages, state.constraints)
    hashed = state.require_hashes or any(p.has_hash for p in packages)
    return DependencySource(
        path=top,
        format=SourceFormat.REQUIREMENTS,
        packages=tuple(packages),
        indexes=tuple(state.indexes),
        require_hashes=hashed,
        generated_from=_generated_from(top, state.header, base),
        includes=tuple(sorted(state.files_read - {top})),
    )


def _read_file(path: Path, state: _State, stack: tuple[Path, ...], constraint: bool) -> None:
    if len(stack) > MAX_INCLUDE_DEPTH:
        raise InputError(stack[-1], f"includes nested deeper than {MAX_INCLUDE_DEPTH} files")
    if (path, constraint) in state.visits:
        return  # read once per run: what it adds is already there
    if path not in state.files_read and len(state.files_read) >= MAX_INCLUDED_FILES:
        raise InputError(stack[-1], f"more than {MAX_INCLUDED_FILES} included files")
    state.visits.add((path, constraint))
    state.files_read.add(path)
    text = read_text(path)
    if not stack:
        state.header = text.splitlines()[:HEADER_LINES]
    for line in _logical_lines(path, text):
        expanded, secrets = _expand(line.text, state.env)
        where = _Where(path, line.number, secrets)
        marks = (len(state.packages), len(state.constraints), len(state.indexes))
        try:
            _handle_line(where, expanded.strip(), state, (*stack, path), constraint)
        except InputError as exc:
            if not secrets:
                raise
            raise InputError(exc.path, where.hide(exc.message), exc.line) from None
        if secrets:
            _hide_expanded(state, marks, where)


def _expand(text: str, env: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Expand ``${NAME}`` (upper case, digits, ``_``) as pip does; unset names stay as written."""
    secrets: dict[str, str] = {}

    def value_of(match: re.Match[str]) -> str:
        value = env.get(match.group(1))
        if value is None:
            return match.group(0)
        if value:
            secrets[value] = match.group(0)
        return value

    return _ENV_VAR.sub(value_of, text), secrets


def _hide_expanded(state: _State, marks: tuple[int, int, int], where: _Where) -> None:
    """Put ``${NAME}`` back into the URLs a line added: an expanded token is never kept."""
    for items, start in ((state.packages, marks[0]), (state.constraints, marks[1])):
        for i in range(start, len(items)):
            if items[i].source is not None:
                items[i] = replace(items[i], source=where.hide(items[i].source or ""))
    for i in range(marks[2], len(state.indexes)):
        state.indexes[i] = replace(state.indexes[i], value=where.hide(state.indexes[i].value))


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment: at the start, or after whitespace (pip's ``(^|\\s+)#.*$``).

    A scan instead of pip's regex, which backtracks quadratically on a long run
    of spaces without a ``#``.
    """
    index = line.find("#")
    while index > 0 and not line[index - 1].isspace():
        index = line.find("#", index + 1)
    return line if index < 0 else line[:index]


def _logical_lines(path: Path, text: str) -> Iterator[_Line]:
    """Join continuations and strip comments, keeping the first physical line number."""
    pending: list[str] = []
    pending_length = 0
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
            pending_length = 0
        if raw.lstrip().startswith("#"):
            # A comment line ends a continuation, as in pip.
            if pending:
                yield _Line(start, _strip_comment(" ".join(pending)))
                pending = []
            continue
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pending.append(raw[:-1])
            pending_length += len(raw)  # a running total: summing the list each time was quadratic
            if pending_length > MAX_LOGICAL_LINE:
                raise InputError(path, "continued line is too long", start)
            continue
        pending.append(raw)
        joined = _strip_comment(" ".join(pending)).strip()
        pending = []
        if joined:
            yield _Line(start, joined)
    if pending:
        joined = _strip_comment(" ".join(pending)).strip()
        if joined:
            yield _Line(start, joined)


def _split_options(where: _Where, text: str) -> tuple[str, list[str]]:
    """Split a line into the requirement part and its option tokens, as pip does.

    Like pip, only the options are shell-split (markers would not survive it).
    """
    tokens = text.split()
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), _shell_split(where, tokens[i:])
    return " ".join(tokens), []


def _shell_split(where: _Where, tokens: list[str]) -> list[str]:
    """pip's ``shlex.split`` of the options, only where quoting can change the words.

    shlex builds each word a character at a time (quadratic on a long word), so
    plain words are split on whitespace and quoted text is bounded.
    """
    if not any(quote in token for token in tokens for quote in "'\"\\"):
        return tokens
    text = " ".join(tokens)
    if len(text) > MAX_QUOTED_OPTIONS:
        raise where.fail(f"quoted options longer than {MAX_QUOTED_OPTIONS:,} characters")
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise where.fail(f"cannot split the options: {exc}") from None


def _parse_options(where: _Where, tokens: list[str]) -> list[tuple[str, str]]:
    """Turn ``--opt value``, ``--opt=value`` and ``-rvalue`` tokens into pairs.

    A word after the options that no option takes (``--only-binary=:all: URL``)
    is ignored, as pip's option parser ignores it: pip installs nothing from it.
    """
    options: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("-"):
            continue  # a stray positional word: pip drops it too
        name, value = token, ""
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        elif not token.startswith("--") and len(token) > 2 and token[:2] in _FILE_OPTIONS:
            name, value = token[:2], token[2:]
        if name not in _FILE_OPTIONS:
            raise where.fail(f"unknown option {where.quote(name)}")
        takes_value = _FILE_OPTIONS[name]
        if takes_value and not value:
            if i >= len(tokens):
                raise where.fail(f"option {name} needs a value")
            value = tokens[i]
            i += 1
        elif not takes_value and value:
            raise where.fail(f"option {name} takes no value")
        options.append((name, value))
    return options


def _handle_line(
    where: _Where,
    text: str,
    state: _State,
    stack: tuple[Path, ...],
    constraint: bool,
) -> None:
    requirement_text, option_tokens = _split_options(where, text)
    options = _parse_options(where, option_tokens)
    location = Location(where.path, where.number)
    if requirement_text:
        bad = [name for name, _ in options if name not in _PER_REQUIREMENT_OPTIONS]
        if bad:
            raise where.fail(f"option {bad[0]} cannot follow a requirement")
        hashes = _parse_hashes(where, [v for n, v in options if n == "--hash"])
        package = _parse_requirement(where, requirement_text, hashes)
        (state.constraints if constraint else state.packages).append(package)
        return
    for name, value in options:
        if name in _PER_REQUIREMENT_OPTIONS:
            raise where.fail(f"option {name} must follow a requirement")
        if name in ("-r", "--requirement", "-c", "--constraint"):
            is_constraint = constraint or name in ("-c", "--constraint")
            _include(where, value, state, stack, is_constraint)
        elif name in ("-e", "--editable"):
            package = _parse_url_or_path(where, value, {}, editable=True)
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
    where: _Where,
    value: str,
    state: _State,
    stack: tuple[Path, ...],
    constraint: bool,
) -> None:
    scheme = urlsplit(value).scheme.lower()
    if scheme in ("http", "https", "ftp"):
        location = Location(where.path, where.number)
        state.indexes.append(IndexSetting("remote-include", value, location))
        return
    target = Path(unquote(value[len("file://") :])) if scheme == "file" else Path(value)
    if not target.is_absolute():
        target = where.path.parent / target
    target = target.resolve()  # symlinks followed: where the bytes really are
    if not target.is_relative_to(state.root):
        # Refused before it is opened: a hostile file must not learn whether
        # /etc/shadow exists, let alone have its first line printed.
        raise where.fail(f"include {where.quote(value)} is outside the project folder {state.root}")
    if target in stack:
        chain = " -> ".join(p.name for p in (*stack[stack.index(target) :], target))
        raise where.fail(f"include cycle: {chain}")
    if not target.is_file():
        raise where.fail(f"included file not found: {where.quote(value)}")
    _read_file(target, state, stack, constraint)


def _parse_hashes(where: _Where, values: list[str]) -> dict[str, tuple[str, ...]]:
    hashes: dict[str, list[str]] = {}
    for value in values:
        algo, sep, digest = value.partition(":")
        algo = algo.lower()
        if not sep or not digest:
            raise where.fail(f"--hash must be ALGORITHM:DIGEST, got {where.quote(value)}")
        if algo not in _HASH_ALGORITHMS:
            raise where.fail(f"unknown hash algorithm {where.quote(algo)}")
        hashes.setdefault(algo, []).append(digest.lower())
    return {algo: tuple(digests) for algo, digests in hashes.items()}


def _parse_requirement(
    where: _Where, text: str, hashes: dict[str, tuple[str, ...]]
) -> LockedPackage:
    location = Location(where.path, where.number)
    if _looks_like_url_or_path(text):
        return _parse_url_or_path(where, text, hashes, editable=False)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        # packaging's message quotes the whole line: keep only its first words.
        reason = where.quote(first.split(":", 1)[0]) if ":" in first else "not PEP 508"
        raise where.fail(f"invalid requirement {where.quote(text)}: {reason}") from None
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


# PEP 508 "name [extras] @": one optional extras group between two runs of spaces
# that cannot trade characters (no quadratic backtracking on long space runs).
_NAME_AT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\]\s*)?@")


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


def _parse_url_or_path(
    where: _Where,
    text: str,
    hashes: dict[str, tuple[str, ...]],
    editable: bool,
) -> LockedPackage:
    location = Location(where.path, where.number)
    target, _, marker_text = text.partition(" ;")
    if not marker_text and ";" in target and "://" not in target:
        target, _, marker_text = target.partition(";")
    target = target.strip()
    markers = marker_text.strip() or None
    extras: tuple[str, ...] = ()
    if target.endswith("]") and "://" not in target and "[" in target:
        opening = target.rindex("[")
        inner = target[opening + 1 : -1]
        extras = tuple(sorted(e.strip() for e in inner.split(",") if e.strip()))
        target = target[:opening]
    named = _name_from_target(target)
    if named is None:
        raise where.fail(f"cannot tell the project name of {where.quote(target)} (add #egg=NAME)")
    name, version = named
    return _url_package(location, name, target, hashes, markers, extras, editable, version)


def _url_package(
    location: Location,
    name: str,
    url: str,
    hashes: dict[str, tuple[str, ...]],
    markers: str | None,
    extras: tuple[str, ...],
    editable: bool,
    version: str | None = None,
) -> LockedPackage:
    split = urlsplit(url)
    fragment_hashes = dict(hashes)
    for part in split.fragment.split("&"):
        algo, _, digest = part.partition("=")
        if algo.lower() in _HASH_ALGORITHMS and digest:
            fragment_hashes.setdefault(algo.lower(), ())
            fragment_hashes[algo.lower()] = (*fragment_hashes[algo.lower()], digest.lower())
    version = _version_from_filename(split.path) or version
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


def _name_from_target(target: str) -> tuple[str, str | None] | None:
    """The project name (and version, when the URL says) of a bare URL or path."""
    split = urlsplit(target)
    named = _name_from_fragment(split.fragment)
    if named is not None:
        return named
    filename = unquote(split.path.rstrip("/").rsplit("/", 1)[-1])
    if filename.endswith(".whl"):
        try:
            wheel = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        return str(wheel[0]), str(wheel[1])
    try:
        sdist = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        pass
    else:
        return str(sdist[0]), str(sdist[1])
    if split.scheme in ("", "file") and filename and not target.startswith(_VCS_SCHEMES):
        return canonicalize_name(Path(filename).name), None
    repository = _repository_name(target, split.path)
    if repository is not None:
        return repository, None
    return None


def _repository_name(target: str, path: str) -> str | None:
    """The repository's name, for a VCS URL or a forge archive URL that names no project.

    pip learns the name only by building the project; bastion never builds, so
    ``git+https://github.com/celery/kombu.git`` is read as ``kombu`` (celery's
    requirements/dev.txt has three such lines) and ``…/o/repo/archive/main.zip``
    as ``repo``. The name may differ from the real one; the VCS and URL rules
    report the line either way.
    """
    parts = [unquote(p) for p in path.split("/") if p]
    if target.startswith(_VCS_SCHEMES):
        candidate = parts[-1].split("@", 1)[0] if parts else ""
    elif len(parts) >= 4 and parts[2] == "archive":
        candidate = parts[1]
    else:
        return None
    candidate = candidate.removesuffix(".git")
    return canonicalize_name(candidate) if _PROJECT_NAME.fullmatch(candidate) else None


def _name_from_fragment(fragment: str) -> tuple[str, str | None] | None:
    """``#egg=name``, ``#egg=name==1.0``, pip's legacy ``#egg=name-1.0`` and ``#name==1.0``.

    Legacy pip split an egg fragment's version off at the first ``-`` followed
    by a digit or ``dev`` (``package_to_requirement``); a fragment that is
    itself ``name==version`` names the project the same way.
    """
    for part in fragment.split("&"):
        key, equals, value = part.partition("=")
        if key == "egg" and equals:
            spec = value.split("[", 1)[0].strip()
        elif "==" in part and not part.startswith(("subdirectory=", "egg=")):
            spec = part.strip()
        else:
            continue
        name, version = _split_egg(spec)
        if _PROJECT_NAME.fullmatch(name):
            return canonicalize_name(name), version
    return None


def _split_egg(spec: str) -> tuple[str, str | None]:
    name, equals, pinned = spec.partition("==")
    if equals:
        return name.strip(), _valid_version(pinned.strip())
    index = spec.find("-")
    while index >= 0:
        if spec[index + 1 : index + 2].isdigit() or spec.startswith("dev", index + 1):
            version = _valid_version(spec[index + 1 :])
            return (spec[:index], version) if version is not None else (spec, None)
        index = spec.find("-", index + 1)
    return spec, None


def _valid_version(text: str) -> str | None:
    try:
        return str(Version(text))
    except InvalidVersion:
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


def _generated_from(path: Path, head: list[str], root: Path) -> tuple[Path, ...]:
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
                candidate = _nearest(path.parent, token)
                if candidate.is_relative_to(root):  # a header naming /etc/... is ignored
                    inputs.append(candidate)
    return tuple(inputs)


def _nearest(folder: Path, relative: str, levels: int = 3) -> Path:
    for base in (folder, *list(folder.parents)[:levels]):
        candidate = (base / relative).resolve()
        if candidate.exists():
            return candidate
    return (folder / relative).resolve()
