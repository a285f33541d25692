"""The proxy's settings: command-line options or a TOML file with the same keys."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from bastion._internal.errors import ConfigError
from bastion._internal.inputs.common import parse_timestamp
from bastion._internal.proxy.policy import Policy
from bastion._internal.safe_read import read_text

DEFAULT_UPSTREAM = "https://pypi.org/simple/"
DEFAULT_FILE_HOSTS = ("files.pythonhosted.org",)
MAX_FILE_BYTES = 8 * 1024**3


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """Everything ``bastion proxy serve`` needs (plain values: passed to worker processes)."""

    upstream: str = DEFAULT_UPSTREAM
    file_hosts: tuple[str, ...] = DEFAULT_FILE_HOSTS
    trusted_upstream: bool = False
    host: str = "127.0.0.1"
    port: int = 8082
    workers: int = 1
    min_age_days: float = 7.0
    cutoff: str | None = None  # ISO 8601
    denylist: tuple[str, ...] = ()  # requirements: "name" or "name<2"
    allowlist: tuple[str, ...] | None = None
    approved_file: str | None = None
    early_release: bool = True
    explain_refusals: bool = True  # list refused files as yanked, with the reason
    judge_names: bool = True
    advisory_db: str | None = None
    cache_dir: str = "bastion-proxy-cache"
    state: str = "bastion-proxy-state.sqlite"
    audit_log: str | None = None
    page_ttl_seconds: float = 600.0
    state_refresh_seconds: float = 2.0
    upstream_timeout_seconds: float = 30.0
    max_file_bytes: int = MAX_FILE_BYTES
    upstream_fetches: int = 16  # files fetched at once per worker (each holds a thread)
    instance: str = field(default="")

    def to_json(self) -> str:
        """The settings as JSON (for worker processes)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ProxyConfig:
        """Settings written by ``to_json``."""
        data = json.loads(text)
        for key in ("file_hosts", "denylist", "allowlist"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    def policy(self) -> Policy:
        """The policy these settings describe (``ConfigError`` for a bad entry)."""
        source = Path("<proxy settings>")
        cutoff = None
        if self.cutoff is not None:
            cutoff = parse_timestamp(self.cutoff)
            if cutoff is None:
                raise ConfigError(source, f"cutoff {self.cutoff!r} is not a date or time")
        if self.min_age_days < 0:
            raise ConfigError(source, "min-age cannot be negative")
        if self.upstream_fetches < 1:
            raise ConfigError(source, "upstream-fetches must be at least 1")
        denied = []
        for text in self.denylist:
            try:
                requirement = Requirement(text)
            except InvalidRequirement as exc:
                raise ConfigError(source, f"denylist entry {text!r}: {exc}") from None
            from packaging.utils import canonicalize_name

            denied.append((str(canonicalize_name(requirement.name)), str(requirement.specifier)))
        allowed = None
        if self.allowlist is not None:
            from packaging.utils import canonicalize_name

            allowed = frozenset(str(canonicalize_name(n)) for n in self.allowlist)
        return Policy(
            min_age=timedelta(days=self.min_age_days),
            cutoff=cutoff,
            trusted_upstream=self.trusted_upstream,
            denylist=tuple(denied),
            allowlist=allowed,
            early_release=self.early_release,
            judge_names=self.judge_names,
        )


_KEYS: dict[str, type | tuple[type, ...]] = {
    "upstream": str,
    "file-hosts": list,
    "trusted-upstream": bool,
    "host": str,
    "port": int,
    "workers": int,
    "min-age": (int, float),
    "cutoff": (str, datetime),
    "denylist": list,
    "allowlist": list,
    "approved-file": str,
    "early-release": bool,
    "explain-refusals": bool,
    "judge-names": bool,
    "advisory-db": str,
    "cache-dir": str,
    "state": str,
    "audit-log": str,
    "page-ttl": (int, float),
    "state-refresh": (int, float),
    "upstream-timeout": (int, float),
    "max-file-bytes": int,
    "upstream-fetches": int,
}
_FIELD = {
    "min-age": "min_age_days",
    "page-ttl": "page_ttl_seconds",
    "state-refresh": "state_refresh_seconds",
    "upstream-timeout": "upstream_timeout_seconds",
}


def read_config(path: Path) -> dict[str, Any]:
    """The settings of a TOML file (``[proxy]`` table or top level), as ProxyConfig fields."""
    text = read_text(path, limit=1024 * 1024)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"invalid TOML: {exc}") from None
    table = data.get("proxy", data)
    if not isinstance(table, dict):
        raise ConfigError(path, "[proxy] is not a table")
    settings: dict[str, Any] = {}
    for key, value in table.items():
        kind = _KEYS.get(key)
        if kind is None:
            raise ConfigError(path, f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(path, f"{key} has the wrong type ({type(value).__name__})")
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise ConfigError(path, f"{key} must be a list of strings")
            value = tuple(value)
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        settings[_FIELD.get(key, key.replace("-", "_"))] = value
    return settings
