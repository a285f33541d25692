"""The one interface every layer implements, and the context it runs in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bastion._internal.config import Config
from bastion._internal.inputs.discovery import ProjectInputs
from bastion._internal.model import ControlResult, ControlStatus, Finding


@dataclass(frozen=True, slots=True)
class Project:
    """What a control may look at: the root, the inputs read, the configuration."""

    root: Path
    inputs: ProjectInputs
    config: Config


class Control(Protocol):
    """A layer of defence. ``run`` never raises for findings; it returns them."""

    id: str
    title: str
    threats: tuple[str, ...]

    def run(self, project: Project) -> ControlResult:
        """Inspect the project and report."""
        ...


def result(control: Control, findings: list[Finding], detail: str) -> ControlResult:
    """``pass`` or ``fail`` depending on findings."""
    status = ControlStatus.FAIL if findings else ControlStatus.PASS
    return ControlResult(control.id, status, control.threats, tuple(findings), detail)


def not_configured(control: Control, detail: str) -> ControlResult:
    """The control could not stand in the path: nothing to inspect, or its tool is missing."""
    return ControlResult(control.id, ControlStatus.NOT_CONFIGURED, control.threats, (), detail)
