"""The watch's rules: what each runtime finding means and what to do about it."""

from __future__ import annotations

from bastion._internal.model import Severity
from bastion._internal.rules import DOCS, Rule, register

CONTROL = "watch"
THREAT = "compromised-release"
THREATS: tuple[str, ...] = ("compromised-release", "known-malicious")
_HELP = f"{DOCS}/layers/watch.md"
_STOP = (
    "Treat the runner as compromised: stop the job, rotate every secret it could read, and "
    "find the package that started the process (the parent chain in the evidence)."
)


def _rule(rule_id: str, name: str, summary: str, help_text: str, severity: Severity) -> Rule:
    return Rule(rule_id, name, summary, help_text, severity, THREAT, CONTROL, _HELP)


RULES = {
    r.id: r
    for r in (
        _rule(
            "watch-miner",
            "CryptoMiner",
            "A process with a cryptocurrency miner's name, arguments or pool",
            _STOP,
            Severity.CRITICAL,
        ),
        _rule(
            "watch-dropped-binary",
            "DroppedBinary",
            "A binary written during the run and executed from a temporary place",
            _STOP,
            Severity.HIGH,
        ),
        _rule(
            "watch-temp-exec",
            "TempExecutable",
            "A binary executed from a temporary or cache folder",
            "Check which step put it there; build tools should run from the toolchain.",
            Severity.MEDIUM,
        ),
        _rule(
            "watch-outlived",
            "OutlivedCommand",
            "A process still running after the command exited (nohup, double fork)",
            "A build step has no reason to leave processes behind; find who started it.",
            Severity.HIGH,
        ),
        _rule(
            "watch-undeclared-connection",
            "UndeclaredConnection",
            "A connection the step did not declare",
            "Declare the destination with --allow-connect if it is expected; otherwise "
            + _STOP[0].lower()
            + _STOP[1:],
            Severity.HIGH,
        ),
        _rule(
            "watch-sustained-cpu",
            "SustainedCpu",
            "Near-full CPU sustained in a process that is not a known build tool",
            "Miners are noisy: find what the process is. Add real build tools with "
            "--build-tool NAME.",
            Severity.MEDIUM,
        ),
        _rule(
            "watch-new-executable",
            "NewExecutable",
            "An executable the recorded clean run did not start",
            "If the change is expected, record a new baseline (--record).",
            Severity.MEDIUM,
        ),
        _rule(
            "watch-new-destination",
            "NewDestination",
            "A destination the recorded clean run did not connect to",
            "If the change is expected, record a new baseline (--record).",
            Severity.MEDIUM,
        ),
        _rule(
            "watch-cpu-above-baseline",
            "CpuAboveBaseline",
            "An executable pegs a core where the recorded clean run did not",
            "If the change is expected, record a new baseline (--record).",
            Severity.LOW,
        ),
        _rule(
            "watch-incomplete",
            "WatchIncomplete",
            "The watch could not see the whole process tree",
            "Raise --max-processes, or split the step.",
            Severity.MEDIUM,
        ),
    )
}
register(*RULES.values())
