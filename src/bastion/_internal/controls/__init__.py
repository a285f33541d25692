"""The layers of defence. Each module holds one control; ``default_controls`` lists them."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.controls.advisories import AdvisoryControl
from bastion._internal.controls.base import Control, Project
from bastion._internal.controls.names import ApprovedPackagesControl, TyposquatControl
from bastion._internal.controls.pinning import PinningControl
from bastion._internal.controls.ruff_security import RuffSecurityControl


def default_controls(advisory_db: Path | None = None) -> list[Control]:
    """Every control ``bastion check`` runs, in report order."""
    return [
        PinningControl(),
        AdvisoryControl(advisory_db),
        TyposquatControl(),
        ApprovedPackagesControl(),
        RuffSecurityControl(),
    ]


__all__ = ["Control", "Project", "default_controls"]
