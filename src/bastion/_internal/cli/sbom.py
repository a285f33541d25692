"""``bastion sbom``: generate and check SBOMs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bastion._internal.cli.common import (
    discovered_sources,
    env_option,
    lock_option,
    requirement_option,
    with_discovery_options,
)
from bastion._internal.cli.db import DATABASE
from bastion._internal.safe_write import write_atomically


class _SbomGroup(click.Group):
    """``bastion sbom [PATH]`` generates; ``bastion sbom check FILE`` checks."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["generate", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] [PATH]  |  COMMAND [ARGS]...")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The plain ``bastion sbom PATH`` form's options first, then the commands."""
        generate = self.commands["generate"]
        records = [
            record
            for param in generate.get_params(ctx)
            if (record := param.get_help_record(ctx)) is not None and "--help" not in record[0]
        ]
        with formatter.section("Options of bastion sbom [PATH] (same as bastion sbom generate)"):
            formatter.write_dl(records)
        super().format_options(ctx, formatter)


@click.group(cls=_SbomGroup)
def sbom() -> None:
    """SBOMs: generate one (bastion sbom [PATH]) or check any (bastion sbom check FILE)."""


@sbom.command("generate")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@env_option("Describe an installed environment (default: this interpreter) instead of the lock.")
@requirement_option("Describe this requirements file (repeatable) instead of the project.")
@lock_option("Describe this lockfile (repeatable) instead of the project.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "xml"]), default="json", show_default=True
)
@click.option(
    "--spec-version",
    type=click.Choice(["1.5", "1.6", "1.7"]),
    default="1.6",
    show_default=True,
    help="CycloneDX version.",
)
@click.option(
    "--author", "authors", multiple=True, help="SBOM author (default: pyproject authors)."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the SBOM here.")
@click.option(
    "--with-vulnerabilities",
    is_flag=True,
    help="Add the advisory layer's findings; waivers become VEX analyses.",
)
@click.option(
    "--db",
    "db_path",
    type=DATABASE,
    help="Advisory database for --with-vulnerabilities (a path or sqlite:///PATH; default: "
    "the user cache).",
)
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="Config file (waivers)."
)
@click.option(
    "--advisory-max-days",
    type=click.IntRange(0, 36500),
    help="Oldest advisory data accepted for --with-vulnerabilities (overrides the config).",
)
@with_discovery_options
def sbom_generate(
    path: Path | None,
    env: str | None,
    extra: tuple[Path, ...],
    locks: tuple[Path, ...],
    fmt: str,
    spec_version: str,
    authors: tuple[str, ...],
    output: Path | None,
    with_vulnerabilities: bool,
    db_path: Path | None,
    config_path: Path | None,
    advisory_max_days: int | None,
    exclude: tuple[str, ...],
    include: tuple[str, ...],
) -> None:
    """Write a CycloneDX SBOM of PATH's locked packages (or of --env).

    Every component has supplier, licence (when the metadata says), purl,
    hashes, scope and its dependencies; set SOURCE_DATE_EPOCH for a
    byte-identical SBOM of the same input. --with-vulnerabilities adds what
    the offline advisory database knows of them, each live waiver as a VEX
    analysis (state, justification, the waiver's reason); advisory data past
    advisory-max-days is refused with exit code 2.
    """
    from bastion._internal.inputs.discovery import read_dependency_file
    from bastion._internal.inputs.environment import parse_environment
    from bastion._internal.sbom.generate import (
        build_bom,
        component_count,
        root_project,
        sbom_packages,
    )

    root = (path or Path()).resolve()
    folder = root if root.is_dir() else root.parent
    sources = [read_dependency_file(p) for p in (*extra, *locks)]
    if env is not None:
        sources.append(parse_environment(None if env == "<current>" else Path(env)))
    if not sources:
        sources = list(discovered_sources(root, exclude, include).sources)
    if not sources:
        raise click.UsageError(f"no lockfile or requirements file in {folder}; use --env or --lock")
    found: tuple[Any, ...] = ()
    if with_vulnerabilities:
        from datetime import UTC, datetime

        from bastion._internal.config import load_config
        from bastion._internal.sbom.vulnerabilities import scan_packages

        config = load_config(folder, config_path)
        scan = scan_packages(
            sbom_packages(sources),
            config.waivers,
            db_path=db_path,
            max_days=config.advisory_max_days if advisory_max_days is None else advisory_max_days,
            now=datetime.now(UTC),
        )
        found = scan.found
        analysed = sum(1 for f in found if f.analysis is not None)
        note = f"{len(found)} vulnerabilit{'y' if len(found) == 1 else 'ies'}"
        note += f" ({analysed} with a VEX analysis from a waiver)" if analysed else ""
        if scan.expired_waivers:
            note += f"; {scan.expired_waivers} expired waiver(s) not applied"
        click.echo(f"bastion: {note}, from {scan.database}", err=True)
    text = build_bom(
        sources,
        root_project(folder),
        spec_version=spec_version,
        fmt=fmt,
        authors=authors,
        vulnerabilities=found,
    )
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(output, text)
    count = component_count(sources)
    click.echo(f"bastion: SBOM of {count} component(s) written to {output}", err=True)


@sbom.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--profile",
    type=click.Choice(["ntia", "cisa-2025"]),
    default="ntia",
    show_default=True,
    help="Which minimum elements are required (every element is shown either way).",
)
def sbom_check(file: Path, fmt: str, profile: str) -> None:
    """Check any CycloneDX (JSON, XML) or SPDX 2.3 JSON SBOM for the minimum elements.

    NTIA 2021: supplier, name, version, unique identifier, dependency
    relationships, author, timestamp. CISA 2025 adds hash, licence, tool,
    generation context. Exit 1 when an element the profile requires is missing.
    """
    import json as json_module

    from bastion._internal.sbom.elements import PROFILE_TITLES, PROFILES, check_elements
    from bastion._internal.sbom.read import read_sbom

    report = check_elements(read_sbom(file), profile=profile)
    required = PROFILES[profile]
    document = report.document
    if fmt == "json":
        data = {
            "file": str(file),
            "format": document.format,
            "spec_version": document.spec_version,
            "components": len(document.components),
            "profile": profile,
            "complete": report.complete,
            "elements": [
                {
                    "element": e.element,
                    "source": e.source,
                    "passing": e.passing,
                    "total": e.total,
                    "document_level": e.document_level,
                    "complete": e.complete,
                    "required": e.source in required,
                    "missing": list(e.missing),
                }
                for e in report.elements
            ],
        }
        click.echo(json_module.dumps(data, indent=2))
    else:
        kind = (
            f"{'CycloneDX' if document.format == 'cyclonedx' else 'SPDX'} {document.spec_version}"
        )
        click.echo(f"{file}: {kind} {document.encoding}, {len(document.components)} components")
        for e in report.elements:
            mark = "ok     " if e.complete else ("MISSING" if e.source in required else "absent ")
            scope = "document" if e.document_level else f"{e.passing}/{e.total} components"
            example = f"  e.g. {', '.join(e.missing[:3])}" if e.missing and not e.complete else ""
            click.echo(f"  {mark} {e.element:<26} {e.source}  {scope}{example}")
        verdict = "complete" if report.complete else "incomplete"
        click.echo(
            f"{verdict} for the {PROFILE_TITLES[profile]} (--profile {profile}): "
            f"exit code {0 if report.complete else 1}"
        )
    sys.exit(0 if report.complete else 1)
