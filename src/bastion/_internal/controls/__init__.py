"""The layers of defence. Each module holds one control; ``default_controls`` lists them.

Nothing here imports a control module at import time: ``default_controls``
imports each control when it builds it, so a command that runs one layer
(``bastion audit``) never pays for the others. ``CONTROL_IDS`` names them all
without importing any (a test keeps it equal to what ``default_controls`` builds).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bastion._internal.controls.base import Control, Project

if TYPE_CHECKING:
    from bastion._internal.index_client import IndexClient


# The id of every control ``default_controls`` builds, in report order.
CONTROL_IDS: tuple[str, ...] = (
    "pinning",
    "advisories",
    "index-confusion",
    "typosquat",
    "approved-packages",
    "cooldown",
    "quarantine-index",
    "ruff-security",
    "workflows",
    "sbom",
    "provenance",
    "inspect",
    "watch",
)


def index_client(now: datetime | None = None) -> Callable[[], IndexClient]:
    """A factory for one shared index client (cached in the user cache), made on first use."""

    @cache
    def make() -> IndexClient:
        from bastion._internal.advisories.store import default_db_path
        from bastion._internal.index_client import IndexClient

        return IndexClient(default_db_path().parent, now)

    return make


def default_controls(
    advisory_db: Path | None = None,
    *,
    online: bool = False,
    now: datetime | None = None,
    actions_dirs: tuple[Path, ...] = (),
    zizmor_ignores: bool = True,
    provenance_dirs: tuple[Path, ...] = (),
) -> list[Control]:
    """Every control ``bastion check`` runs, in report order.

    ``online`` lets the names-and-age controls ask the package index (upload
    times, unclaimed names) and the workflow audit fetch remote actions from
    GitHub; without it no control touches the network. ``actions_dirs`` are
    local copies of remote actions (``OWNER/REPO/REF/...``).
    """
    from bastion._internal.controls.advisories import AdvisoryControl
    from bastion._internal.controls.cooldown import CooldownControl
    from bastion._internal.controls.index_confusion import IndexConfusionControl
    from bastion._internal.controls.inspect import InspectControl
    from bastion._internal.controls.names import ApprovedPackagesControl, TyposquatControl
    from bastion._internal.controls.pinning import PinningControl
    from bastion._internal.controls.provenance import ProvenanceControl
    from bastion._internal.controls.proxy import QuarantineIndexControl
    from bastion._internal.controls.ruff_security import RuffSecurityControl
    from bastion._internal.controls.sbom import SbomControl
    from bastion._internal.controls.watch import WatchControl
    from bastion._internal.controls.workflows import WorkflowControl

    client = index_client(now) if online else None
    return [
        PinningControl(),
        AdvisoryControl(advisory_db),
        IndexConfusionControl(client),
        TyposquatControl(),
        ApprovedPackagesControl(),
        CooldownControl(advisory_db, now, client),
        QuarantineIndexControl(),
        RuffSecurityControl(),
        WorkflowControl(actions_dirs, online=online, zizmor_ignores=zizmor_ignores),
        SbomControl(),
        ProvenanceControl(provenance_dirs, online=online),
        InspectControl(),
        WatchControl(),
    ]


__all__ = ["CONTROL_IDS", "Control", "Project", "default_controls", "index_client"]
