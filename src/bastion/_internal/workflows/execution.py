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
    """The words of each command of a shell script (assignments and ``sudo`` skipped)."""
    found = []
    joined = re.sub(r"\\\n", " ", script)  # continued lines
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        for command in _COMMAND_SPLIT.split(stripped):
            parts = [w.strip("\"'") for w in command.strip().split()]
            while parts and (_ASSIGNMENT.match(parts[0]) or parts[0] in ("sudo", "time", "!")):
                parts = parts[1:]
            if parts and parts[0]:
                found.append(parts)
    return found


def command_words(script: str) -> list[str]:
    """The first word of each command of a shell script."""
    return [words[0] for words in commands(script)]


def runs_code(words: list[str]) -> bool:
    """Whether a command may run code (or load code-bearing configuration) of the workspace.

    Reading commands and linters that load no code do not; neither does installing
    named packages from an index (``pip install build twine``): only local paths,
    requirement files and editable installs read the tree.
    """
    first = words[0]
    if first in INERT_COMMANDS or first in READING_TOOLS:
        return False
    install = _install_targets(words)
    if install is not None:
        return any(_local_target(t) for t in install)
    return True


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


def executes(site: Site, tree: Tree, expanded: bool = False) -> bool:
    """Whether ``site`` runs code (or loads configuration) from ``tree``.

    ``expanded``: the step calls a composite action whose own steps follow it, so
    they are judged instead.
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
    return any(runs_code(words) for words in commands(script))


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
