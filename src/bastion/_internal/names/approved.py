"""The approved-package list: a file of names, one per line (``#`` comments allowed)."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.errors import InputError
from bastion._internal.names.typosquat import validate
from bastion._internal.safe_read import read_text

HEADER = (
    "# Approved packages: bastion reports every locked package not listed here.\n"
    "# Written by 'bastion names approve'; review additions like code.\n"
)


def read_names(path: Path) -> list[tuple[str, int]]:
    """(canonical name, line) for every name in a one-name-per-line file."""
    names = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        text = (line.partition("#")[0] if "#" in line else line).strip()
        if not text:
            continue
        try:
            names.append((validate(text), number))
        except ValueError as exc:
            raise InputError(path, str(exc), number) from None
    return names


def read_approved(path: Path) -> frozenset[str]:
    """The approved names in a file."""
    return frozenset(name for name, _ in read_names(path))


def render_approved(names: set[str]) -> str:
    """The file text for a set of approved names, sorted."""
    return HEADER + "".join(f"{name}\n" for name in sorted(names))
