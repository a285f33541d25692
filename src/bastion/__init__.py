"""bastion: defend a Python project's supply chain in depth.

The public API is small::

    import bastion
    report = bastion.check("path/to/project")
    report.exit_code, report.findings, report.coverage

Everything under ``bastion._internal`` may change without notice.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from bastion._internal.errors import BastionError, ConfigError, InputError
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
from bastion._internal.version import VERSION as __version__  # noqa: N811


def check(path: str | PathLike[str] = ".", *, fail_on: Severity | None = None) -> Report:
    """Run every available layer on the project at ``path`` and return the report.

    Raises ``InputError`` or ``ConfigError`` (both ``BastionError``) for bad
    input; never executes code from the project.
    """
    from bastion._internal.engine import run_check

    return run_check(Path(path), fail_on=fail_on)


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
    "check",
]
