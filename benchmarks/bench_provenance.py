"""Figure for the provenance layer: verifying 300 artifacts from a local provenance folder.

Run from the repository root with bastion and its provenance extra installed:
    python benchmarks/bench_provenance.py [--rounds 7]

Goal (issue 20): under 20 ms per artifact after start-up. Start-up (importing
pypi-attestations and sigstore, reading the trusted root) is measured apart,
in a fresh interpreter.

Input: only real attestations exist (tests/data/provenance; nobody can sign new
ones offline), so the 300 artifacts are three groups of 100 verifications of
the real objects, each a complete verification (file read, JSON and model
parsing, certificate chain to the Fulcio CA, signed certificate timestamp,
Rekor inclusion proof and promise, DSSE signature, statement subject):
100 x pypi_attestations-0.0.19.tar.gz (GitHub publisher), 100 x
gitlab_oidc_project-0.0.3.tar.gz (GitLab publisher), and 100 artifacts whose
locked digest differs from the signed one (the full signature work, then a
digest mismatch). Each artifact has its own file under <project>/<version>/.

Peer, same process, same inputs, interleaved round by round: pypi-attestations'
own ``Attestation.verify(publisher, Distribution, offline=True)`` per attestation
(what a script using the library directly does; it builds its verifier from
the trusted root in sigstore's local TUF cache on every call). Medians and min-max over the
rounds, per artifact.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "provenance"
sys.path.insert(0, str(REPO / "src"))

from bastion._internal.model import Location  # noqa: E402 - after the path
from bastion._internal.provenance.model import Artifact  # noqa: E402

PA = ("pypi-attestations", "0.0.19", "pypi_attestations-0.0.19.tar.gz")
PA_SHA = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
GL = ("gitlab-oidc-project", "0.0.3", "gitlab_oidc_project-0.0.3.tar.gz")
GL_SHA = "c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8"
GL_PUBLISHER = {
    "kind": "GitLab",
    "repository": "facutuesca/gitlab-oidc-project",
    "workflow_filepath": ".gitlab-ci.yml",
}
PER_GROUP = 100


def _provenance_texts() -> dict[str, bytes]:
    attestation = json.loads((DATA / f"{GL[2]}.publish.attestation").read_text())
    gitlab = {
        "version": 1,
        "attestation_bundles": [{"publisher": GL_PUBLISHER, "attestations": [attestation]}],
    }
    return {
        PA[2]: (DATA / f"{PA[2]}.provenance").read_bytes(),
        GL[2]: json.dumps(gitlab).encode(),
    }


def _setup(folder: Path) -> list[Artifact]:
    """300 artifacts and a provenance folder holding one file per artifact."""
    texts = _provenance_texts()
    artifacts = []
    groups = [(PA, PA_SHA), (GL, GL_SHA), (PA, "0" + PA_SHA[1:])]
    for group, ((name, version, filename), sha) in enumerate(groups):
        for index in range(PER_GROUP):
            # Distinct project folders so that every artifact reads its own file.
            project = f"{name}-{group}-{index}"
            target = folder / project / version
            target.mkdir(parents=True)
            (target / f"{filename}.provenance").write_bytes(texts[filename])
            where = Location(folder / "lock", index + 1)
            artifacts.append(Artifact(project, version, sha, filename, where))
    return artifacts


def _bastion_round(
    artifacts: list[Artifact], folder: Path, cache: Path
) -> tuple[float, dict[str, int]]:
    """bastion's own path: the folder source, one verifier, continuity findings."""
    from bastion._internal.provenance.run import Options, verify_artifacts

    options = Options(provenance_dirs=(folder,), cache=cache)
    started = time.perf_counter()
    verification = verify_artifacts(artifacts, {}, options)
    elapsed = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for result in verification.results:
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return elapsed, outcomes


def _peer_round(artifacts: list[Artifact], folder: Path) -> tuple[float, dict[str, int]]:
    from pypi_attestations import AttestationError, Distribution, Provenance

    started = time.perf_counter()
    outcomes: dict[str, int] = {}
    for artifact in artifacts:
        filename = str(artifact.filename)
        path = folder / artifact.name / str(artifact.version) / f"{filename}.provenance"
        provenance = Provenance.model_validate_json(path.read_bytes())
        dist = Distribution(name=filename, digest=artifact.sha256)
        verdict = "verified"
        try:
            for bundle in provenance.attestation_bundles:
                for attestation in bundle.attestations:
                    attestation.verify(bundle.publisher, dist, offline=True)
        except AttestationError:
            verdict = "failed"
        outcomes[verdict] = outcomes.get(verdict, 0) + 1
    return time.perf_counter() - started, outcomes


def _startup() -> float:
    code = (
        "import time; t = time.perf_counter();"
        "from bastion._internal.provenance.verify import ProvenanceVerifier;"
        "from bastion._internal.provenance.trust_root import bundled_root;"
        "ProvenanceVerifier.from_file(bundled_root());"
        "import pypi_attestations, sigstore.verify;"
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return float(done.stdout.strip())


def _ms(values: list[float]) -> str:
    per = [v * 1000 for v in values]
    return f"{statistics.median(per):.2f} ms (min {min(per):.2f}, max {max(per):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    import logging

    logging.getLogger("sigstore").setLevel(logging.ERROR)  # "TUF ... offline mode" per call
    work = Path(tempfile.mkdtemp(prefix="bench-provenance-"))
    try:
        folder = work / "provenance"
        artifacts = _setup(folder)
        count = len(artifacts)
        startups = [_startup() for _ in range(3)]
        _bastion_round(artifacts[:3], folder, work / "cache")  # warm imports, page cache
        _peer_round(artifacts[:3], folder)
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(args.rounds):
            elapsed, our_outcomes = _bastion_round(artifacts, folder, work / "cache")
            ours.append(elapsed / count)
            elapsed, peer_outcomes = _peer_round(artifacts, folder)
            theirs.append(elapsed / count)
        print(f"artifacts: {count} ({PER_GROUP} per group), rounds: {args.rounds}")
        print(f"start-up (fresh interpreter: imports + trusted root): {_ms(startups)}")
        print(f"bastion, per artifact:              {_ms(ours)}   outcomes {our_outcomes}")
        print(f"pypi-attestations, per artifact:    {_ms(theirs)}   outcomes {peer_outcomes}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
