"""The inventory on SQLite and on PostgreSQL: ingest, latest release, every kind of query."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion._internal.errors import InputError, UsageError
from bastion._internal.inventory.query import by_requirement, render
from bastion._internal.inventory.store import (
    Inventory,
    ReleaseToStore,
    StoredComponent,
    components_of,
)
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


def test_listings_share_artifacts_unless_hashes_differ(inventory_db: str) -> None:
    store = Inventory(inventory_db)
    try:
        same = [_component("idna", "3.7", "ee" * 32)]
        store.ingest("a", "1", same)
        store.ingest("b", "1", same)
        store.ingest("c", "1", [_component("idna", "3.7", "ff" * 32)])  # a different wheel
        store.ingest("d", "1", [_component("idna", "3.7")])  # no hash known
        assert [h.service for h in store.by_hash("ee" * 32, False)] == ["a", "b"]
        assert [h.service for h in store.by_hash("ff" * 32, False)] == ["c"]
        assert len(by_requirement(store, "idna==3.7", False)) == 4
        with store.engine.connect() as connection:
            artifacts = connection.exec_driver_sql("SELECT count(*) FROM inv_artifact").scalar()
        assert artifacts == 3
        fresh = Inventory(inventory_db)  # another process: nothing remembered, same answers
        try:
            fresh.ingest("e", "1", same)
            assert [h.service for h in fresh.by_hash("ee" * 32, False)] == ["a", "b", "e"]
        finally:
            fresh.close()
    finally:
        store.close()


def test_ingest_many_keeps_all_but_the_faulty_release(inventory_db: str) -> None:
    store = Inventory(inventory_db)
    try:
        store.ingest("billing", "1.0", [_component("urllib3", "1.26.4")])
        items = [
            ReleaseToStore(f"svc{i}", "1", (_component("urllib3", f"1.26.{i}", f"{i:064x}"),))
            for i in range(7)
        ]
        items.insert(3, ReleaseToStore("billing", "1.0", (_component("evil", "1"),)))
        outcomes = list(store.ingest_many(items, per_transaction=4))
        assert [o.error is None for o in outcomes] == [True] * 3 + [False] + [True] * 4
        assert "already in the inventory" in str(outcomes[3].error)
        assert store.by_purl_prefix("pkg:pypi/evil", False) == []
        assert store.counts() == (8, 8, 8)
        assert [h.service for h in store.by_hash(f"{5:064x}", True)] == ["svc5"]
    finally:
        store.close()


FIRST_LAYOUT = [
    "CREATE TABLE inv_service (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL UNIQUE)",
    "CREATE TABLE inv_release (id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL "
    "REFERENCES inv_service (id), version VARCHAR(200) NOT NULL, released_at TIMESTAMP, "
    "ingested_at TIMESTAMP NOT NULL, latest BOOLEAN NOT NULL, "
    "CONSTRAINT inv_release_once UNIQUE (service_id, version))",
    "CREATE TABLE inv_component (release_id INTEGER NOT NULL REFERENCES inv_release (id), "
    "position INTEGER NOT NULL, name VARCHAR(300) NOT NULL, version VARCHAR(200) NOT NULL, "
    "purl VARCHAR(2000) NOT NULL, PRIMARY KEY (release_id, position))",
    "CREATE TABLE inv_hash (release_id INTEGER NOT NULL REFERENCES inv_release (id), "
    "position INTEGER NOT NULL, algorithm VARCHAR(40) NOT NULL, value VARCHAR(200) NOT NULL)",
    "CREATE INDEX inv_component_by_name ON inv_component (name, version)",
    "CREATE INDEX inv_component_by_purl ON inv_component (purl)",
    "CREATE INDEX inv_hash_by_value ON inv_hash (value)",
    "CREATE INDEX inv_release_latest ON inv_release (latest, service_id)",
    "INSERT INTO inv_service VALUES (1, 'billing')",
    "INSERT INTO inv_release VALUES (1, 1, '1.0', NULL, '2026-01-01', false)",
    "INSERT INTO inv_release VALUES (2, 1, '1.1', NULL, '2026-02-01', true)",
    "INSERT INTO inv_component VALUES (1, 0, 'urllib3', '1.26.4', 'pkg:pypi/urllib3@1.26.4')",
    "INSERT INTO inv_component VALUES (2, 0, 'urllib3', '1.26.4', 'pkg:pypi/urllib3@1.26.4')",
    "INSERT INTO inv_component VALUES (2, 1, 'idna', '3.7', 'pkg:pypi/idna@3.7')",
    "INSERT INTO inv_hash VALUES (1, 0, 'SHA-256', '" + "aa" * 32 + "')",
    "INSERT INTO inv_hash VALUES (2, 0, 'SHA-256', '" + "aa" * 32 + "')",
]


def test_an_inventory_of_the_first_layout_is_migrated(inventory_db: str) -> None:
    import sqlalchemy as sa

    from bastion._internal.inventory.store import database_url

    engine = sa.create_engine(database_url(inventory_db))
    with engine.begin() as connection:
        for statement in FIRST_LAYOUT:
            connection.exec_driver_sql(statement)
    engine.dispose()
    store = Inventory(inventory_db)
    try:
        assert store.counts() == (1, 2, 3)
        assert [h.release for h in store.by_hash("aa" * 32, False)] == ["1.0", "1.1"]
        assert [h.release for h in by_requirement(store, "urllib3<1.26.5", True)] == ["1.1"]
        assert [h.name for h in store.by_purl_prefix("pkg:pypi/idna", False)] == ["idna"]
        tables = set(sa.inspect(store.engine).get_table_names())
        assert "inv_component" not in tables and "inv_hash_v1" not in tables
    finally:
        store.close()
    again = Inventory(inventory_db)  # opening a migrated inventory changes nothing
    try:
        assert again.counts() == (1, 2, 3)
    finally:
        again.close()


def test_a_failed_migration_leaves_the_first_layout_as_it_was(inventory_db: str) -> None:
    import sqlalchemy as sa

    from bastion._internal.inventory.store import database_url

    broken = [
        s.replace("name VARCHAR(300) NOT NULL", "name VARCHAR(300)") for s in FIRST_LAYOUT
    ]  # a hand-edited database: a component without a name cannot become an artifact
    broken.append("INSERT INTO inv_component VALUES (2, 2, NULL, '1', 'pkg:pypi/x@1')")
    engine = sa.create_engine(database_url(inventory_db))
    with engine.begin() as connection:
        for statement in broken:
            connection.exec_driver_sql(statement)
    with pytest.raises(UsageError, match="cannot open the inventory"):
        Inventory(inventory_db)
    inspector = sa.inspect(engine)
    assert {"inv_component", "inv_hash"} <= set(inspector.get_table_names())
    assert not {"inv_artifact", "inv_hash_v1"} & set(inspector.get_table_names())
    assert "inv_hash_by_value" in {i["name"] for i in inspector.get_indexes("inv_hash")}
    engine.dispose()


def test_concurrent_ingests_of_one_artifact_store_it_once(inventory_db: str) -> None:
    import threading

    import sqlalchemy as sa

    same = [_component("idna", "3.7", "ee" * 32)]
    first, second = Inventory(inventory_db), Inventory(inventory_db)
    threads: list[threading.Thread] = []
    finished_first: list[bool] = []

    def meanwhile(_c: object, _k: object, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO inv_artifact") and not threads:
            # The other ingest runs between this one's lookup and its insert.
            thread = threading.Thread(target=second.ingest, args=("other", "1", same))
            threads.append(thread)
            thread.start()
            thread.join(timeout=1)
            finished_first.append(not thread.is_alive())

    sa.event.listen(first.engine, "before_cursor_execute", meanwhile)
    try:
        first.ingest("one", "1", same)
        threads[0].join(timeout=30)
        assert [h.service for h in first.by_hash("ee" * 32, False)] == ["one", "other"]
        with first.engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM inv_artifact").scalar()
            hashes = connection.exec_driver_sql("SELECT count(*) FROM inv_hash").scalar()
        assert (count, hashes) == (1, 1)
        # PostgreSQL lets the other commit first (this insert then finds its row);
        # SQLite makes it wait for this transaction's write lock.
        assert finished_first == [inventory_db.startswith("postgresql")]
    finally:
        first.close()
        second.close()


def test_latest_prefers_a_known_release_time_then_the_later_ingest(inventory_db: str) -> None:
    store = Inventory(inventory_db)
    try:
        store.ingest("app", "2.0", [_component("idna", "3.7")], datetime(2026, 1, 1, tzinfo=UTC))
        store.ingest("app", "3.0-unknown-date", [_component("idna", "3.8")])
        assert [h.release for h in store.by_purl_prefix("pkg:pypi/", True)] == ["2.0"]
        store.ingest("tool", "1", [_component("idna", "3.6")])
        store.ingest("tool", "2", [_component("idna", "3.7")])  # neither dated: ingest order
        latest = {(h.service, h.release) for h in store.by_purl_prefix("pkg:pypi/", True)}
        assert latest == {("app", "2.0"), ("tool", "2")}
    finally:
        store.close()


def test_empty_service_or_release_is_refused_alone(inventory_db: str) -> None:
    store = Inventory(inventory_db)
    try:
        with pytest.raises(UsageError, match="must not be empty"):
            store.ingest(" ", "1", [_component("idna", "3.7")])
        items = [
            ReleaseToStore("a", "1", (_component("idna", "3.7"),)),
            ReleaseToStore("b", "", (_component("idna", "3.7"),)),
        ]
        outcomes = list(store.ingest_many(items))
        assert outcomes[0].error is None
        assert "must not be empty" in str(outcomes[1].error)
        assert store.counts() == (1, 1, 1)
    finally:
        store.close()
