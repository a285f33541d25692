"""The version of bastion (kept equal to pyproject.toml's by a test).

A constant rather than ``importlib.metadata``: reading installed metadata costs
about 20 ms at every start, a tenth of a whole audit.
"""

from __future__ import annotations

VERSION = "0.1.0"
