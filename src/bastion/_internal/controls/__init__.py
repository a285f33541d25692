"""The layers of defence. Each module holds one control; ``default_controls`` lists them."""

from __future__ import annotations

from bastion._internal.controls.base import Control, Project
from bastion._internal.controls.pinning import PinningControl
from bastion._internal.controls.ruff_security import RuffSecurityControl


def default_controls() -> list[Control]:
    """Every control ``bastion check`` runs, in report order."""
    return [PinningControl(), RuffSecurityControl()]


__all__ = ["Control", "Project", "default_controls"]
