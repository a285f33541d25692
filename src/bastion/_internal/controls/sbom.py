"""The ``blind-response`` control: does the project keep, or produce in CI, a complete SBOM?

Kept: an SBOM file in the project (``*.cdx.json``, ``*.cdx.xml``, ``*.spdx.json``,
``bom.json``, ``bom.xml``, ``sbom.json``, ``sbom.xml``) is read whoever made it,
checked for the minimum elements (``sbom-incomplete``) and compared with the
locked packages (``sbom-stale``: a locked name and version the SBOM does not
list). Produced: a workflow runs ``bastion sbom`` (complete by construction;
the CI wiring marks the control enforced when that step is fail-closed).
Neither: ``not-configured``, and the threat stays exposed.
"""

from __future__ import annotations

from pathlib import Path

from bastion._internal.controls.base import Project, not_configured
from bastion._internal.errors import InputError
from bastion._internal.inputs.common import canonical
from bastion._internal.inputs.discovery import NOT_INSTALLED_DIRS, find_files
from bastion._internal.model import ControlResult, ControlStatus, Finding, Location
from bastion._internal.rulesets.sbom import CONTROL, RULES, THREAT

SBOM_NAMES = ("bom.json", "bom.xml", "sbom.json", "sbom.xml")
SBOM_SUFFIXES = (".cdx.json", ".cdx.xml", ".spdx.json")
MAX_DEPTH = 3


# An SBOM below these folders describes vendored code or a fixture, not the project's
# own dependencies (pip ships src/pip/_vendor/bom.cdx.json for its vendored libraries).
NOT_THE_PROJECTS = frozenset(
    {"_vendor", "vendor", "vendored", "third_party", "third-party", *NOT_INSTALLED_DIRS}
)


def sbom_files(root: Path, exclude: tuple[str, ...] = ()) -> list[Path]:
    """SBOM files the project keeps for itself, a few levels deep."""

    def wanted(path: Path) -> bool:
        name = path.name.lower()
        if any(part in NOT_THE_PROJECTS for part in path.relative_to(root).parts[:-1]):
            return False
        return name in SBOM_NAMES or name.endswith(SBOM_SUFFIXES)

    return find_files(root, wanted, exclude=exclude, max_depth=MAX_DEPTH, skip_hidden=True)


class SbomControl:
    """Checks the SBOMs a project keeps, and notes the one CI produces."""

    id = CONTROL
    title = "SBOM present, complete and current"
    threats: tuple[str, ...] = (THREAT,)

    def run(self, project: Project) -> ControlResult:
        """Read every kept SBOM; ``not-configured`` when there is none and CI makes none."""
        from bastion._internal.workflows.audit import find_repository

        files = sbom_files(project.root, project.config.exclude)
        produced = _produced_in_ci(find_repository(project.root))
        if not files:
            if produced:
                detail = "CI produces one with 'bastion sbom'"
                return ControlResult(self.id, ControlStatus.PASS, self.threats, (), detail)
            return not_configured(
                self, "no SBOM kept in the project and none produced in CI (bastion sbom -o FILE)"
            )
        findings: list[Finding] = []
        for path in files:
            findings.extend(_check_file(path, project))
        detail = f"{len(files)} SBOM file(s) checked" + (
            ", and CI produces one" if produced else ""
        )
        status = ControlStatus.FAIL if findings else ControlStatus.PASS
        return ControlResult(self.id, status, self.threats, tuple(findings), detail)


def _produced_in_ci(repository: Path | None) -> bool:
    if repository is None:
        return False
    from bastion._internal.safe_read import read_text
    from bastion._internal.workflows.audit import workflow_files
    from bastion._internal.workflows.parse import MAX_WORKFLOW_BYTES
    from bastion._internal.workflows.wiring import TOOLS

    command = next(t.command for t in TOOLS if t.name == "bastion sbom")
    for path in workflow_files(repository):
        try:  # bounded like every workflow read: a 2 GB file or /dev/zero is not read whole
            text = read_text(path, limit=MAX_WORKFLOW_BYTES)
        except InputError:
            continue  # the workflow audit reports the unreadable file
        if command is not None and command.search(text):
            return True
    return False


def _check_file(path: Path, project: Project) -> list[Finding]:
    from bastion._internal.sbom.elements import check_elements
    from bastion._internal.sbom.read import MAX_PROJECT_SBOM_BYTES, read_sbom

    try:
        document = read_sbom(path, limit=MAX_PROJECT_SBOM_BYTES)
    except InputError as exc:
        return [
            RULES["sbom-unreadable"].finding(
                f"SBOM not read: {exc.message}",
                Location(path, exc.line),
                RULES["sbom-unreadable"].help,
            )
        ]
    findings = []
    report = check_elements(document)
    missing = [e for e in report.required if not e.complete]
    if missing:
        parts = [
            e.element
            if e.document_level
            else f"{e.element} ({e.total - e.passing}/{e.total} lack it)"
            for e in missing
        ]
        findings.append(
            RULES["sbom-incomplete"].finding(
                "SBOM misses minimum elements: " + "; ".join(parts),
                Location(path),
                RULES["sbom-incomplete"].help,
            )
        )
    listed = {(canonical(c.name or ""), c.version) for c in document.components}
    stale = []
    for source in project.inputs.sources:
        for package in source.packages:
            if package.version is None:
                continue
            if (package.name, package.version) not in listed:
                stale.append(f"{package.name}=={package.version}")
    if stale:
        shown = ", ".join(sorted(set(stale))[:5])
        findings.append(
            RULES["sbom-stale"].finding(
                f"SBOM does not list {len(set(stale))} locked package version(s): {shown}",
                Location(path),
                RULES["sbom-stale"].help,
            )
        )
    return findings
