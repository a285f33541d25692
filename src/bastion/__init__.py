"""bastion: defend a Python project's supply chain in depth.

The public API is small::

    import bastion
    report = bastion.check("path/to/project")
    report.exit_code, report.findings, report.coverage
    vulnerable = bastion.audit("path/to/project")   # the advisory layer alone

Everything under ``bastion._internal`` may change without notice.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

from bastion._internal.errors import BastionError, ConfigError, InputError
from bastion._internal.version import VERSION as __version__  # noqa: N811

if TYPE_CHECKING:
    from bastion._internal.model import (
        ControlResult,
        ControlStatus,
        Coverage,
        Finding,
        Location,
        LockedPackage,
        Report,
        Severity,
        ThreatCoverage,
    )

# The model is imported on first use, so that `bastion --help` and commands that
# never build a report do not pay for it.
_MODEL_NAMES = frozenset(
    {
        "ControlResult",
        "ControlStatus",
        "Coverage",
        "Finding",
        "Location",
        "LockedPackage",
        "Report",
        "Severity",
        "ThreatCoverage",
    }
)


def __getattr__(name: str) -> Any:
    if name in _MODEL_NAMES:
        from bastion._internal import model

        return getattr(model, name)
    raise AttributeError(f"module 'bastion' has no attribute {name!r}")


def check(
    path: str | PathLike[str] = ".", *, fail_on: Severity | None = None, online: bool = False
) -> Report:
    """Run every available layer on the project at ``path`` and return the report.

    ``online`` lets the index-confusion and cooldown layers ask the package
    index (unclaimed internal names, upload times). Raises ``InputError`` or
    ``ConfigError`` (both ``BastionError``) for bad input; never executes code
    from the project.
    """
    from pathlib import Path

    from bastion._internal.engine import run_check

    return run_check(Path(path), fail_on=fail_on, online=online)


def audit(
    path: str | PathLike[str] = ".",
    *,
    db: str | PathLike[str] | None = None,
    fail_on: Severity | None = None,
) -> Report:
    """Audit the project's pinned packages against the offline advisory database.

    ``db`` is the database file (default: the user cache, created from the
    bundled OSV snapshot on first use). Findings are ``known-vulnerable`` and
    ``known-malicious``, one per vulnerability per package version.
    """
    from pathlib import Path

    from bastion._internal.controls.advisories import AdvisoryControl
    from bastion._internal.engine import run_check

    db_path = Path(db) if db is not None else None
    return run_check(Path(path), fail_on=fail_on, controls=[AdvisoryControl(db_path)])


__all__ = [
    "BastionError",
    "ConfigError",
    "ControlResult",
    "ControlStatus",
    "Coverage",
    "Finding",
    "InputError",
    "Location",
    "LockedPackage",
    "Report",
    "Severity",
    "ThreatCoverage",
    "__version__",
    "audit",
    "check",
]
