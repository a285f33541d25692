"""Figures for the inventory at organisation scale, on SQLite and on PostgreSQL.

Run from the repository root with bastion[inventory] installed:
    python benchmarks/bench_inventory.py [--services 1000] [--releases 10] [--components 300]
        [--postgres postgresql://user@host/db] [--skip-sqlite] [--per-sbom] [--unique-hashes]

Without --postgres only SQLite is measured (the script does not start a
server; tests/conftest.py shows how to start a throwaway one). The generated
organisation: SERVICES services, each with RELEASES releases of COMPONENTS
components drawn (fixed seed) from 3,000 package names with 25 versions each;
urllib3 is in about half of the releases, at versions on both sides of
1.26.5. Each component carries the SHA-256 of its artifact: the same for a
name and version in every SBOM, as a wheel's hash is (--unique-hashes gives
every listing its own, the worst case, where no artifact is shared).

Ingest goes through the code ``bastion inventory ingest --manifest`` uses
(transactions of about 30,000 components, each release all or nothing);
--per-sbom gives each release its own transaction, as ``bastion inventory
ingest FILE`` does. Generating the components is not timed.

Reported at 10 % and at 100 % of the rows: ingest rate (components per
second, overall so far) and the warm latency (median of 20) of
- ``--package 'urllib3<1.26.5' --latest-only`` (which services' newest release
  ships a vulnerable urllib3),
- ``--advisory PYSEC-2021-108`` (urllib3 before 1.26.5, from the bundled OSV
  snapshot) over every release, and
- ``--hash`` of the urllib3 1.26.4 artifact over every release.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bastion._internal.inventory.query import by_advisory, by_requirement
from bastion._internal.inventory.store import Inventory, ReleaseToStore, StoredComponent

UNIQUE_HASHES = "--unique-hashes" in sys.argv
NAMES = 3000
VERSIONS = 25
URLLIB3 = ["1.25.11", "1.26.4", "1.26.5", "1.26.18", "2.0.7", "2.2.3"]
URLLIB3_HASH = hashlib.sha256(b"urllib3==1.26.4").hexdigest()


def _release_components(rng: random.Random, count: int) -> list[StoredComponent]:
    picked = rng.sample(range(NAMES), count)
    components = []
    for number in picked:
        name = f"pkg{number:04d}"
        version = f"{number % 7}.{rng.randrange(VERSIONS)}.0"
        components.append(_component(rng, name, version))
    if rng.random() < 0.5:
        components[0] = _component(rng, "urllib3", rng.choice(URLLIB3))
    return components


def _component(rng: random.Random, name: str, version: str) -> StoredComponent:
    if UNIQUE_HASHES:  # the worst case: no two listings share an artifact
        digest = f"{rng.getrandbits(256):064x}"
    else:  # a release's wheel has one SHA-256, whichever SBOM lists it
        digest = hashlib.sha256(f"{name}=={version}".encode()).hexdigest()
    return StoredComponent(name, version, f"pkg:pypi/{name}@{version}", (("SHA-256", digest),))


def _latency(call: Callable[[], list[object]], runs: int = 20) -> tuple[float, int]:
    call()  # warm
    times, found = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        found = len(call())
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, found


def measure(label: str, db: str, args: argparse.Namespace, advisory_db: Path) -> None:
    inventory = Inventory(db)
    rng = random.Random(20261121)  # noqa: S311 - a reproducible organisation, not a secret
    base = datetime(2025, 1, 1, tzinfo=UTC)
    plan = [(r, s) for r in range(args.releases) for s in range(args.services)]
    checkpoints = sorted({len(plan) // 10, len(plan)})
    stored, spent, done = 0, 0.0, 0
    for checkpoint in checkpoints:
        chunk = [
            ReleaseToStore(
                f"service-{service:04d}",
                f"{release}.0.0",
                tuple(_release_components(rng, args.components)),
                base + timedelta(days=release * 30 + service % 30),
            )
            for release, service in plan[done:checkpoint]
        ]
        start = time.perf_counter()
        if args.per_sbom:
            for item in chunk:
                stored += inventory.ingest(
                    item.service, item.release, item.components, item.released_at
                )
        else:
            for outcome in inventory.ingest_many(chunk):
                if outcome.error is not None:
                    raise SystemExit(outcome.error)
                stored += outcome.count
        spent += time.perf_counter() - start
        done = checkpoint
        package_ms, package_hits = _latency(
            lambda: list(by_requirement(inventory, "urllib3<1.26.5", latest_only=True))
        )
        advisory_ms, advisory_hits = _latency(
            lambda: list(by_advisory(inventory, "PYSEC-2021-108", advisory_db, False)[1])
        )
        hash_ms, hash_hits = _latency(lambda: list(inventory.by_hash(URLLIB3_HASH, False)))
        print(
            f"{label}: {stored:>9,} rows | ingest {stored / spent:>9,.0f} components/s | "
            f"urllib3<1.26.5 latest-only {package_ms:6.1f} ms ({package_hits} services) | "
            f"PYSEC-2021-108 {advisory_ms:6.1f} ms ({advisory_hits} releases) | "
            f"by hash {hash_ms:5.1f} ms ({hash_hits})",
            flush=True,
        )
    inventory.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--releases", type=int, default=10)
    parser.add_argument("--components", type=int, default=300)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument(
        "--per-sbom",
        action="store_true",
        help="one transaction per SBOM (bastion inventory ingest FILE) instead of --manifest's",
    )
    parser.add_argument(
        "--unique-hashes",
        action="store_true",
        help="give every listing its own random hash (no artifact is shared: the worst case)",
    )
    args = parser.parse_args()
    from bastion._internal.advisories.store import ensure_database

    with tempfile.TemporaryDirectory() as folder:
        advisory_db = Path(folder) / "advisories.sqlite"
        ensure_database(advisory_db)
        if not args.skip_sqlite:
            measure("sqlite    ", str(Path(folder) / "inventory.sqlite"), args, advisory_db)
        if args.postgres:
            measure("postgresql", args.postgres, args, advisory_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
