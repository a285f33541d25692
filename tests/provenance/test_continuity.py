"""Publisher continuity over provenance folders describing several versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bastion._internal.inputs.discovery import read_dependency_file
from bastion._internal.model import Location, Severity
from bastion._internal.provenance.model import Expectation, Identity, Outcome
from bastion._internal.provenance.run import Options, Verification, verify_sources
from bastion._internal.provenance.trust_file import write_trust_file
from bastion._internal.provenance.verify import ProvenanceVerifier
from tests.provenance.helpers import (
    DATA,
    GL_FILE,
    GL_PUBLISHER,
    GL_SHA,
    PA_FILE,
    PA_SHA,
    requirements,
    wrapped,
)

PA_PIN = Identity("GitHub", "trailofbits/pypi-attestations", "release.yml")
NEXT_SHA = "1" * 64  # pypi-attestations 0.0.20 as a lock might pin it (no provenance exists)


def _folder(root: Path, nested: bool) -> Path:
    """A provenance folder with the real 0.0.19 provenance and the GitLab project's."""
    folder = root / "provenance"
    target = folder / "pypi-attestations" / "0.0.19" if nested else folder
    target.mkdir(parents=True)
    shutil.copy(DATA / f"{PA_FILE}.provenance", target / f"{PA_FILE}.provenance")
    (folder / f"{GL_FILE}.provenance").write_bytes(
        wrapped(f"{GL_FILE}.publish.attestation", GL_PUBLISHER)
    )
    return folder


def _run(
    root: Path,
    verifier: ProvenanceVerifier,
    lines: list[tuple[str, str, str]],
    pins: dict[str, list[Identity]] | None = None,
    *,
    nested: bool = False,
) -> Verification:
    (root / "requirements.txt").write_text(requirements(*lines))
    if pins is not None:
        write_trust_file(root / "bastion-provenance.toml", pins)
    folder = _folder(root, nested)
    source = read_dependency_file(root / "requirements.txt")
    options = Options(provenance_dirs=(folder,), cache=root / "cache")
    return verify_sources(root, [source], options, verifier=verifier)


@pytest.mark.parametrize("nested", [False, True])
def test_pinned_publisher_verified_is_clean(
    tmp_path: Path, verifier: ProvenanceVerifier, nested: bool
) -> None:
    result = _run(
        tmp_path,
        verifier,
        [("pypi-attestations", "0.0.19", PA_SHA)],
        {"pypi-attestations": [PA_PIN]},
        nested=nested,
    )
    assert [r.outcome for r in result.results] == [Outcome.VERIFIED]
    assert result.findings == ()


def test_attested_then_missing_is_a_high_finding_with_the_expected_identity(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    result = _run(
        tmp_path,
        verifier,
        [("pypi-attestations", "0.0.20", NEXT_SHA)],
        {"pypi-attestations": [PA_PIN]},
    )
    assert [r.outcome for r in result.results] == [Outcome.MISSING]
    [finding] = result.findings
    assert finding.rule_id == "provenance-missing"
    assert finding.severity is Severity.HIGH
    assert "GitHub trailofbits/pypi-attestations, workflow release.yml" in finding.message
    assert "bastion-provenance.toml" in finding.message
    assert finding.location is not None and finding.location.line == 1


@pytest.mark.parametrize(
    ("pin", "differs"),
    [
        (Identity("GitHub", "someone/pypi-attestations", "release.yml"), "repository"),
        (Identity("GitHub", "trailofbits/pypi-attestations", "publish.yml"), "workflow"),
        (Identity("GitHub", "trailofbits/pypi-attestations", "release.yml", "pypi"), "environment"),
        (Identity("GitLab", "trailofbits/pypi-attestations", "release.yml"), "kind"),
    ],
)
def test_publisher_changed_shows_both_identities(
    tmp_path: Path, verifier: ProvenanceVerifier, pin: Identity, differs: str
) -> None:
    result = _run(
        tmp_path, verifier, [("pypi-attestations", "0.0.19", PA_SHA)], {"pypi-attestations": [pin]}
    )
    [finding] = result.findings
    assert finding.rule_id == "publisher-changed"
    assert finding.severity is Severity.HIGH
    assert f"differs in {differs}" in finding.message
    assert "published by GitHub trailofbits/pypi-attestations, workflow release.yml" in (
        finding.message
    )
    assert pin.display() in finding.message


def test_one_of_several_pinned_publishers_is_enough(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    pins = {"pypi-attestations": [Identity("GitHub", "old/place", "release.yml"), PA_PIN]}
    result = _run(tmp_path, verifier, [("pypi-attestations", "0.0.19", PA_SHA)], pins)
    assert result.findings == ()


def test_repository_case_does_not_matter_but_workflow_case_does(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    upper = Identity("GitHub", "TrailOfBits/PYPI-attestations", "release.yml")
    assert not upper.differences(PA_PIN)
    assert Identity("GitHub", PA_PIN.repository, "Release.yml").differences(PA_PIN)


def test_failed_verification_is_critical_and_no_pin_needed(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    changed = "0" + PA_SHA[1:]
    (tmp_path / "requirements.txt").write_text(
        requirements(("pypi-attestations", "0.0.19", changed))
    )
    folder = tmp_path / "provenance"
    folder.mkdir()
    shutil.copy(DATA / f"{PA_FILE}.provenance", folder / f"{PA_FILE}.provenance")
    source = read_dependency_file(tmp_path / "requirements.txt")
    # A hash-only lock finds provenance by the digest it signs: a changed digest finds none.
    result = verify_sources(
        tmp_path, [source], Options(provenance_dirs=(folder,)), verifier=verifier
    )
    assert [r.outcome for r in result.results] == [Outcome.MISSING]
    # A lock that names the file finds it, and the changed digest fails.
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "pypi-attestations"\n'
        f'version = "0.0.19"\nsdist = {{ name = "{PA_FILE}", url = "https://x.invalid/{PA_FILE}", '
        f'hashes = {{ sha256 = "{changed}" }} }}\n'
    )
    result = verify_sources(
        tmp_path,
        [read_dependency_file(lock)],
        Options(provenance_dirs=(folder,)),
        verifier=verifier,
    )
    [finding] = result.findings
    assert finding.rule_id == "provenance-invalid"
    assert finding.severity is Severity.CRITICAL
    assert "digest mismatch" in finding.message


def test_packages_never_attested_are_counted_not_listed(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    lines = [("pypi-attestations", "0.0.19", PA_SHA)]
    lines += [(f"plain{i}", "1.0", f"{i:064x}") for i in range(5)]
    result = _run(tmp_path, verifier, lines)
    assert result.findings == ()
    assert result.never_attested() == 5
    assert "5 package(s) never attested" in result.summary()


def test_release_with_one_file_attested_and_another_not_is_medium(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    (tmp_path / "requirements.txt").write_text(
        f"pypi-attestations==0.0.19 --hash=sha256:{PA_SHA} --hash=sha256:{NEXT_SHA}\n"
    )
    folder = _folder(tmp_path, nested=False)
    source = read_dependency_file(tmp_path / "requirements.txt")
    result = verify_sources(
        tmp_path, [source], Options(provenance_dirs=(folder,)), verifier=verifier
    )
    [finding] = result.findings
    assert finding.rule_id == "provenance-missing"
    assert finding.severity is Severity.MEDIUM
    assert "1 of 2 file(s)" in finding.message


def test_gitlab_publisher_pinned_and_verified(tmp_path: Path, verifier: ProvenanceVerifier) -> None:
    pin = Identity("GitLab", "facutuesca/gitlab-oidc-project", ".gitlab-ci.yml")
    result = _run(
        tmp_path,
        verifier,
        [("gitlab-oidc-project", "0.0.3", GL_SHA)],
        {"gitlab-oidc-project": [pin]},
    )
    assert [r.outcome for r in result.results] == [Outcome.VERIFIED]
    assert result.findings == ()


def test_special_files_in_the_folder_are_failures_not_hangs(
    tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    import os

    folder = tmp_path / "provenance"
    folder.mkdir()
    os.mkfifo(folder / f"{PA_FILE}.provenance")
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "pypi-attestations"\n'
        f'version = "0.0.19"\nsdist = {{ name = "{PA_FILE}", url = "https://x.invalid/{PA_FILE}", '
        f'hashes = {{ sha256 = "{PA_SHA}" }} }}\n'
    )
    result = verify_sources(
        tmp_path,
        [read_dependency_file(lock)],
        Options(provenance_dirs=(folder,)),
        verifier=verifier,
    )
    assert [r.outcome for r in result.results] == [Outcome.MISSING]  # a FIFO is not a file
    (folder / f"{PA_FILE}.provenance").unlink()
    (folder / f"{PA_FILE}.provenance").symlink_to(DATA / f"{PA_FILE}.provenance")
    result = verify_sources(
        tmp_path,
        [read_dependency_file(lock)],
        Options(provenance_dirs=(folder,)),
        verifier=verifier,
    )
    assert [r.outcome for r in result.results] == [Outcome.FAILED]  # symlinks are not followed
    assert "unreadable" in result.results[0].reason


def test_history_rules_on_their_own(tmp_path: Path) -> None:
    """The --online comparison with earlier releases, as a pure rule over results."""
    from bastion._internal.provenance.continuity import Previous, continuity_findings
    from bastion._internal.provenance.model import ArtifactResult
    from tests.provenance.helpers import artifact

    gitlab = Identity("GitLab", "someone/pypi-attestations", ".gitlab-ci.yml")
    proven = ArtifactResult(artifact(), Outcome.VERIFIED, identity=gitlab)
    earlier = {"pypi-attestations": Previous("0.0.18", PA_PIN)}
    [finding] = continuity_findings([proven], {}, earlier)
    assert finding.rule_id == "publisher-changed"
    assert "while 0.0.18 was published by GitHub trailofbits/pypi-attestations" in finding.message
    same = ArtifactResult(artifact(), Outcome.VERIFIED, identity=PA_PIN)
    assert continuity_findings([same], {}, earlier) == []
    never = {"pypi-attestations": Previous(None, None)}
    missing = ArtifactResult(artifact(), Outcome.MISSING, reason="none")
    assert continuity_findings([missing], {}, never) == []
    # An expectation outranks the history.
    where = Location(tmp_path / "bastion-provenance.toml", 3)
    expected = Expectation("pypi-attestations", (gitlab,), where, "trust file")
    pinned = {"pypi-attestations": expected}
    assert continuity_findings([proven], pinned, earlier) == []


def test_slsa_levels_of_each_outcome() -> None:
    from bastion._internal.provenance.model import ArtifactResult, Attested, Build
    from bastion._internal.provenance.slsa import dependency_levels
    from tests.provenance.helpers import artifact

    def verified(**claims: str) -> ArtifactResult:
        build = Build(
            issuer=claims.get("issuer", "https://token.actions.githubusercontent.com"),
            runner=claims.get("runner", "github-hosted"),
            build_config=claims.get("config", "https://github.com/o/r/.github/workflows/r.yml@v1"),
            build_signer=claims.get("signer", "https://github.com/o/r/.github/workflows/r.yml@v1"),
            trigger=claims.get("trigger", "release"),
        )
        attested = Attested("https://docs.pypi.org/attestations/publish/v1", build, None)
        return ArtifactResult(artifact(), Outcome.VERIFIED, PA_PIN, (attested,))

    reusable = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/b.yml@v2"
    cases = [
        (ArtifactResult(artifact(), Outcome.UNKNOWN, reason="offline"), 0, "--online"),
        (
            ArtifactResult(artifact(), Outcome.MISSING, reason="none"),
            0,
            "publish with attestations",
        ),
        (ArtifactResult(artifact(), Outcome.FAILED, reason="digest mismatch"), 0, "publish with"),
        (verified(issuer="https://github.com/login/oauth", runner=""), 1, "hosted CI platform"),
        (verified(runner="self-hosted"), 1, "hosted CI platform"),
        (verified(), 2, "reusable workflow"),
        (verified(signer=reusable, trigger="pull_request_target"), 2, "reusable workflow"),
        (verified(signer=reusable), 3, ""),
    ]
    for result, level, step in cases:
        [graded] = dependency_levels([result])
        assert graded.level == level, (result, graded)
        assert step in graded.next_step if step else graded.next_step == ""
