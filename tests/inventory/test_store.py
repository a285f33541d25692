"""The inventory on SQLite and on PostgreSQL: ingest, latest release, every kind of query."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion._internal.errors import InputError, UsageError
from bastion._internal.inventory.query import by_requirement, render
from bastion._internal.inventory.store import Inventory, StoredComponent, components_of
from bastion._internal.sbom.read import read_sbom


def _component(name: str, version: str, digest: str = "") -> StoredComponent:
    hashes = (("SHA-256", digest),) if digest else ()
    return StoredComponent(name, version, f"pkg:pypi/{name}@{version}", hashes)


@pytest.fixture
def store(inventory_db: str) -> Iterator[Inventory]:
    inventory = Inventory(inventory_db)
    inventory.ingest(
        "billing",
        "1.0",
        [_component("urllib3", "1.26.4", "aa" * 32), _component("requests", "2.25.1")],
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    inventory.ingest(
        "billing",
        "1.1",
        [_component("urllib3", "1.26.18", "bb" * 32), _component("requests", "2.31.0")],
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    inventory.ingest("search", "7.0", [_component("urllib3", "1.25.11", "cc" * 32)])
    yield inventory
    inventory.close()


def test_requirement_queries(store: Inventory) -> None:
    hits = by_requirement(store, "urllib3<1.26.5", latest_only=False)
    assert [(h.service, h.release, h.version) for h in hits] == [
        ("billing", "1.0", "1.26.4"),
        ("search", "7.0", "1.25.11"),
    ]
    latest = by_requirement(store, "urllib3<1.26.5", latest_only=True)
    assert [(h.service, h.release) for h in latest] == [("search", "7.0")]
    assert len(by_requirement(store, "URLLib3", latest_only=False)) == 3
    assert by_requirement(store, "flask", latest_only=False) == []


def test_purl_prefix_hash_and_latest(store: Inventory) -> None:
    assert len(store.by_purl_prefix("pkg:pypi/urllib3", False)) == 3
    assert [h.version for h in store.by_purl_prefix("pkg:pypi/urllib3@1.26", False)] == [
        "1.26.4",
        "1.26.18",
    ]
    assert store.by_purl_prefix("pkg:pypi/urllib", True)  # a prefix, not a name
    assert store.by_purl_prefix("pkg:npm/", False) == []
    (hit,) = store.by_hash("BB" * 32, False)
    assert (hit.service, hit.release, hit.latest) == ("billing", "1.1", True)
    assert store.counts() == (2, 3, 5)


def test_an_older_release_ingested_later_does_not_become_latest(store: Inventory) -> None:
    store.ingest(
        "billing", "0.9", [_component("urllib3", "1.24.1")], datetime(2025, 1, 1, tzinfo=UTC)
    )
    latest = {(h.service, h.release) for h in store.by_purl_prefix("pkg:pypi/", True)}
    assert latest == {("billing", "1.1"), ("search", "7.0")}


def test_duplicate_release_is_refused_and_nothing_changes(store: Inventory) -> None:
    with pytest.raises(UsageError, match="already in the inventory"):
        store.ingest("billing", "1.1", [_component("evil", "1.0")])
    assert store.by_purl_prefix("pkg:pypi/evil", False) == []
    assert store.counts() == (2, 3, 5)


def test_a_failed_ingest_writes_nothing(store: Inventory) -> None:
    broken = StoredComponent(None, "1", "pkg:pypi/x@1")  # type: ignore[arg-type]
    bad = [_component("ok", "1.0"), *[_component(f"p{i}", "1") for i in range(6000)], broken]
    with pytest.raises(UsageError, match="could not store new 1"):
        store.ingest("new", "1", bad)
    assert store.by_purl_prefix("pkg:pypi/ok", False) == []
    assert store.counts() == (2, 3, 5)  # no service, release or component of the failed one


def test_ingest_from_sbom_files(inventory_db: str, tmp_path: Path) -> None:
    good = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "name": "PyYAML",
                "version": "6.0.1",
                "purl": "pkg:pypi/PyYAML@6.0.1",
                "hashes": [{"alg": "SHA-256", "content": "DD" * 32}],
            },
        ],
    }
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good))
    store = Inventory(inventory_db)
    try:
        store.ingest("app", "2", components_of(read_sbom(path)))
        (hit,) = by_requirement(store, "pyyaml==6.0.1", False)
        assert hit.name == "pyyaml"
        assert store.by_hash("dd" * 32, False)
        bad = dict(good, components=[{"name": "x", "version": "1", "purl": "pkg:"}])
        path.write_text(json.dumps(bad))
        with pytest.raises(InputError, match="does not parse"):
            components_of(read_sbom(path))
        missing = dict(good, components=[{"name": "x", "version": "1"}])
        path.write_text(json.dumps(missing))
        with pytest.raises(InputError, match="has no purl"):
            components_of(read_sbom(path))
        assert store.counts() == (1, 1, 1)
    finally:
        store.close()


def test_render_formats(store: Inventory) -> None:
    hits = by_requirement(store, "urllib3", False)
    table = render(hits, "table")
    assert "3 match(es) in 2 service(s)" in table
    data = json.loads(render(hits, "json"))
    assert data["services"] == 2 and data["matches"][0]["purl"].startswith("pkg:pypi/urllib3@")
    csv_text = render(hits, "csv")
    assert csv_text.splitlines()[0] == "service,release,released_at,latest,package,version,purl"
    assert render([], "table") == "no match\n"


def test_bad_database_urls(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not supported"):
        Inventory("mysql://x/y")
    with pytest.raises(UsageError, match="cannot open the inventory") as info:
        Inventory("postgresql://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(info.value)
