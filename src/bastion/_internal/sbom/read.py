"""Read CycloneDX (JSON or XML, 1.2 to 1.7) and SPDX 2.x JSON SBOMs, whoever made them.

SBOMs arrive from other teams and other tools: the reader is bounded (file
size, component count, nesting, and the number of JSON objects and arrays or
XML elements, counted before anything is parsed, since each costs a hundred
bytes or more of memory: 50 MB of ``{},`` once took 1.3 GB), refuses XML
with a DOCTYPE or an entity declaration anywhere in the file (no entities, so
no entity expansion), checks the shape of every field it uses, and raises
``InputError`` naming the file, the field and, where there is one, the line.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bastion._internal.errors import InputError
from bastion._internal.safe_read import read_text
from bastion._internal.sbom.document import SbomComponent, SbomDocument

MAX_SBOM_BYTES = 512 * 1024 * 1024  # a file named on the command line
MAX_PROJECT_SBOM_BYTES = 32 * 1024 * 1024  # a file found in a (possibly hostile) project
MAX_COMPONENTS = 200_000
MAX_ELEMENTS = 2_500_000  # JSON objects and arrays, or XML elements (about 12 a component)
MAX_NESTING = 20
_NOT_GIVEN = frozenset({"", "NOASSERTION", "NONE"})
_CDX_NAMESPACE = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom$")
_LEADING_SPACE = re.compile(r"\s*")  # matched in place: lstrip() would copy the whole text
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def read_sbom(path: Path, text: str | None = None, *, limit: int = MAX_SBOM_BYTES) -> SbomDocument:
    """Read an SBOM file (format detected from its content), of at most ``limit`` bytes."""
    if text is None:
        text = read_text(path, limit=limit)
    elif len(text) > limit:  # characters: at least as many bytes
        raise InputError(path, f"larger than the {limit // (1024 * 1024)} MiB limit")
    first = _LEADING_SPACE.match(text)
    start = text[first.end() : first.end() + 1] if first else ""
    if start == "{":
        _bound_elements(path, text.count("{") + text.count("["), "JSON objects and arrays")
        return _from_json(path, text)
    if start == "<":
        _bound_elements(path, text.count("<"), "XML elements")
        return _from_xml(path, text)
    raise InputError(path, "not an SBOM: neither JSON nor XML")


def _bound_elements(path: Path, upper_bound: int, what: str) -> None:
    """Refuse a document that may hold more than ``MAX_ELEMENTS``, before it is parsed.

    Every ``{``/``[`` (or ``<``) is counted, those in strings too: an upper bound
    that a real SBOM under ``MAX_COMPONENTS`` components stays well below.
    """
    if upper_bound > MAX_ELEMENTS:
        raise InputError(path, f"more than {MAX_ELEMENTS:,} {what} (refused before parsing)")


def _from_json(path: Path, text: str) -> SbomDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer literal over sys.get_int_max_str_digits() digits
        raise InputError(path, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(path, "not an SBOM: the document is not a JSON object")
    if data.get("bomFormat") == "CycloneDX":
        return _cyclonedx_json(path, data)
    if isinstance(data.get("spdxVersion"), str):
        return _spdx_json(path, data)
    raise InputError(path, "not an SBOM: no bomFormat 'CycloneDX' and no spdxVersion")


class _Fields:
    """Typed access to JSON fields with errors that name the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, expected: str) -> InputError:
        return InputError(self.path, f"does not match its schema: {where} should be {expected}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "an array")
        return value

    def text(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(where, "a string")
        return value


def _cyclonedx_json(path: Path, data: dict[str, Any]) -> SbomDocument:
    fields = _Fields(path)
    version = fields.text(data.get("specVersion"), "specVersion")
    if version is None or not re.fullmatch(r"1\.[0-9]", version):
        raise fields.fail("specVersion", "a CycloneDX version such as '1.6'")
    metadata = fields.obj(data.get("metadata", {}), "metadata")
    components = []
    for component in _cdx_components(fields, data.get("components"), "components", 0):
        components.append(component)
        if len(components) > MAX_COMPONENTS:
            raise InputError(path, f"more than {MAX_COMPONENTS} components")
    root = None
    if "component" in metadata:
        root_data = fields.obj(metadata["component"], "metadata.component")
        root = fields.text(root_data.get("bom-ref"), "metadata.component.bom-ref")
    dependencies: dict[str, tuple[str, ...]] = {}
    for index, entry in enumerate(fields.items(data.get("dependencies"), "dependencies")):
        where = f"dependencies[{index}]"
        entry = fields.obj(entry, where)
        ref = fields.text(entry.get("ref"), f"{where}.ref")
        if ref is None:
            raise fields.fail(f"{where}.ref", "a string")
        targets = fields.items(entry.get("dependsOn"), f"{where}.dependsOn")
        dependencies[ref] = tuple(
            fields.text(t, f"{where}.dependsOn") or "" for t in targets if t is not None
        )
    authors = tuple(
        _person(fields, a, f"metadata.authors[{i}]")
        for i, a in enumerate(fields.items(metadata.get("authors"), "metadata.authors"))
    )
    return SbomDocument(
        path=path,
        format="cyclonedx",
        spec_version=version,
        encoding="json",
        timestamp=fields.text(metadata.get("timestamp"), "metadata.timestamp"),
        authors=tuple(a for a in authors if a),
        tools=_cdx_tools(fields, metadata.get("tools")),
        lifecycles=tuple(
            str(fields.obj(entry, "metadata.lifecycles[]").get("phase") or entry.get("name"))
            for entry in fields.items(metadata.get("lifecycles"), "metadata.lifecycles")
        ),
        components=tuple(components),
        dependencies=MappingProxyType(dependencies),
        root=root,
    )


def _person(fields: _Fields, value: Any, where: str) -> str:
    entry = fields.obj(value, where)
    return fields.text(entry.get("name"), f"{where}.name") or (
        fields.text(entry.get("email"), f"{where}.email") or ""
    )


def _cdx_tools(fields: _Fields, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):  # 1.5+: {components: [...], services: [...]}
        entries = [
            *fields.items(value.get("components"), "metadata.tools.components"),
            *fields.items(value.get("services"), "metadata.tools.services"),
        ]
    else:
        entries = fields.items(value, "metadata.tools")
    names = []
    for index, entry in enumerate(entries):
        tool = fields.obj(entry, f"metadata.tools[{index}]")
        name = fields.text(tool.get("name"), f"metadata.tools[{index}].name")
        if name:
            version = tool.get("version")
            names.append(f"{name} {version}" if isinstance(version, str) else name)
    return tuple(names)


def _cdx_components(fields: _Fields, value: Any, where: str, depth: int) -> Iterator[SbomComponent]:
    if depth > MAX_NESTING:
        raise InputError(fields.path, f"components nested deeper than {MAX_NESTING} levels")
    for index, entry in enumerate(fields.items(value, where)):
        here = f"{where}[{index}]"
        item = fields.obj(entry, here)
        yield _cdx_component(fields, item, here, index)
        if "components" in item:
            yield from _cdx_components(fields, item["components"], f"{here}.components", depth + 1)


def _cdx_component(fields: _Fields, item: dict[str, Any], here: str, index: int) -> SbomComponent:
    name = fields.text(item.get("name"), f"{here}.name")
    supplier = None
    for key in ("supplier", "manufacturer"):
        if key in item:
            supplier = supplier or fields.text(
                fields.obj(item[key], f"{here}.{key}").get("name"), f"{here}.{key}.name"
            )
    supplier = supplier or fields.text(item.get("publisher"), f"{here}.publisher")
    hashes = []
    for position, entry in enumerate(fields.items(item.get("hashes"), f"{here}.hashes")):
        digest = fields.obj(entry, f"{here}.hashes[{position}]")
        algorithm = fields.text(digest.get("alg"), f"{here}.hashes[{position}].alg")
        content = fields.text(digest.get("content"), f"{here}.hashes[{position}].content")
        if algorithm and content:
            hashes.append((algorithm, content.lower()))
    licenses = []
    for position, entry in enumerate(fields.items(item.get("licenses"), f"{here}.licenses")):
        choice = fields.obj(entry, f"{here}.licenses[{position}]")
        if "expression" in choice:
            licenses.append(fields.text(choice["expression"], f"{here}.licenses.expression") or "")
        elif "license" in choice:
            license_data = fields.obj(choice["license"], f"{here}.licenses[{position}].license")
            licenses.append(str(license_data.get("id") or license_data.get("name") or ""))
    other = [fields.text(item.get("cpe"), f"{here}.cpe") or ""]
    if "swid" in item:
        other.append(str(fields.obj(item["swid"], f"{here}.swid").get("tagId") or ""))
    author = fields.text(item.get("author"), f"{here}.author")
    if author is None and "authors" in item:
        names = [
            _person(fields, a, f"{here}.authors[{i}]")
            for i, a in enumerate(fields.items(item["authors"], f"{here}.authors"))
        ]
        author = ", ".join(n for n in names if n) or None
    return SbomComponent(
        ref=fields.text(item.get("bom-ref"), f"{here}.bom-ref") or f"#{index}:{name}",
        name=name,
        version=fields.text(item.get("version"), f"{here}.version"),
        supplier=supplier,
        purl=fields.text(item.get("purl"), f"{here}.purl"),
        other_ids=tuple(o for o in other if o),
        hashes=tuple(hashes),
        licenses=tuple(lic for lic in licenses if lic),
        author=author,
    )


def _spdx_json(path: Path, data: dict[str, Any]) -> SbomDocument:
    fields = _Fields(path)
    version = str(data["spdxVersion"]).removeprefix("SPDX-")
    if not version.startswith("2."):
        raise fields.fail("spdxVersion", "SPDX-2.x")
    info = fields.obj(data.get("creationInfo", {}), "creationInfo")
    creators = [
        fields.text(c, "creationInfo.creators") or ""
        for c in fields.items(info.get("creators"), "creationInfo.creators")
    ]
    components = []
    for index, entry in enumerate(fields.items(data.get("packages"), "packages")):
        here = f"packages[{index}]"
        package = fields.obj(entry, here)
        purl = None
        others = []
        for position, ref in enumerate(
            fields.items(package.get("externalRefs"), f"{here}.externalRefs")
        ):
            ref = fields.obj(ref, f"{here}.externalRefs[{position}]")
            kind = str(ref.get("referenceType", "")).lower()
            locator = fields.text(
                ref.get("referenceLocator"), f"{here}.externalRefs.referenceLocator"
            )
            if kind == "purl" and locator:
                purl = purl or locator
            elif kind.startswith("cpe") and locator:
                others.append(locator)
        hashes = []
        for position, checksum in enumerate(
            fields.items(package.get("checksums"), f"{here}.checksums")
        ):
            checksum = fields.obj(checksum, f"{here}.checksums[{position}]")
            algorithm = fields.text(checksum.get("algorithm"), f"{here}.checksums.algorithm")
            value = fields.text(checksum.get("checksumValue"), f"{here}.checksums.checksumValue")
            if algorithm and value:
                hashes.append((algorithm, value.lower()))
        licenses = [
            str(package.get(key))
            for key in ("licenseDeclared", "licenseConcluded")
            if isinstance(package.get(key), str) and package[key] not in _NOT_GIVEN
        ]
        supplier = fields.text(package.get("supplier"), f"{here}.supplier")
        components.append(
            SbomComponent(
                ref=fields.text(package.get("SPDXID"), f"{here}.SPDXID") or f"#{index}",
                name=fields.text(package.get("name"), f"{here}.name"),
                version=fields.text(package.get("versionInfo"), f"{here}.versionInfo"),
                supplier=_spdx_party(supplier),
                purl=purl,
                other_ids=tuple(others),
                hashes=tuple(hashes),
                licenses=tuple(licenses[:1]),
                author=_spdx_party(fields.text(package.get("originator"), f"{here}.originator")),
            )
        )
    dependencies: dict[str, list[str]] = {}
    root = None
    described = fields.items(data.get("documentDescribes"), "documentDescribes")
    if described:
        root = fields.text(described[0], "documentDescribes[0]")
    for index, entry in enumerate(fields.items(data.get("relationships"), "relationships")):
        relation = fields.obj(entry, f"relationships[{index}]")
        kind = str(relation.get("relationshipType", ""))
        source = str(relation.get("spdxElementId", ""))
        target = str(relation.get("relatedSpdxElement", ""))
        if kind == "DESCRIBES" and root is None:
            root = target
        elif kind in ("DEPENDS_ON", "CONTAINS"):
            dependencies.setdefault(source, []).append(target)
        elif kind in ("DEPENDENCY_OF", "CONTAINED_BY"):
            dependencies.setdefault(target, []).append(source)
    if len(components) > MAX_COMPONENTS:
        raise InputError(path, f"more than {MAX_COMPONENTS} components")
    return SbomDocument(
        path=path,
        format="spdx",
        spec_version=version,
        encoding="json",
        timestamp=fields.text(info.get("created"), "creationInfo.created"),
        authors=tuple(
            c.split(":", 1)[1].strip()
            for c in creators
            if c.startswith(("Person:", "Organization:"))
        ),
        tools=tuple(c.split(":", 1)[1].strip() for c in creators if c.startswith("Tool:")),
        lifecycles=(),
        components=tuple(components),
        dependencies=MappingProxyType({k: tuple(v) for k, v in dependencies.items()}),
        root=root,
    )


def _spdx_party(value: str | None) -> str | None:
    if value is None or value.strip() in _NOT_GIVEN:
        return None
    return value.split(":", 1)[1].strip() if ":" in value else value.strip()


def _from_xml(path: Path, text: str) -> SbomDocument:
    declaration = _DECLARATION.search(text)
    if declaration is not None:  # anywhere: after 4 KiB of comment it was once let through
        line = text.count("\n", 0, declaration.start()) + 1
        raise InputError(path, "XML with a DOCTYPE or entities is refused", line)
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DOCTYPE, so no entities to expand
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise InputError(path, f"invalid XML: {exc}", line) from None
    match = _CDX_NAMESPACE.match(root.tag)
    if match is None:
        raise InputError(path, f"not a CycloneDX document (root element {root.tag!r})")
    ns = "{" + root.tag[1:].split("}", 1)[0] + "}"

    def find_text(element: ET.Element | None, name: str) -> str | None:
        if element is None:
            return None
        found = element.find(ns + name)
        return found.text.strip() if found is not None and found.text else None

    metadata = root.find(ns + "metadata")
    components: list[SbomComponent] = []
    queue: deque[tuple[ET.Element, int]] = deque(
        (c, 0) for c in root.findall(f"{ns}components/{ns}component")
    )
    while queue:
        element, depth = queue.popleft()  # list.pop(0) made 4 M components quadratic
        if depth > MAX_NESTING:
            raise InputError(path, f"components nested deeper than {MAX_NESTING} levels")
        components.append(_xml_component(element, ns, find_text, len(components)))
        if len(components) > MAX_COMPONENTS:
            raise InputError(path, f"more than {MAX_COMPONENTS} components")
        queue.extend((c, depth + 1) for c in element.findall(f"{ns}components/{ns}component"))
    dependencies: dict[str, tuple[str, ...]] = {}
    for dependency in root.findall(f"{ns}dependencies/{ns}dependency"):
        ref = dependency.get("ref")
        if ref is None:
            raise InputError(path, "does not match its schema: a dependency needs ref=")
        dependencies[ref] = tuple(d.get("ref") or "" for d in dependency.findall(ns + "dependency"))
    authors: list[str] = []
    tools: list[str] = []
    lifecycles: list[str] = []
    root_ref = None
    if metadata is not None:
        authors = [find_text(a, "name") or "" for a in metadata.findall(f"{ns}authors/{ns}author")]
        for tool in [
            *metadata.findall(f"{ns}tools/{ns}tool"),
            *metadata.findall(f"{ns}tools/{ns}components/{ns}component"),
        ]:
            name = find_text(tool, "name")
            if name:
                tools.append(name)
        lifecycles = [
            find_text(entry, "phase") or find_text(entry, "name") or ""
            for entry in metadata.findall(f"{ns}lifecycles/{ns}lifecycle")
        ]
        main = metadata.find(ns + "component")
        root_ref = main.get("bom-ref") if main is not None else None
    return SbomDocument(
        path=path,
        format="cyclonedx",
        spec_version=match.group(1),
        encoding="xml",
        timestamp=find_text(metadata, "timestamp"),
        authors=tuple(a for a in authors if a),
        tools=tuple(tools),
        lifecycles=tuple(lc for lc in lifecycles if lc),
        components=tuple(components),
        dependencies=MappingProxyType(dependencies),
        root=root_ref,
    )


def _xml_component(
    element: ET.Element,
    ns: str,
    find_text: Any,
    index: int,
) -> SbomComponent:
    name = find_text(element, "name")
    supplier = find_text(element.find(ns + "supplier"), "name") or find_text(
        element.find(ns + "manufacturer"), "name"
    )
    supplier = supplier or find_text(element, "publisher")
    hashes = tuple(
        (h.get("alg") or "", (h.text or "").strip().lower())
        for h in element.findall(f"{ns}hashes/{ns}hash")
        if h.get("alg") and h.text
    )
    licenses = []
    for choice in element.findall(f"{ns}licenses/*"):
        if choice.tag == ns + "expression" and choice.text:
            licenses.append(choice.text.strip())
        elif choice.tag == ns + "license":
            licenses.append(find_text(choice, "id") or find_text(choice, "name") or "")
    swid = element.find(ns + "swid")
    others = [find_text(element, "cpe") or "", swid.get("tagId", "") if swid is not None else ""]
    return SbomComponent(
        ref=element.get("bom-ref") or f"#{index}:{name}",
        name=name,
        version=find_text(element, "version"),
        supplier=supplier,
        purl=find_text(element, "purl"),
        other_ids=tuple(o for o in others if o),
        hashes=hashes,
        licenses=tuple(lic for lic in licenses if lic),
        author=find_text(element, "author"),
    )


def hashes_by_algorithm(component: SbomComponent) -> Mapping[str, str]:
    """A component's hashes keyed by normalised algorithm name (``sha256``)."""
    return {re.sub(r"[^a-z0-9]", "", alg.lower()): value for alg, value in component.hashes}
