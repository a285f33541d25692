"""The rule registry stands apart from the controls (issue 19)."""

from __future__ import annotations

import json
import subprocess
import sys

from bastion._internal import rules
from bastion._internal.controls import CONTROL_IDS, default_controls

_LIST_RULES = """
import json, sys
from bastion._internal.rules import all_rules
found = [[r.id, r.control, r.threat, r.severity.label, r.summary, r.help, r.help_uri]
         for r in all_rules()]
print(json.dumps({"rules": found, "modules": sorted(sys.modules)}))
"""


def _fresh_listing() -> dict[str, list[object]]:
    completed = subprocess.run(
        [sys.executable, "-c", _LIST_RULES], capture_output=True, text=True, check=True, timeout=120
    )
    data = json.loads(completed.stdout)
    assert isinstance(data, dict)
    return data


def test_listing_rules_imports_no_control() -> None:
    data = _fresh_listing()
    modules = [str(m) for m in data["modules"]]
    controls = [m for m in modules if m.startswith("bastion._internal.controls.")]
    assert controls == []
    for heavy in ("yaml", "bastion._internal.workflows.audit", "email.parser", "tarfile", "rich"):
        assert heavy not in modules


def test_listed_rules_are_the_ones_the_controls_report() -> None:
    # Importing every control (as check does) adds no rule and changes none: the
    # metadata modules declare all of them, identically.
    listed = {row[0]: row for row in _fresh_listing()["rules"]}  # type: ignore[index]
    default_controls()
    import bastion._internal.cli.sbom
    import bastion._internal.inspect.session
    import bastion._internal.provenance.continuity
    import bastion._internal.watch.runner  # noqa: F401

    here = {
        r.id: [r.id, r.control, r.threat, r.severity.label, r.summary, r.help, r.help_uri]
        for r in rules.all_rules()
    }
    assert here == listed
    assert {"known-vulnerable", "typosquat", "unpinned-requirement", "S"} <= set(listed)


def test_every_control_has_rules_or_is_rule_free() -> None:
    with_rules = {r.control for r in rules.all_rules()}
    assert with_rules - set(CONTROL_IDS) <= {"waivers", "inputs"}
    assert {"pinning", "advisories", "workflows", "sbom", "cooldown"} <= with_rules


def test_unknown_rule_is_none_after_loading_everything() -> None:
    assert rules.rule("no-such-rule") is None
    assert rules.rule("known-malicious") is not None


def test_control_ids_name_what_default_controls_builds() -> None:
    assert tuple(c.id for c in default_controls()) == CONTROL_IDS
