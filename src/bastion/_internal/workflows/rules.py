"""The workflow rules: ids (zizmor's where the meaning is the same), meaning, severity."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.model import Confidence, Finding, Location, Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "workflows"
THREAT = "ci-compromise"
_HELP = f"{DOCS}/layers/workflows.md"


def _rule(rule_id: str, name: str, summary: str, help_text: str, severity: Severity) -> Rule:
    return Rule(rule_id, name, summary, help_text, severity, THREAT, CONTROL, f"{_HELP}#{rule_id}")


RULES = {
    rule.id: rule
    for rule in (
        _rule(
            "template-injection",
            "TemplateInjection",
            "Attacker-controlled text expanded into a script",
            "Pass the value through env: and quote the variable in the script.",
            Severity.HIGH,
        ),
        _rule(
            "dangerous-triggers",
            "DangerousTriggers",
            "Privileged trigger (pull_request_target or workflow_run)",
            "Use pull_request, or never run the pull request's code in this workflow.",
            Severity.MEDIUM,
        ),
        _rule(
            "pwn-request",
            "PwnRequest",
            "Privileged trigger checks out and runs pull request code",
            "Build untrusted code under pull_request; hand results over as artifacts.",
            Severity.CRITICAL,
        ),
        _rule(
            "excessive-permissions",
            "ExcessivePermissions",
            "Token permissions wider than the job needs",
            "Add 'permissions: {}' at the top and grant each job only what it uses.",
            Severity.MEDIUM,
        ),
        _rule(
            "unpinned-uses",
            "UnpinnedUses",
            "Action or image not pinned to a commit SHA or digest",
            "Pin to the full 40-character commit SHA (keep the tag in a comment).",
            Severity.MEDIUM,
        ),
        _rule(
            "unpinned-images",
            "UnpinnedImages",
            "Job container or service image not pinned to a digest",
            "Pin the image by digest: image:tag@sha256:<digest>.",
            Severity.MEDIUM,
        ),
        _rule(
            "cache-poisoning",
            "CachePoisoning",
            "Release job restores a cache an attacker can write",
            "Do not restore caches in jobs that build or publish releases.",
            Severity.HIGH,
        ),
        _rule(
            "use-trusted-publishing",
            "UseTrustedPublishing",
            "Long-lived PyPI token used to publish",
            "Publish with trusted publishing (id-token: write) and revoke the token.",
            Severity.MEDIUM,
        ),
        _rule(
            "artipacked",
            "Artipacked",
            "Checkout leaves the token in .git/config",
            "Set 'persist-credentials: false' on actions/checkout.",
            Severity.MEDIUM,
        ),
        _rule(
            "github-env",
            "GithubEnv",
            "Write to GITHUB_ENV or GITHUB_PATH under a privileged trigger",
            "Pass values through step outputs, or do not run on privileged triggers.",
            Severity.HIGH,
        ),
        _rule(
            "secrets-inherit",
            "SecretsInherit",
            "Reusable workflow gets every secret",
            "Pass the secrets the called workflow needs by name.",
            Severity.MEDIUM,
        ),
        _rule(
            "bot-conditions",
            "BotConditions",
            "Condition trusts a spoofable bot actor",
            "Compare github.event.pull_request.user.login, not github.actor.",
            Severity.HIGH,
        ),
        _rule(
            "self-hosted-runner",
            "SelfHostedRunner",
            "Self-hosted runner reachable from pull requests",
            "Run pull request workflows on GitHub-hosted (ephemeral) runners.",
            Severity.HIGH,
        ),
        _rule(
            "download-execute",
            "DownloadExecute",
            "Script downloaded and executed without a checksum",
            "Download to a file, verify its checksum, then run it.",
            Severity.MEDIUM,
        ),
        _rule(
            "unanalysable-action",
            "UnanalysableAction",
            "Remote action on a mutable ref that bastion could not read",
            "Pin it to a commit SHA, or pass --actions-dir or --online so it is audited.",
            Severity.LOW,
        ),
        _rule(
            "fail-open-check",
            "FailOpenCheck",
            "Security check in CI that cannot fail the build",
            "Remove continue-on-error, '|| true', 'set +e' and exit-zero flags.",
            Severity.MEDIUM,
        ),
        _rule(
            "unhashed-install",
            "UnhashedInstall",
            "CI installs packages without hash checking",
            "Install from a hashed lock: pip --require-hashes, uv sync --locked.",
            Severity.MEDIUM,
        ),
        _rule(
            "workflow-unreadable",
            "WorkflowUnreadable",
            "Workflow or action file that could not be read",
            "Fix the file; GitHub would reject it too, and bastion cannot audit it.",
            Severity.MEDIUM,
        ),
        _rule(
            "workflow-syntax",
            "WorkflowSyntax",
            "Unknown key or expression that does not parse",
            "Fix the key or the expression; bastion audits the rest of the file.",
            Severity.LOW,
        ),
    )
}
register(*RULES.values())


def finding(
    rule_id: str,
    path: Path,
    line: int | None,
    message: str,
    *,
    column: int | None = None,
    severity: Severity | None = None,
    confidence: Confidence = Confidence.HIGH,
    remediation: str | None = None,
    references: tuple[str, ...] = (),
) -> Finding:
    """A finding of a workflow rule at ``path:line[:column]``."""
    rule = RULES[rule_id]
    return rule.finding(
        message,
        Location(path, line, column),
        rule.help if remediation is None else remediation,
        severity=severity,
        confidence=confidence,
        references=references,
    )


def raised(severity: Severity, privileged: bool) -> Severity:
    """One step more severe under a privileged trigger."""
    return Severity(min(severity + 1, Severity.CRITICAL)) if privileged else severity
