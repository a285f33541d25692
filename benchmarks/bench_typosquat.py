"""Figures for the typosquat check: recall on real malicious look-alikes, false positives, speed.

Run from the repository root with bastion installed (rapidfuzz for the
independent reference set: pip install rapidfuzz; without it that part is
skipped):
    python benchmarks/bench_typosquat.py [--runs 5]

- Reference set, derived independently of bastion's index (brute force with
  rapidfuzz over all pairs): every PyPI name of a MAL- record in the bundled
  OSV snapshot that is not itself in the corpus and is within one edit
  (Damerau-Levenshtein distance 1, on PEP 503 names with separators dropped)
  of a corpus name of at least 4 letters, or equal to one once separators are
  dropped.
- Recall: the share of that set bastion reports (confidence >= the control's
  threshold). False positives: the share of the 15,000 corpus names reported
  when each is judged against the others.
- Speed: `names scan` over 100,000 names (the corpus, the MAL names and
  generated variants), one process, one core: --runs runs after a warm-up
  (typosquat tables cached, bytecode cached under a temporary
  PYTHONPYCACHEPREFIX), median and min-max of wall time. Then in this
  process: CPU time of ``judge`` name by name against ``judge_many`` on the
  same 100,000 names (a fresh index each), with the results compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bastion._internal.inputs.common import canonical
from bastion._internal.names.corpus import load_corpus
from bastion._internal.names.typosquat import TyposquatIndex

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "src" / "bastion" / "data" / "osv-pypi.zip"
THRESHOLD = 0.6


def squash(name: str) -> str:
    return name.replace("-", "")


def malicious_names() -> set[str]:
    names = set()
    with zipfile.ZipFile(SNAPSHOT) as archive:
        for member in archive.namelist():
            if member.startswith("MAL-"):
                record = json.loads(archive.read(member))
                for entry in record.get("affected", []):
                    names.add(canonical(entry["package"]["name"]))
    return names


def recall(index: TyposquatIndex, malicious: set[str]) -> None:
    """Recall on the MAL names within one edit of a corpus name (rapidfuzz's reference)."""
    try:
        from rapidfuzz.distance import DamerauLevenshtein
        from rapidfuzz.process import extract
    except ImportError:
        print("recall: skipped (the reference set needs rapidfuzz: pip install rapidfuzz)")
        return
    targets = [name for name in index.corpus.ranks if len(name) >= 4]
    squashed_targets = [squash(t) for t in targets]
    start = time.perf_counter()
    reference: dict[str, str] = {}
    for name in sorted(malicious):
        hits = extract(
            squash(name),
            squashed_targets,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=1,
            limit=1,
        )
        if hits:
            reference[name] = targets[hits[0][2]]
    derive = time.perf_counter() - start
    found = {n: r for n in reference if (r := index.judge(n)) and r.confidence >= THRESHOLD}
    missed = sorted(set(reference) - set(found))
    print(f"distinct MAL names in the snapshot, not in the corpus: {len(malicious)}")
    print(f"within one edit of a corpus name ({derive:.1f} s brute force): {len(reference)}")
    print(f"recall: {len(found)}/{len(reference)} = {len(found) / len(reference):.1%}")
    print("missed (first 15):", ", ".join(f"{m}~{reference[m]}" for m in missed[:15]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    corpus = load_corpus()
    index = TyposquatIndex(corpus)
    malicious = malicious_names() - set(corpus.ranks)
    recall(index, malicious)
    flagged = [r for n in corpus.ranks if (r := index.judge(n)) and r.confidence >= THRESHOLD]
    share = len(flagged) / len(corpus)
    print(f"false positives on the corpus: {len(flagged)}/{len(corpus)} = {share:.2%}")
    print("  e.g.:", ", ".join(f"{r.name}~{r.imitates} ({r.transformation})" for r in flagged[:10]))
    all_flagged = [n for n in malicious if (r := index.judge(n)) and r.confidence >= THRESHOLD]
    print(f"all MAL names flagged (any distance): {len(all_flagged)}/{len(malicious)}")
    names = list(corpus.ranks) + sorted(malicious)
    suffix = 0
    while len(names) < 100_000:
        names.append(f"{names[suffix % 15000]}-x{suffix}")
        suffix += 1
    names = names[:100_000]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "names.txt"
        path.write_text("\n".join(names) + "\n")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"PYTHONPYCACHEPREFIX": f"{tmp}/pyc", "BASTION_CACHE_DIR": f"{tmp}/cache"}
        command = [sys.executable, "-m", "bastion", "names", "scan", str(path), "--format", "json"]
        times = []
        for _ in range(args.runs + 1):  # the first warms the caches
            start = time.perf_counter()
            result = subprocess.run(command, capture_output=True, check=False, env=env)
            times.append(time.perf_counter() - start)
        reported = len(json.loads(result.stdout)["names"]) if result.stdout else 0
    times = times[1:]
    print(
        f"names scan of 100,000 names: {statistics.median(times):.2f} s wall median "
        f"({min(times):.2f}-{max(times):.2f}, {len(times)} runs), {reported} reported "
        f"(exit {result.returncode})"
    )
    start = time.process_time()
    single = TyposquatIndex(corpus)
    one_by_one = [single.judge(n) for n in names]
    middle = time.process_time()
    batched = TyposquatIndex(corpus).judge_many(names)
    end = time.process_time()
    print(
        f"in one process, CPU: judge name by name {middle - start:.2f} s, judge_many "
        f"{end - middle:.2f} s, same results: {'yes' if batched == one_by_one else 'NO'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
