"""The inspect layer's rules, and its hits turned into report findings."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.inspect.hits import Hit
from bastion._internal.model import Finding, Location, Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "inspect"
MALWARE = "known-malicious"
COMPROMISE = "compromised-release"
THREATS = (COMPROMISE, MALWARE)
_HELP = f"{DOCS}/layers/inspect.md"
_DO_NOT_INSTALL = "Do not install this artifact; report it to the index and the maintainers."


def _rule(
    rule_id: str, name: str, summary: str, help_text: str, severity: Severity, threat: str
) -> Rule:
    return Rule(rule_id, name, summary, help_text, severity, threat, CONTROL, _HELP)


RULES = {
    r.id: r
    for r in (
        _rule(
            "inspect-decode-exec",
            "DecodeExec",
            "Executes base64/zlib/marshal/hex/reversed data",
            _DO_NOT_INSTALL,
            Severity.HIGH,
            MALWARE,
        ),
        _rule(
            "inspect-remote-exec",
            "RemoteExec",
            "Executes code it downloaded",
            _DO_NOT_INSTALL,
            Severity.CRITICAL,
            MALWARE,
        ),
        _rule(
            "inspect-download-exec",
            "DownloadExec",
            "Downloads a file and runs it or makes it executable",
            _DO_NOT_INSTALL,
            Severity.HIGH,
            MALWARE,
        ),
        _rule(
            "inspect-miner",
            "Miner",
            "Cryptocurrency miner indicator (xmrig, stratum URL, pool)",
            _DO_NOT_INSTALL,
            Severity.HIGH,
            MALWARE,
        ),
        _rule(
            "inspect-webhook",
            "Webhook",
            "Messenger webhook with its token (a common exfiltration channel)",
            "Check what is sent to it.",
            Severity.MEDIUM,
            MALWARE,
        ),
        _rule(
            "inspect-reverse-shell",
            "ReverseShell",
            "Socket wired to a shell's stdin/stdout (reverse shell)",
            _DO_NOT_INSTALL,
            Severity.CRITICAL,
            MALWARE,
        ),
        _rule(
            "inspect-credential-exfil",
            "CredentialExfil",
            "Sends credentials or the environment over the network",
            _DO_NOT_INSTALL,
            Severity.CRITICAL,
            MALWARE,
        ),
        _rule(
            "inspect-install-hook",
            "InstallHook",
            "Install-time code (setup.py, cmdclass) connects or fetches",
            "Read setup.py before building this sdist; prefer the wheel.",
            Severity.MEDIUM,
            COMPROMISE,
        ),
        _rule(
            "inspect-import-time",
            "ImportTime",
            "Module code that spawns or connects when imported",
            "Check why importing the package starts a process or a connection.",
            Severity.MEDIUM,
            COMPROMISE,
        ),
        _rule(
            "inspect-pth",
            "PthExec",
            ".pth line that runs risky code at every interpreter start",
            _DO_NOT_INSTALL,
            Severity.HIGH,
            MALWARE,
        ),
        _rule(
            "inspect-unicode",
            "TrojanSource",
            "Bidirectional control or confusable letters in code",
            "Read the file with the controls shown; ask the maintainers.",
            Severity.MEDIUM,
            COMPROMISE,
        ),
        _rule(
            "inspect-native-in-pure",
            "NativeInPure",
            "Native binary inside a pure-Python wheel",
            "Find out what the binary is and who runs it.",
            Severity.MEDIUM,
            COMPROMISE,
        ),
        _rule(
            "inspect-record",
            "RecordMismatch",
            "RECORD does not match the wheel's files",
            "The wheel changed after it was built: get it again from the index and compare hashes.",
            Severity.HIGH,
            COMPROMISE,
        ),
        _rule(
            "inspect-archive-link",
            "ArchiveLink",
            "Link or device member pointing out of the archive",
            _DO_NOT_INSTALL,
            Severity.HIGH,
            COMPROMISE,
        ),
        _rule(
            "inspect-obfuscated",
            "Obfuscated",
            "Code built to defeat reading (nested beyond parsing)",
            "Read the file; legitimate code is not nested this deep.",
            Severity.MEDIUM,
            MALWARE,
        ),
        _rule(
            "inspect-wheel-sdist",
            "WheelNotFromSdist",
            "Wheel file absent from, or different in, the sdist of the same version",
            "Rebuild the wheel from the sdist and compare; ask the maintainers.",
            Severity.HIGH,
            COMPROMISE,
        ),
        _rule(
            "inspect-source-added",
            "SourceAdded",
            "File in the artifact that is in no file of the source tree",
            "The release holds code its repository does not: compare with the maintainers.",
            Severity.HIGH,
            COMPROMISE,
        ),
        _rule(
            "inspect-source-changed",
            "SourceChanged",
            "File whose content differs from the source tree at the release tag",
            "The release holds code its repository does not: compare with the maintainers.",
            Severity.HIGH,
            COMPROMISE,
        ),
        _rule(
            "inspect-capability",
            "Capability",
            "What the code can do (information, not a finding)",
            "Information only.",
            Severity.INFO,
            COMPROMISE,
        ),
    )
}
register(*RULES.values())


def to_findings(
    hits: tuple[Hit, ...] | list[Hit],
    artifact: Path,
    *,
    package: str | None = None,
    version: str | None = None,
    capabilities: bool = False,
) -> list[Finding]:
    """Report findings for ``hits`` in ``artifact`` (capabilities only when asked for)."""
    findings = []
    for hit in hits:
        rule = RULES[hit.rule or "inspect-capability"]
        if not hit.rule and not capabilities:
            continue
        message = (
            f"{rule.summary}: {hit.evidence}"
            if hit.rule
            else f"capability {hit.capability}: {hit.evidence}"
        )
        findings.append(
            rule.finding(
                message,
                Location(artifact / hit.member, hit.line),
                rule.help,
                package=package,
                version=version,
                severity=hit.severity,
            )
        )
    return findings
