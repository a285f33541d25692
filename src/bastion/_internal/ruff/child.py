"""Run the ruff binary as a bounded child: memory, CPU, output size, wall time.

The child gets an address-space limit, a CPU-time limit and no core dumps;
its output goes to temporary files capped with ``RLIMIT_FSIZE`` (a flood of
diagnostics ends the child instead of filling memory); its environment has
no ``RUFF_*`` variables and its standard input is empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

MEMORY_BYTES = 4 * 1024 * 1024 * 1024
TIMEOUT_SECONDS = 120
MAX_OUTPUT_BYTES = 64 * 1024 * 1024


class ChildError(Exception):
    """The child could not run, ran out of a limit, or its output is unusable."""


@dataclass(frozen=True, slots=True)
class Completed:
    """What a finished child printed, and how it ended."""

    returncode: int
    stdout: bytes
    stderr: bytes


def _limits(memory: int, cpu_seconds: int, output: int) -> Callable[[], None] | None:
    if sys.platform == "win32":  # pragma: no cover - no resource module there
        return None

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (output, output))

    return apply


def run_bounded(
    argv: Sequence[str],
    cwd: Path,
    *,
    timeout: float = TIMEOUT_SECONDS,
    memory: int = MEMORY_BYTES,
    max_output: int = MAX_OUTPUT_BYTES,
) -> Completed:
    """Run ``argv`` in ``cwd`` under the limits; ``ChildError`` when it cannot finish."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUFF_")}
    cpu = max(1, int(timeout * 4))  # CPU time of every thread together
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
                list(argv),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                timeout=timeout,
                check=False,
                preexec_fn=_limits(memory, cpu, max_output),
            )
        except subprocess.TimeoutExpired:
            raise ChildError(f"did not finish within {timeout:g} s") from None
        except OSError as exc:
            raise ChildError(str(exc)) from None
        sizes = (out.tell(), err.tell())
        if max(sizes) >= max_output:
            raise ChildError(f"printed more than {max_output // (1024 * 1024)} MiB")
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if completed.returncode < 0:
        raise ChildError(f"was killed by signal {-completed.returncode} (a resource limit?)")
    return Completed(completed.returncode, stdout, stderr)
