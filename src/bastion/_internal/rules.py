"""Rule metadata: what each finding id means and how to fix it (SARIF and docs use this)."""

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


def register(*rules: Rule) -> None:
    """Make rules known (each control registers its own at import)."""
    for rule in rules:
        _REGISTRY[rule.id] = rule


def rule(rule_id: str) -> Rule | None:
    """The metadata of a rule id, if registered."""
    return _REGISTRY.get(rule_id)


def all_rules() -> tuple[Rule, ...]:
    """Every registered rule, sorted by id."""
    return tuple(sorted(_REGISTRY.values(), key=lambda r: r.id))
