"""``bastion proxy``: a package index that holds new releases back and verifies every byte."""

from __future__ import annotations

import sys
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bastion._internal.errors import UsageError

_STATE = click.option(
    "--state",
    default="bastion-proxy-state.sqlite",
    show_default=True,
    help="Rules database: a SQLite file or postgresql://... (shared by every instance).",
)


@click.group()
def proxy() -> None:
    """A quarantine package index: new releases wait min-age days, known-bad and look-alike
    packages are refused, every downloaded byte is checked against upstream's sha256.

    Point pip at it with --index-url http://HOST:PORT/simple/ (see docs/proxy.md).
    """


def _serve_settings(given: dict[str, Any], config_file: Path | None) -> Any:
    from bastion._internal.proxy.config import ProxyConfig, read_config

    settings: dict[str, Any] = read_config(config_file) if config_file is not None else {}
    for key, value in given.items():  # the command line wins over the file
        if value is not None and value != ():
            settings[key] = value
    known = {f.name for f in fields(ProxyConfig)}
    return ProxyConfig(**{k: v for k, v in settings.items() if k in known})


@proxy.command("serve")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML settings.")
@click.option("--upstream", help="Upstream simple index (default https://pypi.org/simple/).")
@click.option(
    "--file-host", "file_hosts", multiple=True, help="Host files may come from (repeatable)."
)
@click.option(
    "--trusted-upstream/--untrusted-upstream",
    default=None,
    help="Serve files without an upload time (default: hide them, fail closed).",
)
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default 8082).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default 1).")
@click.option("--min-age", "min_age_days", type=click.FloatRange(0), help="Days (default 7).")
@click.option("--cutoff", help="Serve nothing uploaded after this date (ISO 8601).")
@click.option("--deny", "denylist", multiple=True, help="Refuse NAME or NAME<SPEC (repeatable).")
@click.option(
    "--allow", "allowlist", multiple=True, help="Allowlist-only mode: serve only these names."
)
@click.option("--approved-file", help="Approved names (look-alike judgement skips them).")
@click.option("--early-release/--no-early-release", default=None, help="Security early release.")
@click.option("--advisory-db", help="Advisory database (default: the user cache).")
@click.option("--cache-dir", help="Cache folder, shared by instances.")
@click.option("--state", help="Rules database: SQLite file or postgresql://...")
@click.option("--audit-log", help="Append a JSON line per decision to this file.")
@click.option("--page-ttl", "page_ttl_seconds", type=click.FloatRange(0), help="Seconds.")
@click.option("--instance", help="A name for this instance in the audit log and health.")
def proxy_serve(config_file: Path | None, **given: Any) -> None:
    """Serve the quarantine index (PEP 691 JSON and PEP 503 HTML on /simple/).

    Needs 'bastion[proxy]'. Stops with exit 3 on bad settings, before listening.
    """
    import os

    try:
        import uvicorn
    except ImportError:
        raise UsageError("'bastion proxy serve' needs: pip install 'bastion[proxy]'") from None
    for key in ("file_hosts", "denylist"):
        given[key] = tuple(given[key]) or None
    given["allowlist"] = tuple(given["allowlist"]) or None
    config = _serve_settings(given, config_file)
    config.policy()  # every setting checked before anything listens
    from bastion._internal.proxy.app import ProxyApp

    checked = ProxyApp(config)  # opens the state, advisory data and cache: errors now
    checked.state.close()
    checked.intel.close()
    click.echo(
        f"bastion: proxy of {config.upstream} on http://{config.host}:{config.port}/simple/ "
        f"(min-age {config.min_age_days:g} days, {config.workers} worker(s))",
        err=True,
    )
    os.environ["BASTION_PROXY_CONFIG"] = config.to_json()
    from bastion._internal.proxy.serving import uvicorn_options

    uvicorn.run(
        "bastion._internal.proxy.app:app_from_environment",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="warning",
        **uvicorn_options(),
    )


def _parse_expiry(text: str | None) -> datetime | None:
    from bastion._internal.inputs.common import parse_timestamp

    if text is None:
        return None
    moment = parse_timestamp(text)
    if moment is None:
        raise click.BadParameter(f"{text!r} is not a date or time", param_hint="--expires")
    return moment


def _name_and_spec(requirement: str, *, exact: bool) -> tuple[str, str]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if parsed.extras or parsed.marker or parsed.url:
        raise click.BadParameter("give NAME, NAME==VERSION or NAME<SPEC", param_hint="NAME")
    specs = list(parsed.specifier)
    if exact:
        if len(specs) > 1 or (specs and specs[0].operator not in ("==", "===")):
            raise click.BadParameter("an exemption is NAME or NAME==VERSION", param_hint="NAME")
        return str(canonicalize_name(parsed.name)), specs[0].version if specs else ""
    return str(canonicalize_name(parsed.name)), str(parsed.specifier)


@proxy.command("exempt")
@click.argument("requirement", metavar="NAME[==VERSION]")
@click.option("--reason", required=True, help="Why (kept in the state and the audit log).")
@click.option("--expires", help="When the exemption ends (ISO 8601 date or time).")
@_STATE
def proxy_exempt(requirement: str, reason: str, expires: str | None, state: str) -> None:
    """Serve NAME (or one exact version) despite min-age, cutoff and the name checks.

    Known-malicious versions and blocks still apply. A running proxy picks it up
    within seconds.
    """
    from bastion._internal.proxy.state import EXEMPT, ProxyState, Rule

    name, version = _name_and_spec(requirement, exact=True)
    until = _parse_expiry(expires)
    now = datetime.now(UTC)
    if until is not None and until <= now:
        raise click.BadParameter("the expiry is in the past", param_hint="--expires")
    store = ProxyState(state)
    try:
        store.put(Rule(EXEMPT, name, version, reason, until, now))
    finally:
        store.close()
    click.echo(f"bastion: exempted {name}{'==' + version if version else ''}", err=True)


@proxy.command("block")
@click.argument("requirement", metavar="NAME[SPEC]")
@click.option("--reason", required=True, help="Why (shown to clients in the 403).")
@click.option("--expires", help="When the block ends (ISO 8601; default never).")
@_STATE
def proxy_block(requirement: str, reason: str, expires: str | None, state: str) -> None:
    """Refuse NAME, or the versions of NAME that SPEC matches ('litellm>=1.82.7,<1.82.9')."""
    from bastion._internal.proxy.state import BLOCK, ProxyState, Rule

    name, spec = _name_and_spec(requirement, exact=False)
    store = ProxyState(state)
    try:
        store.put(Rule(BLOCK, name, spec, reason, _parse_expiry(expires), datetime.now(UTC)))
    finally:
        store.close()
    click.echo(f"bastion: blocked {name}{spec}", err=True)


def _remove(state: str, kind: str, name: str, spec: str) -> int:
    """Remove the rules of ``kind`` for ``name`` (``spec``, or all of them); how many went."""
    from bastion._internal.proxy.state import ProxyState

    store = ProxyState(state)
    try:
        return store.remove(kind, name, spec or None)
    finally:
        store.close()


@proxy.command("unblock")
@click.argument("requirement", metavar="NAME[SPEC]")
@_STATE
def proxy_unblock(requirement: str, state: str) -> None:
    """Remove a block (NAME alone removes every block of NAME). Exit 1 when none matched."""
    from bastion._internal.proxy.state import BLOCK

    name, spec = _name_and_spec(requirement, exact=False)
    removed = _remove(state, BLOCK, name, spec)
    click.echo(f"bastion: {removed} block(s) of {name}{spec} removed", err=True)
    sys.exit(0 if removed else 1)


@proxy.command("unexempt")
@click.argument("requirement", metavar="NAME[==VERSION]")
@_STATE
def proxy_unexempt(requirement: str, state: str) -> None:
    """End an exemption before its expiry (NAME alone ends every exemption of NAME).

    Exit 1 when none matched.
    """
    from bastion._internal.proxy.state import EXEMPT

    name, version = _name_and_spec(requirement, exact=True)
    removed = _remove(state, EXEMPT, name, version)
    click.echo(f"bastion: {removed} exemption(s) of {name} removed", err=True)
    sys.exit(0 if removed else 1)


@proxy.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_STATE
def proxy_status(fmt: str, state: str) -> None:
    """List exemptions and blocks, live and expired."""
    import json

    from bastion._internal.proxy.state import ProxyState

    store = ProxyState(state)
    try:
        rules = store.rules()
    finally:
        store.close()
    now = datetime.now(UTC)
    if fmt == "json":
        rows = [
            {
                "kind": r.kind,
                "name": r.name,
                "spec": r.spec,
                "reason": r.reason,
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                "created_at": r.created_at.isoformat(),
                "live": r.live(now),
            }
            for r in rules
        ]
        click.echo(json.dumps({"rules": rows}, indent=2))
        return
    if not rules:
        click.echo("no exemptions or blocks")
        return
    for r in rules:
        until = f"until {r.expires_at:%Y-%m-%d %H:%M} UTC" if r.expires_at else "no expiry"
        live = "" if r.live(now) else " (EXPIRED)"
        click.echo(f"{r.kind:7} {r.label():30} {until}{live}: {r.reason}")
