"""The NTIA minimum elements (2021) and CISA's 2025 additions, checked on any SBOM.

Per component: supplier, name, version, a unique identifier (purl, CPE or SWID),
its place in the dependency graph, and (CISA 2025) a hash and a licence.
Per document: the author of the SBOM data, a timestamp, the tool that made it
and the generation context (CycloneDX ``metadata.lifecycles``). Each element
reports how many components carry it; an element is complete when all do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bastion._internal.sbom.document import SbomComponent, SbomDocument

NTIA = "NTIA 2021"
CISA = "CISA 2025"
# profile name -> the element sources it requires (CISA 2025 extends the NTIA minimum)
PROFILES: dict[str, tuple[str, ...]] = {"ntia": (NTIA,), "cisa-2025": (NTIA, CISA)}
PROFILE_TITLES = {"ntia": "NTIA minimum elements (2021)", "cisa-2025": "CISA 2025 minimum elements"}


@dataclass(frozen=True, slots=True)
class ElementResult:
    """One element: how many of the components (or the document) carry it."""

    element: str
    source: str  # NTIA 2021 or CISA 2025
    passing: int
    total: int
    document_level: bool = False
    missing: tuple[str, ...] = ()  # the first components without it ("name@version")

    @property
    def complete(self) -> bool:
        """Every component (or the document) carries the element."""
        return self.passing == self.total and self.total > 0


@dataclass(frozen=True, slots=True)
class ElementsReport:
    """The check of one SBOM."""

    document: SbomDocument
    elements: tuple[ElementResult, ...]
    profile: str = "ntia"

    @property
    def required(self) -> tuple[ElementResult, ...]:
        """The elements the profile requires."""
        sources = PROFILES[self.profile]
        return tuple(e for e in self.elements if e.source in sources)

    @property
    def complete(self) -> bool:
        """Every element the profile requires is complete."""
        return all(e.complete for e in self.required)


_PURL_SHAPE = re.compile(r"^pkg:[A-Za-z.+-][A-Za-z0-9.+-]*/[^\s]+$")


def valid_purl(value: str | None) -> bool:
    """A purl that parses (``pkg:type/name@version``); packageurl-python when installed."""
    if not value:
        return False
    try:
        from packageurl import PackageURL
    except ImportError:  # the sbom extra is not installed: check the shape
        return _PURL_SHAPE.match(value) is not None
    try:
        PackageURL.from_string(value)
    except ValueError:
        return False
    return True


def check_elements(
    document: SbomDocument, *, shown: int = 5, profile: str = "ntia"
) -> ElementsReport:
    """Check every minimum element of ``document``; ``profile`` says which are required."""
    if profile not in PROFILES:
        raise ValueError(f"unknown SBOM profile {profile!r}: {', '.join(PROFILES)}")
    components = document.components
    related = set(document.dependencies)
    for targets in document.dependencies.values():
        related.update(targets)
    per_component: list[tuple[str, str, Callable[[SbomComponent], bool]]] = [
        ("supplier", NTIA, lambda c: bool(c.supplier)),
        ("name", NTIA, lambda c: bool(c.name)),
        ("version", NTIA, lambda c: bool(c.version)),
        ("unique identifier", NTIA, lambda c: valid_purl(c.purl) or bool(c.other_ids)),
        ("dependency relationships", NTIA, lambda c: c.ref in related),
        ("hash", CISA, lambda c: bool(c.hashes)),
        ("licence", CISA, lambda c: bool(c.licenses)),
    ]
    results = []
    for element, source, test in per_component:
        failing = [c for c in components if not test(c)]
        results.append(
            ElementResult(
                element,
                source,
                len(components) - len(failing),
                len(components),
                missing=tuple(f"{c.name}@{c.version}" for c in failing[:shown]),
            )
        )
    for element, source, present in (
        ("author of the SBOM data", NTIA, bool(document.authors)),
        ("timestamp", NTIA, bool(document.timestamp)),
        ("tool", CISA, bool(document.tools)),
        ("generation context", CISA, bool(document.lifecycles)),
    ):
        results.append(ElementResult(element, source, int(present), 1, document_level=True))
    return ElementsReport(document, tuple(results), profile)
