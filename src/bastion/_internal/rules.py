"""Rule metadata: what each finding id means and how to fix it (SARIF and docs use this).

Rules are declared in small metadata modules (``RULE_MODULES``), apart from
the controls that report them, so that listing or describing rules never
imports a control, its parsers or their libraries. A module registers its
rules when it is imported; ``rule`` and ``all_rules`` import every metadata
module on first need.
"""

from __future__ import annotations

from dataclasses import dataclass

from bastion._internal.model import Confidence, Finding, Location, Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """A kind of finding."""

    id: str
    name: str
    summary: str
    help: str
    severity: Severity
    threat: str
    control: str
    help_uri: str = ""

    def finding(
        self,
        message: str,
        location: Location | None,
        remediation: str,
        *,
        package: str | None = None,
        version: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        references: tuple[str, ...] = (),
    ) -> Finding:
        """A finding of this rule (its threat and control; its severity unless given)."""
        return Finding(
            rule_id=self.id,
            severity=self.severity if severity is None else severity,
            threat=self.threat,
            control=self.control,
            message=message,
            location=location,
            remediation=remediation,
            package=package,
            version=version,
            confidence=confidence,
            references=references,
        )


_REGISTRY: dict[str, Rule] = {}
DOCS = "https://github.com/bastion-security/bastion/blob/main/docs"
# Every module that declares rules: metadata only (the model and this module), no control.
RULE_MODULES: tuple[str, ...] = (
    "bastion._internal.rulesets.advisories",
    "bastion._internal.rulesets.cooldown",
    "bastion._internal.rulesets.index_confusion",
    "bastion._internal.rulesets.names",
    "bastion._internal.rulesets.pinning",
    "bastion._internal.rulesets.proxy",
    "bastion._internal.rulesets.ruff_security",
    "bastion._internal.rulesets.sbom",
    "bastion._internal.workflows.rules",
    "bastion._internal.inspect.rules",
    "bastion._internal.watch.rules",
    "bastion._internal.provenance.rules",
    "bastion._internal.inputs.unreadable",
    "bastion._internal.waivers",
)
_loaded = False


def register(*rules: Rule) -> None:
    """Make rules known (each metadata module registers its own at import)."""
    for rule in rules:
        _REGISTRY[rule.id] = rule


def _load_all() -> None:
    global _loaded
    if not _loaded:
        import importlib

        for module in RULE_MODULES:
            importlib.import_module(module)
        _loaded = True


def rule(rule_id: str) -> Rule | None:
    """The metadata of a rule id, if known (the metadata modules are imported on first miss)."""
    found = _REGISTRY.get(rule_id)
    if found is None and not _loaded:
        _load_all()
        found = _REGISTRY.get(rule_id)
    return found


def all_rules() -> tuple[Rule, ...]:
    """Every rule, sorted by id."""
    _load_all()
    return tuple(sorted(_REGISTRY.values(), key=lambda r: r.id))
