"""Figures for the typosquat check: recall on real malicious look-alikes, false positives, speed.

Run from the repository root with bastion installed (rapidfuzz for the
independent reference set: pip install rapidfuzz):
    python benchmarks/bench_typosquat.py

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
  generated variants), one process, one core.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extract

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


def main() -> int:
    corpus = load_corpus()
    index = TyposquatIndex(corpus)
    targets = [name for name in corpus.ranks if len(name) >= 4]
    squashed_targets = [squash(t) for t in targets]
    malicious = malicious_names() - set(corpus.ranks)
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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "names.txt"
        path.write_text("\n".join(names[:100_000]) + "\n")
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "bastion", "names", "scan", str(path), "--format", "json"],
            capture_output=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        reported = len(json.loads(result.stdout)["names"]) if result.stdout else 0
    print(
        f"names scan of 100,000 names: {elapsed:.2f} s wall, {reported} reported "
        f"(exit {result.returncode})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
