"""What a scan finds in one member, before it becomes a report ``Finding``."""

from __future__ import annotations

from dataclasses import dataclass

from bastion._internal.model import Severity


@dataclass(frozen=True, slots=True)
class Hit:
    """A threat indicator (``rule`` set) or a capability (``capability`` set) in one member."""

    rule: str  # a rule id of the inspect layer, or "" for a capability
    severity: Severity
    member: str
    line: int | None
    evidence: str
    capability: str = ""


def evidence(text: str, limit: int = 160) -> str:
    """Untrusted text folded onto one printable line and cut short."""
    folded = " ".join(text.split())
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in folded)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
