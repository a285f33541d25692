"""The one TOML parser bastion uses: tomli when it is installed, else the standard tomllib.

tomli 2.5 ships mypyc-compiled wheels for CPython 3.11+ that parse a large
uv.lock two to three times faster than tomllib (tomllib is tomli's pure-Python
code vendored into the standard library). Both raise ``TOMLDecodeError`` (a
``ValueError``) with ``(at line N, column M)`` in the message, ``RecursionError``
on deep nesting (tomli at 400 levels, tomllib at the interpreter's recursion
limit) and ``ValueError`` from ``int()`` on integer literals over 4,300 digits:
``safe_read.parse_toml`` turns each into bastion's one-line error.

tomli 2.5 reads TOML 1.1, a superset of the TOML 1.0 tomllib reads in Python
3.11 (newlines and a trailing comma in inline tables, ``\\xHH`` and ``\\e``
escapes, times without seconds): a document both accept gives the same values
(tested with hypothesis).
"""

from __future__ import annotations

from typing import Any

try:
    import tomli as _parser
except ImportError:  # pragma: no cover - tomli is a dependency; tomllib is the fallback
    import tomllib as _parser  # type: ignore[no-redef]

TOMLDecodeError = _parser.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text (no bounds of its own: callers read through ``safe_read``)."""
    return _parser.loads(text)


def implementation() -> str:
    """Which parser runs: ``tomli X (compiled)``, ``tomli X (pure Python)`` or ``tomllib``."""
    if _parser.__name__ == "tomllib":
        return "tomllib"
    import importlib.metadata

    from tomli import _parser as inner

    compiled = not (inner.__file__ or "").endswith(".py")
    version = importlib.metadata.version("tomli")
    return f"tomli {version} ({'compiled' if compiled else 'pure Python'})"
