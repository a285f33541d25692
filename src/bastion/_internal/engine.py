"""``bastion check``: read the inputs, run every control, apply waivers, compute coverage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bastion._internal.config import Config, load_config
from bastion._internal.controls import CONTROL_IDS, Control, Project, default_controls
from bastion._internal.errors import BastionError, ConfigError
from bastion._internal.inputs.discovery import ProjectInputs, discover, read_dependency_file
from bastion._internal.inputs.unreadable import unreadable_result
from bastion._internal.markers import Target
from bastion._internal.model import ControlResult, ControlStatus, Report, Severity
from bastion._internal.threats import DETECTS_ONLY, coverage
from bastion._internal.waivers import apply_waivers

CURRENT_ENVIRONMENT = Path("<current>")


def run_check(
    path: Path,
    *,
    config_path: Path | None = None,
    fail_on: Severity | None = None,
    extra_files: Sequence[Path] = (),
    environment: Path | None = None,
    controls: Sequence[Control] | None = None,
    now: datetime | None = None,
    discover_inputs: bool = True,
    advisory_db: Path | None = None,
    target: Target | None = None,
    online: bool = False,
    actions_dirs: tuple[Path, ...] = (),
    provenance_dirs: tuple[Path, ...] = (),
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    progress: Callable[[int, int, str], None] | None = None,
    zizmor_ignores: bool = True,
    advisory_max_days: int | None = None,
) -> Report:
    """Run every available control on the project at ``path`` and build the report.

    ``environment`` adds an installed environment (``CURRENT_ENVIRONMENT`` for
    the running interpreter). With ``discover_inputs`` false only the extra
    files and the environment are read. ``controls`` replaces the default set,
    and the coverage matrix then shows only their threats. ``target`` (a
    Python version and platform) overrides the configured one for marker
    evaluation. ``online`` lets the names-and-age controls query the package
    index and the workflow audit fetch remote actions; nothing else touches the
    network. ``actions_dirs`` hold local copies of remote actions. ``exclude``
    globs add to the configured ones; ``include`` globs read inputs below
    folders the project does not install from (tests, fixtures, docs...).
    Errors in a file the user named and in the configuration raise
    ``BastionError``; a discovered input that cannot be read and a control
    that fails unexpectedly are reported as ``error`` (exit code 2).
    ``progress`` is told (step, steps, title) before each control and once at the end.
    ``advisory_max_days`` overrides the configured ``advisory-max-days``.
    """
    root = path.resolve()
    project_root = root if root.is_dir() else root.parent
    config = load_config(project_root, config_path)
    if fail_on is not None:
        config = replace(config, fail_on=fail_on)
    if target is not None:
        config = replace(config, target=target)
    if advisory_max_days is not None:
        config = replace(config, advisory_max_days=advisory_max_days)
    if exclude:
        config = replace(config, exclude=(*config.exclude, *exclude))
    if discover_inputs:
        inputs = discover(root, config.exclude, include)
    else:
        inputs = ProjectInputs(project_root, (), ())
    added = [read_dependency_file(p) for p in extra_files]
    if environment is not None:
        from bastion._internal.inputs.environment import parse_environment

        env_path = None if environment == CURRENT_ENVIRONMENT else environment
        added.append(parse_environment(env_path))
    if added:
        inputs = replace(inputs, sources=inputs.sources + tuple(added))
    _freeze_if_frozen()
    project = Project(project_root, inputs, config)
    chosen = (
        list(controls)
        if controls is not None
        else default_controls(
            advisory_db,
            online=online,
            now=now,
            actions_dirs=actions_dirs,
            zizmor_ignores=zizmor_ignores,
            provenance_dirs=provenance_dirs,
        )
    )
    known_ids = list(CONTROL_IDS)
    unknown = config.disable - {c.id for c in chosen} - set(known_ids)
    if unknown and config.path is not None:
        known = ", ".join(known_ids)
        raise ConfigError(
            config.path, f"disable names unknown control(s) {sorted(unknown)} (known: {known})"
        )
    ran = []
    for index, control in enumerate(chosen):
        if progress is not None:
            progress(index, len(chosen), control.title)
        ran.append(_run_one(control, project, config))
    if progress is not None:
        progress(len(chosen), len(chosen), "")
    results = _with_enforcement(ran)
    not_read = unreadable_result(inputs)
    if not_read is not None:
        results.insert(0, not_read)
    moment = now or datetime.now(UTC)
    outcome = apply_waivers(results, config.waivers, moment)
    all_results = outcome.results + ((outcome.waiver_result,) if outcome.waiver_result else ())
    findings = [f for r in all_results for f in r.findings]
    only = frozenset(t for c in chosen for t in c.threats) if controls is not None else None
    return Report(
        root=project_root,
        sources=inputs.sources,
        results=all_results,
        coverage=coverage(outcome.results, findings, only),
        waived=outcome.waived + tuple(w for r in outcome.results for w in r.suppressed),
        fail_on=config.fail_on,
        generated_at=moment,
        notes=inputs.skipped_summary(),
    )


def _freeze_if_frozen() -> None:
    """Exempt the inputs just read from garbage collection, when the imports were exempted.

    The command line freezes what its imports made when it owns the process
    (``cli.common.relax_garbage_collection``). The packages of a large lock are
    then the only young objects, over 100,000 of them, and the first
    collection walks them all (50-110 ms for 5,000 packages) to find no
    garbage: they live to the end of the run. A caller that did not freeze
    anything is left alone.
    """
    import gc

    if gc.get_freeze_count():
        gc.freeze()


def _with_enforcement(results: list[ControlResult]) -> list[ControlResult]:
    """Mark each control CI runs fail-closed (or fail-open) as the workflow audit found."""
    wiring: dict[str, bool] = {}
    for result in results:
        for control, runs_closed in result.enforces.items():
            wiring[control] = wiring.get(control, False) or runs_closed
    if not wiring:
        return results
    everything = wiring.get("*")
    marked = []
    for result in results:
        enforced: bool | None = wiring.get(result.control)
        if everything is not None and result.control not in DETECTS_ONLY:  # check runs no watch
            enforced = everything or bool(enforced)
        if enforced is None or not result.status.ran or result.enforced:
            marked.append(result)  # a control enforced by itself (an installer) stays enforced
        else:
            marked.append(replace(result, enforced=enforced))
    return marked


def _run_one(control: Control, project: Project, config: Config) -> ControlResult:
    if control.id in config.disable:
        return ControlResult(
            control.id,
            ControlStatus.NOT_CONFIGURED,
            control.threats,
            (),
            "disabled in configuration",
        )
    try:
        return control.run(project)
    except BastionError:
        raise
    except Exception as exc:  # a bug in one layer must not hide the others: fail closed
        detail = f"internal error: {type(exc).__name__}: {exc}"
        return ControlResult(control.id, ControlStatus.ERROR, control.threats, (), detail)
