"""Which step runs code from a checked-out tree (a pull request's, in a pwn-request).

A setup step (``actions/setup-node``, a cache, an artifact upload) runs no
code of the checkout. A build tool, a package manager, a test runner, a
script of the repository, a local action or an unknown action working in the
workspace does: they load the tree's code or its configuration (a
``conftest.py``, a ``.prettierrc.js``, a ``Makefile``). A checkout into a
subfolder is executed only by a step that works in that folder or calls a file
from it; a sparse checkout of data folders only is never executed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from bastion._internal.workflows.flow import Site

# first words of commands that read files but run nothing of the checkout
INERT_COMMANDS = frozenset(
    {
        "echo",
        "printf",
        "gh",
        "cat",
        "ls",
        "mkdir",
        "cp",
        "mv",
        "rm",
        "test",
        "[",
        "[[",
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "do",
        "done",
        "while",
        "export",
        "cd",
        "jq",
        "yq",
        "curl",
        "wget",
        "sleep",
        "true",
        "false",
        "exit",
        "set",
        "shopt",
        "git",
        "grep",
        "sed",
        "awk",
        "head",
        "tail",
        "wc",
        "sort",
        "uniq",
        "diff",
        "find",
        "tee",
        "touch",
        "chmod",
        "date",
        "env",
        "pwd",
        "base64",
        "sha256sum",
        "shasum",
        "tar",
        "unzip",
        "zip",
        "gzip",
        "basename",
        "dirname",
        "read",
        "local",
        "declare",
        "return",
        "{",
        "}",
        "(",
        ")",
        "case",
        "esac",
        "shift",
        "xargs",
        "tr",
        "cut",
        "readlink",
        "realpath",
        "column",
    }
)
# tools that read the workspace (and its configuration files) but load no code from it
READING_TOOLS = frozenset(
    {
        "ruff",
        "codespell",
        "typos",
        "shellcheck",
        "actionlint",
        "zizmor",
        "lychee",
        "hadolint",
        "yamllint",
        "gitleaks",
        "trufflehog",
        "black",
        "isort",
        "docformatter",
        "mdformat",
    }
)
# actions that set up tools or move files; they run nothing of the workspace
INERT_ACTIONS = frozenset(
    {
        "actions/checkout",
        "actions/cache",
        "actions/upload-artifact",
        "actions/download-artifact",
        "actions/github-script",
        "actions/labeler",
        "actions/create-github-app-token",
        "actions/stale",
        "actions/attest-build-provenance",
        "actions/attest",
        "haya14busa/action-cond",
        "docker/login-action",
        "docker/setup-buildx-action",
        "docker/setup-qemu-action",
        "docker/metadata-action",
        "peter-evans/create-or-update-comment",
        "peter-evans/find-comment",
        "marocchino/sticky-pull-request-comment",
        "thollander/actions-comment-pull-request",
        "aws-actions/configure-aws-credentials",
        "google-github-actions/auth",
    }
)
_SETUP = re.compile(r"^(actions|astral-sh|pnpm|oven-sh|denoland|dtolnay|ruby)/setup-")
_COMMAND_SPLIT = re.compile(r"&&|\|\||[;|]|\$\(|`|\n")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_CODE_FILE = re.compile(
    r"\.(py|sh|js|mjs|cjs|ts|rb|pl|ps1|bat|cmd|jar)$|^(src|scripts?|bin|tools?|\.)$"
)


@dataclass(frozen=True, slots=True)
class Tree:
    """A checkout: where it lands (``""``: the workspace) and its sparse paths (``()``: all)."""

    path: str
    sparse: tuple[str, ...] = ()

    @property
    def data_only(self) -> bool:
        """A sparse checkout of folders and files that hold no code."""
        return bool(self.sparse) and not any(_CODE_FILE.search(p.strip("/")) for p in self.sparse)


def tree_of(site: Site) -> Tree:
    """The tree an ``actions/checkout`` step writes."""
    with_ = site.step.with_
    path = with_.get("path")
    folder = path.value.strip().strip("/").removeprefix("./") if path is not None else ""
    if folder in (".", "${{ github.workspace }}"):
        folder = ""
    sparse = with_.get("sparse-checkout")
    entries = tuple(p.strip() for p in sparse.value.splitlines() if p.strip()) if sparse else ()
    return Tree(folder, entries)


def commands(script: str) -> list[list[str]]:
    """The words of each command of a shell script.

    Assignments, ``sudo`` and ``env`` prefixes are skipped; ``NAME=value`` commands
    are remembered and ``$NAME`` expanded in later words (``pip install $packages``).
    """
    found = []
    variables: dict[str, str] = {}
    joined = re.sub(r"\\\n", " ", script)  # continued lines
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        for command in _COMMAND_SPLIT.split(stripped):
            parts = _words(command, variables)
            while parts and (_ASSIGNMENT.match(parts[0]) or parts[0] in _PREFIXES):
                if _ASSIGNMENT.match(parts[0]) and len(parts) == 1 and len(variables) < 100:
                    name, _, value = parts[0].partition("=")
                    if len(value) <= MAX_VARIABLE:  # a="$a$a" repeated must not grow without end
                        variables[name] = value
                parts = parts[1:]
            if parts and parts[0]:
                found.append(parts)
    return found


MAX_VARIABLE = 2_000
_PREFIXES = frozenset({"sudo", "time", "!", "env", "exec", "nohup"})
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _words(command: str, variables: dict[str, str]) -> list[str]:
    """Shell words of one command, known variables expanded (unbalanced quotes: by spaces)."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        words = [w.strip("\"'") for w in command.split()]
    expanded: list[str] = []
    for word in words:
        whole = _REFERENCE.fullmatch(word)
        if whole is not None and whole.group(1) in variables:
            expanded.extend(variables[whole.group(1)].split())
            continue
        expanded.append(_REFERENCE.sub(lambda m: variables.get(m.group(1), m.group(0)), word))
    return expanded


def command_words(script: str) -> list[str]:
    """The first word of each command of a shell script."""
    return [words[0] for words in commands(script)]


def runs_code(words: list[str], installed: frozenset[str] = frozenset()) -> bool:
    """Whether a command may run code (or load code-bearing configuration) of the workspace.

    Reading commands and linters that load no code do not; neither does installing
    named packages from an index (``pip install build twine``): only local paths,
    requirement files and editable installs read the tree. A command of a package
    ``installed`` from an index earlier in the job (its name, or the name and a
    dash) does not either, unless it is a runner that loads the tree's code
    (``pytest``, ``tox``, ``mkdocs``, ...).
    """
    first = words[0]
    if first in INERT_COMMANDS or first in READING_TOOLS:
        return False
    install = _install_targets(words)
    if install is not None:
        return any(_local_target(t) for t in install)
    lowered = first.lower()
    if lowered in TREE_LOADERS:
        return True
    return not any(lowered == name or lowered.startswith(name + "-") for name in installed)


def installed_from_index(scripts: Iterable[str]) -> frozenset[str]:
    """The package names the scripts install from an index (``pip install NAME``)."""
    names: set[str] = set()
    for script in scripts:
        for words in commands(script):
            targets = _install_targets(words)
            for target in targets or ():
                if not _local_target(target) and not target.startswith("./-"):
                    names.add(re.split(r"[<>=!~\[;@ ]", target, maxsplit=1)[0].lower())
    names.discard("")
    return frozenset(names)


# runners that load code or plugins of the tree they run in, wherever they were installed from
TREE_LOADERS = frozenset(
    {
        "pytest",
        "py.test",
        "tox",
        "nox",
        "pre-commit",
        "prek",
        "mkdocs",
        "sphinx-build",
        "hatch",
        "pdm",
        "poetry",
        "flit",
        "mypy",
        "pylint",
        "flake8",
        "coverage",
        "invoke",
        "python",
        "python3",
        "pip",
        "pip3",
        "uv",
        "uvx",
        "pipx",
        "npm",
        "npx",
        "yarn",
        "pnpm",
        "node",
        "make",
    }
)


def _install_targets(words: list[str]) -> list[str] | None:
    """The targets of ``pip install``/``uv pip install``/``pipx install`` (``None``: not one)."""
    rest = words
    if rest[0] in ("python", "python3") and rest[1:3] == ["-m", "pip"]:
        rest = ["pip", *rest[3:]]
    if rest[0] == "uv" and rest[1:2] == ["pip"]:
        rest = rest[1:]
    if rest[0] not in ("pip", "pip3", "pipx") or rest[1:2] != ["install"]:
        return None
    targets: list[str] = []
    skip = False
    for word in rest[2:]:
        if skip:
            skip = False
            continue
        if word in ("-r", "--requirement", "-e", "--editable", "-c", "--constraint"):
            targets.append("./" + word)  # reads a file of the tree
            skip = True
            continue
        if word.startswith(("--requirement=", "--editable=", "--constraint=")):
            targets.append("./" + word)
            continue
        if word.startswith("-"):
            skip = word in _INSTALL_OPTIONS_WITH_VALUE
            continue
        targets.append(word)
    return targets


_INSTALL_OPTIONS_WITH_VALUE = frozenset(
    {"-i", "--index-url", "--extra-index-url", "--default-index", "--python", "-t", "--target"}
)


def _local_target(target: str) -> bool:
    return target.startswith((".", "/", "~")) or "/" in target or "$" in target


def executes(
    site: Site, tree: Tree, expanded: bool = False, installed: frozenset[str] = frozenset()
) -> bool:
    """Whether ``site`` runs code (or loads configuration) from ``tree``.

    ``expanded``: the step calls a composite action whose own steps follow it, so
    they are judged instead. ``installed``: packages the job installed from an index.
    """
    if tree.data_only:
        return False
    step = site.step
    uses = step.uses_ref
    if uses is not None:
        if uses.kind == "local":
            return not tree.path or uses.subpath.startswith(tree.path + "/")
        if uses.kind == "docker" or expanded:
            return False
        if uses.slug in INERT_ACTIONS or _SETUP.match(uses.slug):
            return False
        return not tree.path  # an unknown action works in the workspace
    if step.run is None:
        return False
    if step.shell is not None and step.shell.split()[0] in ("python", "pwsh", "powershell"):
        return not tree.path  # the workspace is on sys.path / the module path
    script = step.run.value
    if tree.path:
        working = (step.working_directory or "").strip().removeprefix("./").strip("/")
        inside = working == tree.path or working.startswith(tree.path + "/")
        if not inside:
            return _calls_into(script, tree.path)
    return any(runs_code(words, installed) for words in commands(script))


def _calls_into(script: str, folder: str) -> bool:
    """The script enters ``folder`` and runs something there, or runs a file of it."""
    name = re.escape(folder)
    entered = re.search(rf"(?:^|[\s;&(])cd\s+[\"']?(?:\./)?{name}(?:/[^\s;&]*)?[\"']?", script)
    if entered is not None:
        rest = script[entered.end() :]
        if any(runs_code(words) for words in commands(rest)):
            return True
    runs_file = re.compile(
        rf"(?:^|[\s;&|(])(?:(?:bash|sh|zsh|python3?|node|source|\.|ruby|perl)\s+)?"
        rf"[\"']?(?:\./)?{name}/\S+"
    )
    for line in script.splitlines():
        for command in _COMMAND_SPLIT.split(line):
            stripped = command.strip()
            match = runs_file.match(stripped)
            if match is not None and match.start() == 0:
                return True
            if re.match(
                rf"(pip3?|uv\s+pip|python3?\s+-m\s+pip)\s+install\b[^\n]*?(?:\./)?{name}\b",
                stripped,
            ):
                return True
            if re.match(
                rf"(make|npm|pnpm|yarn)\b[^\n]*(-C|--prefix|--cwd|--dir)\s+{name}\b", stripped
            ):
                return True
    return False
