"""Errors that end a run with exit code 3 (usage or input error)."""

from __future__ import annotations

from pathlib import Path


class BastionError(Exception):
    """Base class of the errors bastion reports as one line and exit code 3."""

    def one_line(self) -> str:
        """The message, folded onto one line."""
        return " ".join(str(self).split())


class InputError(BastionError):
    """A file bastion was asked to read is malformed, missing or too large."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class ConfigError(InputError):
    """The bastion configuration is invalid."""


class UsageError(BastionError):
    """The command line asks for something that cannot be done."""


class IncompleteError(BastionError):
    """The answer cannot be vouched for (missing or stale data): exit code 2, not 3."""


class DownloadError(IncompleteError):
    """Data could not be fetched (network, HTTP status, size): exit code 2, not 3."""
