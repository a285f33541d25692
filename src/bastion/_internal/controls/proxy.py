"""The ``quarantine-index`` control: does the project install only through a quarantine index?

A quarantine index (``bastion proxy``, or a commercial one) holds new releases
back and refuses known-malicious versions on the server. The project names
its quarantine indexes with ``quarantine-indexes`` in its bastion settings;
this control finds every index the install settings point at
(``bastion._internal.proxy.routes``) and reports each one that is not a
quarantine index as a way around it. The control counts as enforced when CI
installs through a quarantine index (``PIP_INDEX_URL``/``UV_INDEX_URL``/
``UV_DEFAULT_INDEX`` or ``--index-url`` in a workflow) and no setting names
another index.
"""

from __future__ import annotations

from bastion._internal.controls.base import Project, not_configured
from bastion._internal.model import ControlResult, ControlStatus, Finding
from bastion._internal.rulesets.proxy import BYPASS, CONTROL, UNUSED


def _matches(url: str, quarantine: tuple[str, ...]) -> bool:
    return any(url == q or url.startswith(q + "/") for q in quarantine)


class QuarantineIndexControl:
    """The mirror delay: installs go through an index that holds new releases back."""

    id = CONTROL
    title = "Quarantine index (mirror delay)"
    threats: tuple[str, ...] = ("compromised-release", "known-malicious")

    def run(self, project: Project) -> ControlResult:
        """Compare the indexes the install settings name with the quarantine indexes."""
        from bastion._internal.proxy.routes import install_routes

        quarantine = project.config.quarantine_indexes
        if not quarantine:
            return not_configured(
                self, "no quarantine index configured (quarantine-indexes; docs/proxy.md)"
            )
        routes = install_routes(project)
        through = [r for r in routes if _matches(r.url, quarantine)]
        unknown = [r for r in routes if not r.known]
        others = [r for r in routes if r.known and not _matches(r.url, quarantine)]
        findings: list[Finding] = []
        for route in others:
            findings.append(
                BYPASS.finding(
                    f"{route.via} points at {route.url}, which is not a quarantine index: "
                    "releases from it are not held back",
                    route.location,
                    BYPASS.help,
                )
            )
        if not through:
            findings.append(
                UNUSED.finding(
                    f"no install setting uses the quarantine index ({', '.join(quarantine)})",
                    None,
                    UNUSED.help,
                )
            )
        ci_through = [r for r in through if r.ci]
        notes = [f"{len(through)} setting(s) install through {', '.join(quarantine)}"]
        if ci_through:
            notes.append("CI: " + ", ".join(sorted({r.via for r in ci_through})))
        if unknown:
            notes.append(
                f"{len(unknown)} setting(s) name an index only CI knows ("
                + ", ".join(sorted({r.via for r in unknown}))
                + "): not counted"
            )
        enforced = True if ci_through and not others else None
        status = ControlStatus.FAIL if findings else ControlStatus.PASS
        return ControlResult(
            CONTROL, status, self.threats, tuple(findings), "; ".join(notes), enforced=enforced
        )
