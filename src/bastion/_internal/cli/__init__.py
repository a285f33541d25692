"""The ``bastion`` command. Thin: each command group lives in its own module and is
imported only when it runs (``bastion --help`` imports none of them).

Exit codes: 0 clean, 1 findings at or above the threshold, 2 incomplete
(something could not be checked), 3 usage or input error.

A new command group is one module here and one line in ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import sys

import click

from bastion._internal.errors import BastionError, IncompleteError
from bastion._internal.version import VERSION

EXIT_INCOMPLETE = 2
EXIT_USAGE = 3

# name -> (module under bastion._internal.cli, attribute, one-line help for `bastion --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("check", "check", "Run every layer on PATH and print the threat coverage matrix."),
    "audit": ("audit", "audit", "Audit pinned packages against the offline advisory database."),
    "workflows": ("workflows", "workflows", "Audit the GitHub Actions workflows of PATH."),
    "sbom": ("sbom", "sbom", "Generate a CycloneDX SBOM, or check any SBOM's elements."),
    "inventory": ("inventory", "inventory", "Which service release ships which component."),
    "db": ("db", "db", "The offline advisory database (OSV records for PyPI)."),
    "names": ("names", "names", "Judge package names: look-alikes, the approved list."),
    "inspect": (
        "inspect",
        "inspect",
        "Inspect wheels and sdists for install- and import-time payloads.",
    ),
    "proxy": (
        "proxy",
        "proxy",
        "A package index that holds new releases back and verifies every byte.",
    ),
    "provenance": (
        "provenance",
        "provenance",
        "Verify PEP 740 attestations and publisher continuity.",
    ),
    "watch": ("watch", "watch", "Run a command and watch its process tree for payloads."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, by name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"{__name__}.{entry[0]}")
        command = getattr(module, entry[1])
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{entry[0]}.{entry[1]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, "--version", prog_name="bastion")
def cli() -> None:
    """Defend a Python project's supply chain in depth.

    Exit codes: 0 clean, 1 findings at or above the threshold, 2 incomplete
    (a layer could not run), 3 usage or input error.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command line and return the exit code (no tracebacks)."""
    try:
        cli.main(args=argv, prog_name="bastion", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.Abort:
        click.echo("bastion: aborted", err=True)
        return 130
    except IncompleteError as exc:
        click.echo(f"bastion: error: {_printable(exc.one_line())}", err=True)
        return EXIT_INCOMPLETE
    except BastionError as exc:
        click.echo(f"bastion: error: {_printable(exc.one_line())}", err=True)
        return EXIT_USAGE
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130
    return 0


def _printable(text: str) -> str:
    """An error line with its control characters shown escaped (it may quote hostile input)."""
    from bastion._internal.report.common import printable

    return printable(text)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
