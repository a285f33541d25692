"""The ``bastion`` command. Thin: each command group lives in its own module and is
imported only when it runs (``bastion --help`` imports none of them).

Exit codes: 0 clean, 1 findings at or above the threshold, 2 incomplete
(something could not be checked), 3 usage or input error.

A new command group is one module here and one line in ``COMMANDS``.

``bastion --help`` and ``bastion --version`` are answered without importing
click when the help would be laid out at click's full width (80 columns or
more): the text is the one click prints (tested), made from ``COMMANDS`` and
``DESCRIPTION``. Everything else runs through ``group.py``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

EXIT_INCOMPLETE = 2
EXIT_USAGE = 3

# name -> (module under bastion._internal.cli, attribute, one-line help for `bastion --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("check", "check", "Run every layer on PATH and print the threat coverage matrix."),
    "audit": ("audit", "audit", "Audit pinned packages against the offline advisory database."),
    "workflows": ("workflows", "workflows", "Audit the GitHub Actions workflows of PATH."),
    "sbom": ("sbom", "sbom", "Generate a CycloneDX SBOM, or check any SBOM's elements."),
    "inventory": ("inventory", "inventory", "Which service release ships which component."),
    "db": ("db", "db", "The offline advisory database (OSV records for PyPI)."),
    "names": ("names", "names", "Judge package names: look-alikes, the approved list."),
    "inspect": (
        "inspect",
        "inspect",
        "Inspect wheels and sdists for install- and import-time payloads.",
    ),
    "proxy": (
        "proxy",
        "proxy",
        "A package index that holds new releases back and verifies every byte.",
    ),
    "provenance": (
        "provenance",
        "provenance",
        "Verify PEP 740 attestations and publisher continuity.",
    ),
    "watch": ("watch", "watch", "Run a command and watch its process tree for payloads."),
}


DESCRIPTION = """Defend a Python project's supply chain in depth.

Exit codes: 0 clean, 1 findings at or above the threshold, 2 incomplete
(a layer could not run), 3 usage or input error.
"""
_HELP_FLAGS = (["--help"], ["-h"])
_HELP_WIDTH = 78  # click's layout width at 80 columns or more


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command line and return the exit code (no tracebacks)."""
    quick = quick_answer(sys.argv[1:] if argv is None else argv)
    if quick is not None:
        sys.stdout.write(quick)
        sys.stdout.flush()
        return 0
    from bastion._internal.cli.group import run_click

    return run_click(argv)


def quick_answer(argv: list[str]) -> str | None:
    """What ``bastion --help``/``-h``/``--version`` print, or ``None`` (let click answer)."""
    if argv == ["--version"]:
        from bastion._internal.version import VERSION

        return f"bastion, version {VERSION}\n"
    if argv not in _HELP_FLAGS or _columns() < _HELP_WIDTH + 2:
        return None
    import textwrap

    def paragraphs(text: str) -> list[str]:
        return [
            textwrap.fill(
                " ".join(block.split()), _HELP_WIDTH, initial_indent="  ", subsequent_indent="  "
            )
            for block in text.strip().split("\n\n")
        ]

    def definitions(rows: list[tuple[str, str]]) -> list[str]:
        first = min(max(len(term) for term, _ in rows), 30) + 2
        lines = []
        for term, text in rows:
            wrapped = textwrap.wrap(text, max(_HELP_WIDTH - first - 2, 10))
            if len(term) <= first - 2:
                lines.append(f"  {term.ljust(first)}{wrapped[0]}")
            else:
                lines += [f"  {term}", " " * (first + 2) + wrapped[0]]
            lines += [" " * (first + 2) + rest for rest in wrapped[1:]]
        return lines

    options = [
        ("--version", "Show the version and exit."),
        ("-h, --help", "Show this message and exit."),
    ]
    commands = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
    lines = [
        "Usage: bastion [OPTIONS] COMMAND [ARGS]...",
        "",
        "\n\n".join(paragraphs(DESCRIPTION)),
        "",
        "Options:",
        *definitions(options),
        "",
        "Commands:",
        *definitions(commands),
    ]
    return "\n".join(lines) + "\n"


def _columns() -> int:
    """The terminal width click would use (``shutil.get_terminal_size``, without shutil)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def __getattr__(name: str) -> Any:
    """``cli`` (the click group) and ``LazyGroup``, imported on first use."""
    if name in ("cli", "LazyGroup", "run_click"):
        from bastion._internal.cli import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# True when the console script owns this process (``run``): process-wide tuning such as the
# garbage collector's (``common.relax_garbage_collection``) is then allowed. ``main`` called
# in-process (tests, embedding) leaves the process as it found it.
OWNS_PROCESS = False


def run() -> None:
    """Console-script entry point."""
    global OWNS_PROCESS
    OWNS_PROCESS = True
    sys.exit(main())
