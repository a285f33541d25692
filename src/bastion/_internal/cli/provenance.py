"""``bastion provenance``: verify PEP 740 attestations, pin publishers, the SLSA view."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bastion._internal.cli.common import lock_option, requirement_option
from bastion._internal.report import FORMATS

if TYPE_CHECKING:
    from bastion._internal.model import DependencySource, Report
    from bastion._internal.provenance.model import ArtifactResult
    from bastion._internal.provenance.run import Options, Verification

_SEVERITIES = ["info", "low", "medium", "high", "critical"]
DEFAULT_INDEX = "https://pypi.org"


def _source_options(command: Callable[..., None]) -> Callable[..., None]:
    options: list[Callable[[Callable[..., None]], Callable[..., None]]] = [
        lock_option("Read this lockfile (repeatable; default: the project's locks)."),
        requirement_option("Read this requirements file (repeatable)."),
        click.option(
            "--provenance-dir",
            "provenance_dirs",
            multiple=True,
            type=click.Path(path_type=Path, file_okay=False, exists=True),
            help="<filename>.provenance files, flat or under <project>/<version>/ (repeatable).",
        ),
        click.option(
            "--online",
            is_flag=True,
            help="Ask the index's Integrity API for provenance (cached by digest).",
        ),
        click.option(
            "--index-url",
            default=DEFAULT_INDEX,
            show_default=True,
            help="The index whose /simple and /integrity APIs --online asks.",
        ),
        click.option(
            "--trust-root",
            type=click.Path(path_type=Path, dir_okay=False),
            help="A Sigstore trusted root for this run (default: the updated one, else bundled).",
        ),
        click.option(
            "--trust-file",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Expected publishers (default: bastion-provenance.toml at the project root).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _options(values: dict[str, Any]) -> Options:
    from bastion._internal.provenance.run import Options

    return Options(
        provenance_dirs=tuple(values["provenance_dirs"]),
        online=values["online"],
        index_url=values["index_url"],
        trust_root=values["trust_root"],
        trust_file=values["trust_file"],
    )


def _folder(path: Path | None) -> Path:
    root = (path or Path()).resolve()
    return root if root.is_dir() else root.parent


def _sources(path: Path | None, values: dict[str, Any]) -> list[DependencySource]:
    from bastion._internal.inputs.discovery import discover, read_dependency_file

    named = [read_dependency_file(p) for p in (*values["extra"], *values["locks"])]
    if named:
        return named
    return list(discover((path or Path()).resolve()).sources)


@click.group()
def provenance() -> None:
    """PEP 740 attestations of locked artifacts, publisher continuity, SLSA levels.

    Exit codes: 0 clean, 1 findings (a failed or discontinuous artifact),
    2 incomplete (provenance that could not be obtained), 3 usage or input error.
    """


@provenance.command("verify")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_source_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("--fail-on", type=click.Choice(_SEVERITIES), help="Lowest severity that fails.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def verify(
    path: Path | None, fmt: str, output: Path | None, fail_on: str | None, **values: Any
) -> None:
    """Verify the provenance of every locked artifact of PATH and check its publisher.

    Each artifact is verified, has no provenance, fails (with the reason), or
    could not be checked. Exit 1 on a failed or discontinuous one.
    """
    from bastion._internal.controls.provenance import ProvenanceControl
    from bastion._internal.engine import run_check
    from bastion._internal.model import Severity

    options = _options(values)
    control = ProvenanceControl(
        options.provenance_dirs,
        online=options.online,
        index_url=options.index_url,
        trust_root=options.trust_root,
        trust_file=options.trust_file,
    )
    named = (*values["extra"], *values["locks"])
    report = run_check(
        path or Path(),
        config_path=values["config_path"],
        fail_on=Severity.parse(fail_on) if fail_on else None,
        extra_files=named,
        discover_inputs=not named,
        controls=[control],
    )
    verification = control.verification
    own = None
    if verification is not None:
        from bastion._internal.provenance.publishing import own_publishing

        own = own_publishing(report.root).verdict()
    text = _render(report, verification, fmt, output, own)
    if output is not None:
        from bastion._internal.safe_write import write_atomically

        write_atomically(output, text)
        click.echo(f"bastion: report written to {output} (exit code {report.exit_code})", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_code)


def _render(
    report: Report,
    verification: Verification | None,
    fmt: str,
    output: Path | None,
    own: str | None,
) -> str:
    from bastion._internal.report import renderer

    color = output is None and sys.stdout.isatty()
    standard = renderer(fmt)(report, color)
    if verification is None:
        return standard
    if fmt == "json":
        data = json.loads(standard)
        data["provenance"] = {
            "trusted_root": str(verification.root),
            "summary": verification.summary(),
            **({"own_publishing": own} if own else {}),
            "artifacts": [_artifact_json(r) for r in verification.results],
        }
        return json.dumps(data, indent=2) + "\n"
    if fmt == "text":
        lines = [f"Own publishing: {own}"] if own else []
        lines.append(f"Provenance: {verification.summary()} (trusted root {verification.root})")
        lines += [f"  {_artifact_line(r)}" for r in verification.results]
        return "\n".join(lines) + "\n\n" + standard
    return standard


def _artifact_line(result: ArtifactResult) -> str:
    from bastion._internal.provenance.model import Outcome

    label = result.artifact.label
    if result.outcome is Outcome.VERIFIED and result.identity is not None:
        entry = result.attestations[0].log_entry if result.attestations else None
        log = f", log entry {entry.index}" if entry else ""
        return f"verified  {label}: {result.identity.display()}{log}"
    return f"{result.outcome.value:<9} {label}: {result.reason}"


def _artifact_json(result: ArtifactResult) -> dict[str, Any]:
    identity = result.identity
    return {
        "package": result.artifact.name,
        "version": result.artifact.version,
        "filename": result.artifact.filename,
        "sha256": result.artifact.sha256,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "source": result.source,
        "publisher": None
        if identity is None
        else {
            "kind": identity.kind,
            "repository": identity.repository,
            "workflow": identity.workflow,
            "environment": identity.environment or None,
        },
        "attestations": [
            {
                "predicate_type": a.predicate_type,
                "source_repository": a.build.source_repository,
                "source_commit": a.build.source_commit,
                "source_ref": a.build.source_ref,
                "build_config": a.build.build_config,
                "runner": a.build.runner,
                "trigger": a.build.trigger,
                "run_url": a.build.run_url,
                "log_index": a.log_entry.index if a.log_entry else None,
                "integrated_time": a.log_entry.integrated_time if a.log_entry else None,
            }
            for a in result.attestations
        ],
    }


@provenance.command("show")
@click.argument("release")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_source_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def show(release: str, path: Path | None, fmt: str, **values: Any) -> None:
    """Who built each file of RELEASE (NAME==VERSION): commit, workflow, log entry.

    The files are the ones PATH's lock pins for that release, else those the
    index lists (--online), else the provenance files in --provenance-dir.
    """
    from bastion._internal.provenance.run import verify_artifacts
    from bastion._internal.provenance.show import release_artifacts

    name, version = _release(release)
    options = _options(values)
    artifacts = release_artifacts(name, version, _sources(path, values), options)
    if not artifacts:
        raise click.UsageError(
            f"no file of {name}=={version} found in the lock, the provenance directories"
            + (" or the index" if options.online else " (try --online)")
        )
    verification = verify_artifacts(artifacts, {}, options)
    if fmt == "json":
        data = {
            "release": f"{name}=={version}",
            "files": [_artifact_json(r) for r in verification.results],
        }
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(f"{name}=={version}: {len(artifacts)} file(s)")
        for result in verification.results:
            click.echo(_show_block(result))
    failed = any(r.outcome.value == "failed" for r in verification.results)
    sys.exit(1 if failed else 0)


def _release(text: str) -> tuple[str, str]:
    from packaging.utils import canonicalize_name

    name, sep, version = text.partition("==")
    if not sep or not name.strip() or not version.strip():
        raise click.BadParameter("expected NAME==VERSION", param_hint="RELEASE")
    return canonicalize_name(name.strip()), version.strip()


def _show_block(result: ArtifactResult) -> str:
    lines = [f"  {result.artifact.label}"]
    lines.append(f"    sha256       {result.artifact.sha256}")
    if result.identity is None:
        lines.append(f"    {result.outcome.value}: {result.reason}")
        return "\n".join(lines)
    lines.append(f"    publisher    {result.identity.display()}")
    for attested in result.attestations:
        build = attested.build
        lines.append(f"    attestation  {attested.predicate_type}")
        lines.append(f"      source     {build.source_repository} @ {build.source_commit}")
        lines.append(f"      ref        {build.source_ref}  (event: {build.trigger})")
        lines.append(f"      workflow   {build.build_config}")
        lines.append(f"      runner     {build.runner}  run: {build.run_url}")
        if attested.log_entry is not None:
            entry = attested.log_entry
            lines.append(f"      log entry  {entry.index} (integrated {entry.integrated_time})")
            lines.append(f"                 {entry.url()}")
    return "\n".join(lines)


@provenance.command("pin")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_source_options
@click.option(
    "--replace",
    "replaced",
    multiple=True,
    metavar="NAME",
    help="Accept a new publisher for NAME (after you confirmed the move; repeatable).",
)
def pin(path: Path | None, replaced: tuple[str, ...], **values: Any) -> None:
    """Write the publisher each locked package was proven to have into the trust file.

    Review the change like a lock change. A package whose proven publisher
    differs from its pin is refused unless named with --replace; a failed
    verification refuses the whole pin.
    """
    from packaging.utils import canonicalize_name

    from bastion._internal.provenance.locate import locked_artifacts
    from bastion._internal.provenance.model import Identity, Outcome
    from bastion._internal.provenance.run import verify_artifacts
    from bastion._internal.provenance.trust_file import (
        read_trust_file,
        trust_file_path,
        write_trust_file,
    )

    options = _options(values)
    target = options.trust_file or trust_file_path(_folder(path))
    existing = read_trust_file(target) if target.is_file() else {}
    artifacts = locked_artifacts(_sources(path, values))
    verification = verify_artifacts(artifacts, {}, options)
    failed = [r for r in verification.results if r.outcome is Outcome.FAILED]
    if failed:
        first = failed[0]
        click.echo(
            f"bastion: {len(failed)} artifact(s) fail verification, nothing pinned "
            f"(first: {first.artifact.label}: {first.reason})",
            err=True,
        )
        sys.exit(1)
    proven: dict[str, set[Identity]] = {}
    for result in verification.results:
        if result.outcome is Outcome.VERIFIED and result.identity is not None:
            proven.setdefault(result.artifact.name, set()).add(result.identity)
    allowed = {canonicalize_name(n) for n in replaced}
    pins: dict[str, set[Identity]] = {n: set(e.identities) for n, e in existing.items()}
    conflicts = []
    for name, identities in sorted(proven.items()):
        old = pins.get(name)
        if old is not None and name not in allowed:
            new = {i for i in identities if all(o.differences(i) for o in old)}
            if new:
                shown = "; ".join(sorted(i.display() for i in new))
                conflicts.append(f"{name}: proven {shown}, pinned otherwise")
            continue
        pins[name] = identities
    if conflicts:
        shown = " | ".join(conflicts)
        click.echo(
            "bastion: publisher differs from the pin, nothing written (confirm the move, "
            f"then --replace NAME): {shown}",
            err=True,
        )
        sys.exit(1)
    write_trust_file(target, pins)
    never = verification.never_attested()
    click.echo(
        f"bastion: {len(pins)} publisher pin(s) written to {target} "
        f"({len(proven)} proven now; {never} package(s) never attested, not pinned)",
        err=True,
    )


@provenance.command("slsa")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_source_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def slsa(path: Path | None, fmt: str, **values: Any) -> None:
    """The SLSA Build level the evidence supports, per dependency and for your own releases."""
    from bastion._internal.provenance.publishing import own_publishing
    from bastion._internal.provenance.run import verify_sources
    from bastion._internal.provenance.slsa import dependency_levels, own_level

    folder = _folder(path)
    verification = verify_sources(folder, _sources(path, values), _options(values))
    own = own_publishing(folder)
    levels = [own_level(own), *dependency_levels(verification.results)]
    if fmt == "json":
        data = {
            "own_publishing": own.verdict(),
            "levels": [
                {
                    "subject": level.subject,
                    "level": level.level,
                    "evidence": list(level.evidence),
                    "next_step": level.next_step or None,
                }
                for level in levels
            ],
        }
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Own publishing: {own.verdict()}")
    for level in levels:
        click.echo(f"  SLSA Build L{level.level}  {level.subject}")
        for item in level.evidence:
            click.echo(f"      {item}")
        if level.next_step:
            click.echo(f"      next: {level.next_step}")


@provenance.command("update-root")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A Sigstore trusted_root.json (e.g. from sigstore's TUF repository).",
)
def update_root(source: Path) -> None:
    """Check a Sigstore trusted root and use it from now on instead of the bundled one."""
    from bastion._internal.provenance.trust_root import describe
    from bastion._internal.provenance.trust_root import update_root as install

    target = install(source)
    click.echo(f"bastion: trusted root installed: {describe(target)}", err=True)


@provenance.command("root")
def root() -> None:
    """Which Sigstore trusted root verification uses."""
    from bastion._internal.provenance.trust_root import bundled_root, describe, root_path

    path = root_path()
    where = "bundled" if path == bundled_root() else "updated (bastion provenance update-root)"
    click.echo(f"{where}: {describe(path)}")
