"""Where bastion keeps what it caches for the user: one folder, named in one place.

The advisory database, the typosquat tables, downloaded artifacts (``inspect/``),
actions fetched with ``--online`` (``actions/``) and an updated Sigstore root all
live in it.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$BASTION_CACHE_DIR``, else ``$XDG_CACHE_HOME/bastion``, else ``~/.cache/bastion``."""
    base = os.environ.get("BASTION_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "bastion"
