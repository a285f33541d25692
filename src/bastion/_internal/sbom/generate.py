"""``bastion sbom``: a CycloneDX SBOM with the minimum elements, built with cyclonedx-python-lib.

Components come from whatever the foundation reads (lockfiles, requirements,
an installed environment). Hashes come from the lock; for an installed
environment, the SHA-256 of each distribution's ``RECORD`` (which itself lists
the hash of every installed file). Supplier and licence come from the
installed metadata when there is one; a package known only from a lock names
the index it comes from as its supplier (its distributor), and has no licence
unless the environment is read too. The output is reproducible: bom-refs are
purls, the serial number is derived from the content, and with
``SOURCE_DATE_EPOCH`` the timestamp is fixed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bastion._internal.errors import UsageError
from bastion._internal.model import DependencySource, LockedPackage, SourceFormat, SourceKind
from bastion._internal.safe_read import parse_toml, read_text
from bastion._internal.sbom.metadata import DistributionFacts, read_facts
from bastion._internal.version import VERSION

if TYPE_CHECKING:
    from cyclonedx.model import ExternalReferenceType, HashAlgorithm
    from packageurl import PackageURL

    from bastion._internal.sbom.vulnerabilities import FoundVulnerability

SPEC_VERSIONS = ("1.5", "1.6", "1.7")
PYPI = "https://pypi.org/simple"


@dataclass(frozen=True, slots=True)
class RootProject:
    """The project the SBOM describes (from pyproject.toml when there is one)."""

    name: str
    version: str | None
    authors: tuple[str, ...]


def root_project(folder: Path) -> RootProject:
    """Name, version and authors from ``[project]`` of ``folder/pyproject.toml``."""
    path = folder / "pyproject.toml"
    name, version, authors = folder.resolve().name, None, []
    if path.is_file():
        # The shared bounded reader: size, FIFOs, depth and 4,300-digit integers are one error.
        project = parse_toml(path, read_text(path)).get("project", {})
        if isinstance(project, dict):
            name = str(project.get("name") or name)
            version = str(project["version"]) if isinstance(project.get("version"), str) else None
            for key in ("authors", "maintainers"):
                for person in project.get(key, []) or []:
                    if isinstance(person, dict) and (person.get("name") or person.get("email")):
                        authors.append(str(person.get("name") or person.get("email")))
    if not authors:  # the author of the SBOM data: else whoever committed last
        from bastion._internal.git import last_author

        committer = last_author(folder)
        if committer:
            authors.append(committer)
    return RootProject(name, version, tuple(dict.fromkeys(authors)))


def _timestamp(now: datetime | None) -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(
                f"SOURCE_DATE_EPOCH should be a number of seconds, not {epoch!r}"
            ) from None
    return (now or datetime.now(UTC)).replace(microsecond=0)


def _purl(package: LockedPackage) -> str:
    from packageurl import PackageURL

    qualifiers: dict[str, str] = {}
    if package.source_kind is SourceKind.VCS and package.source:
        qualifiers["vcs_url"] = package.source + (
            f"@{package.vcs_commit}" if package.vcs_commit else ""
        )
    elif package.source_kind is SourceKind.URL and package.source:
        qualifiers["download_url"] = package.source
    elif package.source and package.source_kind is SourceKind.REGISTRY:
        index = package.source.rstrip("/")
        if index not in (PYPI, "https://pypi.org/simple/", "https://pypi.org"):
            qualifiers["repository_url"] = index
    purl = PackageURL(
        type="pypi", name=package.name, version=package.version, qualifiers=qualifiers or None
    )
    return str(purl.to_string())


def _supplier(package: LockedPackage, facts: DistributionFacts | None) -> tuple[str, str | None]:
    """Supplier name and URL: the maintainer, else the index that distributes it."""
    if facts is not None and facts.supplier:
        homepage = next(
            (url for label, url in facts.urls if label.lower() in ("homepage", "home")), None
        )
        return facts.supplier, homepage
    if package.source_kind in (SourceKind.REGISTRY, SourceKind.INSTALLED):
        index = package.source or PYPI
        host = urlsplit(index).hostname or index
        return (f"{host} (distributor)", index)
    if package.source:
        return (f"{urlsplit(package.source).hostname or package.source} (source)", package.source)
    return ("unknown", None)


def build_bom(
    sources: Sequence[DependencySource],
    root: RootProject,
    *,
    spec_version: str = "1.6",
    fmt: str = "json",
    now: datetime | None = None,
    authors: Sequence[str] = (),
    vulnerabilities: Sequence[FoundVulnerability] = (),
) -> str:
    """The SBOM text (CycloneDX ``spec_version``, JSON or XML) of the packages in ``sources``.

    ``vulnerabilities`` (from ``sbom.vulnerabilities.scan_packages`` over
    ``sbom_packages(sources)``) are added with their VEX analyses.
    """
    try:
        from cyclonedx.model import (
            ExternalReference,
            ExternalReferenceType,
            HashAlgorithm,
            HashType,
            XsUri,
        )
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentScope, ComponentType
        from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
        from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
        from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
        from cyclonedx.output import make_outputter
        from cyclonedx.schema import OutputFormat, SchemaVersion
    except ImportError:
        raise UsageError(
            "SBOM generation needs cyclonedx-python-lib: pip install 'bastion[sbom]'"
        ) from None
    if spec_version not in SPEC_VERSIONS:
        raise UsageError(
            f"CycloneDX {spec_version} is not supported (choose {', '.join(SPEC_VERSIONS)})"
        )
    algorithms = _algorithms()
    projects = [  # the project itself
        p for s in sources for p in s.packages if p.version and p.source_kind is SourceKind.VIRTUAL
    ]
    packages = sbom_packages(sources)
    from_environment = any(s.format is SourceFormat.ENVIRONMENT for s in sources)
    bom = Bom()
    bom.metadata.timestamp = _timestamp(now)
    bom.metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION,
            name="bastion",
            version=VERSION,
            group="bastion-security",
        )
    )
    people = list(authors) or list(root.authors)
    bom.metadata.authors = [OrganizationalContact(name=name) for name in people]
    phase = LifecyclePhase.POST_BUILD if from_environment else LifecyclePhase.PRE_BUILD
    bom.metadata.lifecycles = [PredefinedLifecycle(phase)]
    root_component = Component(
        type=ComponentType.APPLICATION,
        name=root.name,
        version=root.version,
        bom_ref=f"root:{root.name}",
    )
    bom.metadata.component = root_component
    components: dict[str, Component] = {}  # by bom-ref (the purl)
    by_lock: dict[tuple[Path, str], str] = {}  # (lockfile, name) -> bom-ref
    by_name: dict[str, list[str]] = {}
    for package in packages:
        purl = _purl(package)
        by_lock[(package.location.path, package.name)] = purl
        if purl not in by_name.setdefault(package.name, []):
            by_name[package.name].append(purl)
        if purl in components:
            continue
        facts = _facts(package)
        supplier_name, supplier_url = _supplier(package, facts)
        hashes = [
            HashType(alg=algorithms[algorithm], content=value)
            for algorithm, values in package.hashes.items()
            if algorithm in algorithms
            for value in values
        ]
        if not hashes and facts is not None and facts.record_sha256:
            hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=facts.record_sha256))
        licences: list[object] = []
        if facts is not None and facts.licence:
            if facts.licence_is_expression:
                licences.append(LicenseExpression(facts.licence))
            else:
                licences.append(DisjunctiveLicense(name=facts.licence))
        references = [
            ExternalReference(type=_reference_type(label, ExternalReferenceType), url=XsUri(url))
            for label, url in (facts.urls if facts is not None else ())
        ]
        component = Component(
            type=ComponentType.LIBRARY,
            name=package.name,
            version=package.version,
            bom_ref=purl,
            purl=_parsed_purl(purl),
            hashes=hashes,
            licenses=licences,  # type: ignore[arg-type]
            supplier=OrganizationalEntity(
                name=supplier_name, urls=[XsUri(supplier_url)] if supplier_url else None
            ),
            scope=ComponentScope.OPTIONAL if _optional(package) else ComponentScope.REQUIRED,
            external_references=references,
            description=facts.description if facts is not None else None,
        )
        components[purl] = component
        bom.components.add(component)
    depended: set[str] = set()
    edges: dict[str, set[str]] = {}
    for package in packages:
        ref = by_lock[(package.location.path, package.name)]
        targets = edges.setdefault(ref, set())
        for name in package.dependencies:
            if name == package.name:
                continue
            # The dependency as the same lockfile pins it; else every version of the name.
            same_lock = by_lock.get((package.location.path, name))
            targets.update([same_lock] if same_lock else by_name.get(name, []))
        depended.update(targets)
    for ref, targets in edges.items():
        bom.register_dependency(components[ref], [components[t] for t in sorted(targets)])
    declared = {
        ref
        for p in projects
        for d in p.dependencies
        for ref in (
            [by_lock[(p.location.path, d)]]
            if (p.location.path, d) in by_lock
            else by_name.get(d, [])
        )
    }
    direct_refs = declared or {ref for ref in components if ref not in depended}
    bom.register_dependency(root_component, [components[r] for r in sorted(direct_refs)])
    if vulnerabilities:
        from bastion._internal.sbom.vulnerabilities import add_to_bom

        refs: dict[tuple[str, str], list[str]] = {}
        for ref, component in components.items():
            key = (component.name, component.version or "")
            refs.setdefault(key, []).append(ref)
        add_to_bom(bom, vulnerabilities, {k: tuple(v) for k, v in refs.items()})
    body = "".join(
        sorted(f"{c.bom_ref.value}|{h.content}" for c in components.values() for h in c.hashes)
    ) + "".join(sorted(f"{v.vulnerability.id}|{v.analysis}" for v in vulnerabilities))
    bom.serial_number = uuid.uuid5(
        uuid.NAMESPACE_URL, f"bastion:{root.name}:{body}:{sorted(components)}"
    )
    version = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}[
        spec_version
    ]
    output_format = OutputFormat.XML if fmt == "xml" else OutputFormat.JSON
    outputter = make_outputter(bom, output_format, version)
    text = outputter.output_as_string(indent=2)
    return text if text.endswith("\n") else text + "\n"


def sbom_packages(sources: Sequence[DependencySource]) -> list[LockedPackage]:
    """The packages that become components: pinned, not the project itself.

    One per distinct (name, version, source) and lockfile: two services of one
    repository locking requests 2.19.1 and 2.31.0 give both; the same pin in
    two locks is one component (``component_count``).
    """
    return _unique(
        p
        for s in sources
        for p in s.packages
        if p.version and p.source_kind is not SourceKind.VIRTUAL
    )


def _parsed_purl(value: str) -> PackageURL:
    from packageurl import PackageURL

    return PackageURL.from_string(value)


def _optional(package: LockedPackage) -> bool:
    groups = [g for g in package.groups if g]
    return bool(groups) and all(g not in ("main", "default") for g in groups)


def _facts(package: LockedPackage) -> DistributionFacts | None:
    path = package.location.path
    if package.source_kind is SourceKind.REGISTRY or not path.name.endswith(".dist-info"):
        return None
    return read_facts(path)


def component_count(sources: Sequence[DependencySource]) -> int:
    """How many components ``build_bom`` writes for ``sources``."""
    return len({_purl(p) for p in sbom_packages(sources)})


def _unique(packages: Iterable[LockedPackage]) -> list[LockedPackage]:
    """One package per (lockfile, name, version, source), the one with hashes kept, sorted.

    An installed environment and a lock that agree on a pin describe one
    component; its purl (name, version and source qualifiers) is its identity.
    """
    chosen: dict[tuple[Path, str, str | None, str], LockedPackage] = {}
    for package in packages:
        key = (package.location.path, package.name, package.version, _purl(package))
        current = chosen.get(key)
        if current is None or (not current.hashes and package.hashes):
            chosen[key] = package

    def order(key: tuple[Path, str, str | None, str]) -> tuple[str, str, bool, bool, str]:
        # For one purl, the installed distribution (licence, supplier) and hashes come first:
        # build_bom keeps the first package of each purl as the component.
        package = chosen[key]
        installed = package.location.path.name.endswith(".dist-info")
        return (key[1], key[3], not installed, not package.hashes, str(key[0]))

    return [chosen[key] for key in sorted(chosen, key=order)]


def _reference_type(label: str, kinds: type[ExternalReferenceType]) -> ExternalReferenceType:
    lowered = label.lower()
    table = {
        "source": "VCS",
        "repository": "VCS",
        "source code": "VCS",
        "documentation": "DOCUMENTATION",
        "docs": "DOCUMENTATION",
        "issues": "ISSUE_TRACKER",
        "bug tracker": "ISSUE_TRACKER",
        "tracker": "ISSUE_TRACKER",
        "changelog": "RELEASE_NOTES",
        "homepage": "WEBSITE",
        "home": "WEBSITE",
    }
    kind: ExternalReferenceType = getattr(kinds, table.get(lowered, "OTHER"))
    return kind


def _algorithms() -> dict[str, HashAlgorithm]:
    try:
        from cyclonedx.model import HashAlgorithm
    except ImportError:
        return {}
    return {
        "sha256": HashAlgorithm.SHA_256,
        "sha384": HashAlgorithm.SHA_384,
        "sha512": HashAlgorithm.SHA_512,
        "sha1": HashAlgorithm.SHA_1,
        "md5": HashAlgorithm.MD5,
    }
