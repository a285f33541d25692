"""The rules table on SQLite and PostgreSQL: put, replace, remove, expiry, bad URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion._internal.errors import UsageError
from bastion._internal.proxy.state import BLOCK, EXEMPT, ProxyState, Rule, state_url


def test_rules_round_trip_replace_and_remove(inventory_db: str) -> None:
    state_db = inventory_db  # an empty SQLite file, then an empty PostgreSQL database
    now = datetime.now(UTC).replace(microsecond=0)
    state = ProxyState(state_db)
    try:
        state.put(Rule(EXEMPT, "qtalpha", "2.0", "needed", now + timedelta(days=1), now))
        state.put(Rule(EXEMPT, "qtalpha", "2.0", "still needed", now + timedelta(days=2), now))
        state.put(Rule(BLOCK, "litellm", ">=1.82.7,<1.82.9", "incident", None, now))
        state.put(Rule(BLOCK, "litellm", "", "all of it", None, now))
        rules = state.rules()
        assert [(r.kind, r.name, r.spec) for r in rules] == [
            ("block", "litellm", ""),
            ("block", "litellm", ">=1.82.7,<1.82.9"),
            ("exempt", "qtalpha", "2.0"),
        ]
        exemption = rules[2]
        assert exemption.reason == "still needed"  # replaced, not duplicated
        assert exemption.expires_at == now + timedelta(days=2)
        assert exemption.live(now) and not exemption.live(now + timedelta(days=3))
        assert exemption.label() == "qtalpha==2.0" and rules[1].label() == "litellm>=1.82.7,<1.82.9"
        assert state.remove(BLOCK, "litellm", ">=1.82.7,<1.82.9") == 1
        assert state.remove(BLOCK, "litellm", None) == 1
        assert state.remove(BLOCK, "litellm", None) == 0
        assert len(state.rules()) == 1
    finally:
        state.close()


def test_bad_state_urls_are_usage_errors(tmp_path: object) -> None:
    with pytest.raises(UsageError, match="mysql:// is not supported"):
        state_url("mysql://x/y")
    assert state_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    with pytest.raises(UsageError, match="cannot open the proxy state"):
        ProxyState("postgresql://nobody@127.0.0.1:1/none")
