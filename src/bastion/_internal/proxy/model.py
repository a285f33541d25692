"""What the proxy reads from upstream and what it decides about each file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One distribution file of a project page, as upstream declares it."""

    filename: str
    url: str  # absolute upstream URL, checked (http/https, an allowed host)
    sha256: str  # lower-case hex; a file without one is never listed
    upload_time: datetime | None = None
    size: int | None = None
    requires_python: str | None = None
    yanked: str | bool = False  # PEP 592: False, True, or the reason
    core_metadata: str | None = None  # sha256 of the PEP 658 metadata file, when upstream has one
    provenance: str | None = None  # PEP 740 provenance URL, as upstream gives it
    version: str | None = None  # from the file name; None when it has none we can read


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A project page of the upstream index."""

    name: str  # PEP 503 canonical
    files: tuple[IndexFile, ...]
    status: str = "active"  # PEP 792 project status
    status_reason: str = ""
    fetched_at: datetime | None = None

    def file(self, filename: str) -> IndexFile | None:
        """The file with this exact name, or ``None``."""
        for item in self.files:
            if item.filename == filename:
                return item
        return None


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a file is served, and why (always a reason, also when it is served)."""

    served: bool
    reason: str
    rule: str  # a short id: age, cutoff, no-upload-time, denylist, malicious, ...
