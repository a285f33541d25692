"""The policy on its own: order of the rules, exemptions, blocks, expiry, early release."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion._internal.proxy.intel import Intel
from bastion._internal.proxy.model import IndexFile, ProjectPage
from bastion._internal.proxy.policy import Policy, Verdict, judge
from bastion._internal.proxy.state import BLOCK, EXEMPT, Rule

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _file(name: str, version: str, age: timedelta | None) -> IndexFile:
    return IndexFile(
        f"{name}-{version}-py3-none-any.whl",
        f"http://127.0.0.1:9/{name}-{version}.whl",
        "b" * 64,
        None if age is None else NOW - age,
        version=version,
    )


def _page(name: str, *files: IndexFile) -> ProjectPage:
    return ProjectPage(name, files)


@pytest.fixture
def intel(advisory_db: Path) -> Iterator[Intel]:
    found = Intel(advisory_db)
    yield found
    found.close()


def _served(verdict: Verdict) -> list[str]:
    return [f.version or "" for f in verdict.served()]


def test_exemptions_do_not_override_malware_or_blocks(intel: Intel) -> None:
    page = _page("qtbad", _file("qtbad", "1.0", timedelta(days=30)), _file("qtbad", "1.5", None))
    rules = (
        Rule(EXEMPT, "qtbad", "", "trust me", None, NOW),
        Rule(BLOCK, "qtbad", "<1.2", "incident", None, NOW),
    )
    verdict = judge(page, Policy(), rules, intel, NOW)
    assert _served(verdict) == []
    reasons = {f.version: d.reason for f, d in verdict.files}
    assert "blocked: incident (<1.2)" in reasons["1.0"]
    assert "known malware (MAL-2025-1)" in reasons["1.5"]


def test_a_project_exemption_serves_young_untimed_and_lookalike_files(intel: Intel) -> None:
    page = _page(
        "reqeusts", _file("reqeusts", "1.0", timedelta(hours=1)), _file("reqeusts", "2.0", None)
    )
    assert judge(page, Policy(), (), intel, NOW).refused is not None
    rule = Rule(EXEMPT, "reqeusts", "", "our internal fork", NOW + timedelta(days=1), NOW)
    verdict = judge(page, Policy(), (rule,), intel, NOW)
    assert verdict.refused is None and _served(verdict) == ["1.0", "2.0"]
    expired = judge(page, Policy(), (rule,), intel, NOW + timedelta(days=2))
    assert expired.refused is not None and expired.refused.rule == "lookalike"


def test_expired_blocks_stop_applying_and_version_exemptions_are_exact(intel: Intel) -> None:
    page = _page(
        "qtalpha",
        _file("qtalpha", "1.0", timedelta(days=30)),
        _file("qtalpha", "2.0", timedelta(hours=3)),
    )
    block = Rule(
        BLOCK, "qtalpha", "", "incident", NOW - timedelta(minutes=1), NOW - timedelta(days=1)
    )
    exempt = Rule(EXEMPT, "qtalpha", "2.0.0", "hotfix", None, NOW)  # 2.0.0 == 2.0 (PEP 440)
    assert _served(judge(page, Policy(), (block, exempt), intel, NOW)) == ["1.0", "2.0"]
    other = Rule(EXEMPT, "qtalpha", "2.1", "hotfix", None, NOW)
    assert _served(judge(page, Policy(), (other,), intel, NOW)) == ["1.0"]


def test_min_age_boundary_and_when_it_will_be_served(intel: Intel) -> None:
    page = _page("qtalpha", _file("qtalpha", "1.0", timedelta(days=2)))
    policy = Policy(min_age=timedelta(days=2))
    assert _served(judge(page, policy, (), intel, NOW)) == ["1.0"]  # exactly old enough
    ((_item, decision),) = judge(page, policy, (), intel, NOW - timedelta(seconds=1)).files
    assert not decision.served and "served from 2026-12-01 12:00 UTC" in decision.reason


def test_early_release_needs_an_advisory_on_the_newest_served_version(intel: Intel) -> None:
    young = timedelta(hours=1)
    page = _page(
        "qtfix",
        _file("qtfix", "1.0", timedelta(days=30)),
        _file("qtfix", "2.0", young),
        _file("qtfix", "3.0", young),
    )
    verdict = judge(page, Policy(), (), intel, NOW)
    assert _served(verdict) == ["1.0", "2.0", "3.0"]  # both young versions fix PYSEC-2025-7
    assert _served(judge(page, Policy(early_release=False), (), intel, NOW)) == ["1.0"]
    fixed_already = _page(
        "qtfix", _file("qtfix", "2.0", timedelta(days=30)), _file("qtfix", "3.0", young)
    )
    assert _served(judge(fixed_already, Policy(), (), intel, NOW)) == ["2.0"]  # 2.0 not affected
    nothing_served = _page("qtfix", _file("qtfix", "2.0", young))
    assert _served(judge(nothing_served, Policy(), (), intel, NOW)) == []


def test_unparsable_versions_are_blocked_by_any_specifier(intel: Intel) -> None:
    odd = IndexFile(
        "qtalpha-weird.tar.gz", "http://127.0.0.1:9/x", "c" * 64, NOW - timedelta(days=30)
    )
    rule = Rule(BLOCK, "qtalpha", ">=9", "incident", None, NOW)
    verdict = judge(_page("qtalpha", odd), Policy(), (rule,), intel, NOW)
    assert _served(verdict) == []  # cannot be shown to be outside the block
