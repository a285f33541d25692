"""An SBOM read from any format, reduced to what the elements check and the inventory use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SbomComponent:
    """One component (package) of an SBOM."""

    ref: str
    name: str | None
    version: str | None
    supplier: str | None = None
    purl: str | None = None
    other_ids: tuple[str, ...] = ()  # CPE, SWID tag ids
    hashes: tuple[tuple[str, str], ...] = ()  # (algorithm, hex)
    licenses: tuple[str, ...] = ()
    author: str | None = None


@dataclass(frozen=True, slots=True)
class SbomDocument:
    """A whole SBOM: document-level metadata, components and the dependency graph."""

    path: Path
    format: str  # "cyclonedx" or "spdx"
    spec_version: str
    encoding: str  # "json" or "xml"
    timestamp: str | None
    authors: tuple[str, ...]
    tools: tuple[str, ...]
    lifecycles: tuple[str, ...]  # generation context (CycloneDX metadata.lifecycles)
    components: tuple[SbomComponent, ...]
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    root: str | None = None  # the primary component's ref
