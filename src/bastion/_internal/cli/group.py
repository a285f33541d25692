"""The click group behind ``bastion``: subcommands imported on first use, errors mapped to
exit codes. ``bastion --help`` and ``--version`` at a normal width never import it (see
``bastion._internal.cli.quick_answer``).
"""

from __future__ import annotations

import importlib

import click

from bastion._internal.cli import COMMANDS, DESCRIPTION, EXIT_INCOMPLETE, EXIT_USAGE
from bastion._internal.errors import BastionError, IncompleteError
from bastion._internal.version import VERSION


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, by name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"bastion._internal.cli.{entry[0]}")
        command = getattr(module, entry[1])
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{entry[0]}.{entry[1]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup, help=DESCRIPTION, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(VERSION, "--version", prog_name="bastion")
def cli() -> None:
    pass


def run_click(argv: list[str] | None = None) -> int:
    """Run the command line through click and return the exit code (no tracebacks)."""
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
