"""The rules of the ``index-confusion`` control: metadata only, importable without the control."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "index-confusion"
_HELP = f"{DOCS}/layers/names.md#dependency-confusion-index-confusion"
register(
    Rule(
        "index-confusion",
        "IndexConfusion",
        "A package may be resolved from more than one index.",
        "With `--extra-index-url` pip merges every index and installs the highest version "
        "it finds anywhere, so anyone who registers an internal package name on PyPI wins "
        "(dependency confusion). Serve everything from one index (a proxy), or pin each "
        "internal package to its index (uv `[tool.uv.sources]` with an `explicit = true` "
        'index; Poetry `source = ...` with `priority = "explicit"`).',
        Severity.HIGH,
        "typosquat",
        CONTROL,
        _HELP,
    ),
    Rule(
        "internal-name-unclaimed",
        "InternalNameUnclaimed",
        "A package locked from a private index has no project of that name on the public index.",
        "Anyone can register the name on the public index; a resolver that falls through to "
        "it installs theirs. Register a placeholder project under the name, and pin the package "
        "to its index.",
        Severity.HIGH,
        "typosquat",
        CONTROL,
        _HELP,
    ),
)
