"""Verification of real PEP 740 attestations, and every way one must fail."""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypi_attestations import Attestation
from sigstore.verify import policy

from bastion._internal.errors import InputError
from bastion._internal.provenance.model import Identity, Outcome
from bastion._internal.provenance.trust_root import bundled_root
from bastion._internal.provenance.verify import (
    MAX_PROVENANCE_BYTES,
    ProvenanceVerifier,
    Rejected,
)
from tests.provenance.helpers import (
    DATA,
    GL_FILE,
    GL_PUBLISHER,
    GL_SHA,
    PA_FILE,
    PA_PUBLISHER,
    PA_SHA,
    RFC_FILE,
    RFC_SHA,
    artifact,
    pa_provenance,
    wrapped,
)


def test_real_provenance_verifies_with_publisher_commit_and_log_entry(
    verifier: ProvenanceVerifier,
) -> None:
    result = verifier.verify(artifact(), pa_provenance(), "test")
    assert result.outcome is Outcome.VERIFIED, result.reason
    assert result.identity == Identity("GitHub", "trailofbits/pypi-attestations", "release.yml")
    build = result.build
    assert build is not None
    assert build.source_commit == "08802efe1f8e5fec4ad842d6b8ce97656092ee72"
    assert build.source_ref == "refs/tags/v0.0.19"
    assert build.runner == "github-hosted"
    assert build.trigger == "release"
    entry = result.attestations[0].log_entry
    assert entry is not None and entry.index == 153454663


def test_both_pypi_attestations_attestations_verify_in_one_bundle(
    verifier: ProvenanceVerifier,
) -> None:
    publish = json.loads((DATA / f"{PA_FILE}.publish.attestation").read_text())
    slsa = json.loads((DATA / f"{PA_FILE}.slsa.attestation").read_text())
    bundle = {"publisher": PA_PUBLISHER, "attestations": [publish, slsa]}
    data = json.dumps({"version": 1, "attestation_bundles": [bundle]}).encode()
    result = verifier.verify(artifact(), data, "test")
    assert result.outcome is Outcome.VERIFIED, result.reason
    assert {a.predicate_type for a in result.attestations} == {
        "https://docs.pypi.org/attestations/publish/v1",
        "https://slsa.dev/provenance/v1",
    }


def test_gitlab_attestation_verifies_as_its_gitlab_publisher(verifier: ProvenanceVerifier) -> None:
    data = wrapped(f"{GL_FILE}.publish.attestation", GL_PUBLISHER)
    target = artifact("gitlab-oidc-project", "0.0.3", GL_SHA, GL_FILE)
    result = verifier.verify(target, data, "test")
    assert result.outcome is Outcome.VERIFIED, result.reason
    assert result.identity == Identity("GitLab", "facutuesca/gitlab-oidc-project", ".gitlab-ci.yml")
    assert result.build is not None and result.build.runner == "gitlab-hosted"


def _staging_root(tmp_path: Path) -> Path:
    store = resources.files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
    staging = tmp_path / "staging.json"
    staging.write_bytes((store / "trusted_root.json").read_bytes())
    return staging


def test_rfc8785_staging_attestation_verifies_only_against_the_staging_root(
    verifier: ProvenanceVerifier, tmp_path: Path
) -> None:
    target = artifact("rfc8785", "0.1.2", RFC_SHA, RFC_FILE)
    attestation = Attestation.model_validate_json(
        (DATA / f"{RFC_FILE}.publish.attestation").read_bytes()
    )
    staging = ProvenanceVerifier.from_file(_staging_root(tmp_path))
    attested = staging.verify_attestation(attestation, target, policy.UnsafeNoOp())
    assert attested.predicate_type == "https://docs.pypi.org/attestations/publish/v1"
    assert attested.build.issuer == "https://github.com/login/oauth"  # a person, not a CI
    assert attested.log_entry is not None and attested.log_entry.index == 28175749
    with pytest.raises(Rejected, match="bad signature or certificate identity"):
        verifier.verify_attestation(attestation, target, policy.UnsafeNoOp())
    # Presented as the work of the project's GitHub workflow, the identity check fails.
    claimed = {"kind": "GitHub", "repository": "trailofbits/rfc8785.py", "workflow": "release.yml"}
    data = wrapped(f"{RFC_FILE}.publish.attestation", claimed)
    result = staging.verify(target, data, "t")
    assert result.outcome is Outcome.FAILED
    assert "certificate identity" in result.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sha256": "0" + PA_SHA[1:]}, "digest mismatch"),
        ({"filename": "pypi_attestations-0.0.20.tar.gz", "version": "0.0.20"}, "wrong subject"),
        ({"filename": "pypi_attestations-0.0.19-py3-none-any.whl"}, "wrong subject"),
        ({"filename": "other-0.0.19.tar.gz", "name": "other"}, "wrong subject"),
        ({"filename": None, "version": "0.0.18"}, "wrong subject"),
    ],
)
def test_changed_digest_or_file_name_fails(
    verifier: ProvenanceVerifier, change: dict[str, str | None], reason: str
) -> None:
    fields: dict[str, str | None] = {
        "name": "pypi-attestations",
        "version": "0.0.19",
        "sha256": PA_SHA,
        "filename": PA_FILE,
    }
    fields.update(change)
    target = artifact(
        str(fields["name"]), fields["version"], str(fields["sha256"]), fields["filename"]
    )
    result = verifier.verify(target, pa_provenance(), "test")
    assert result.outcome is Outcome.FAILED
    assert reason in result.reason


def test_lock_without_file_name_verifies_by_name_version_and_digest(
    verifier: ProvenanceVerifier,
) -> None:
    result = verifier.verify(artifact(filename=None), pa_provenance(), "test")
    assert result.outcome is Outcome.VERIFIED, result.reason


def test_publisher_record_that_disagrees_with_the_certificate_fails(
    verifier: ProvenanceVerifier,
) -> None:
    for key, value in (("repository", "attacker/pypi-attestations"), ("workflow", "other.yml")):
        data = json.loads(pa_provenance())
        data["attestation_bundles"][0]["publisher"][key] = value
        result = verifier.verify(artifact(), json.dumps(data).encode(), "test")
        assert result.outcome is Outcome.FAILED, key
        assert "certificate identity" in result.reason


def _mutate(field: str) -> bytes:
    data = json.loads(pa_provenance())
    attestation = data["attestation_bundles"][0]["attestations"][0]
    if field == "statement":
        statement = base64.b64decode(attestation["envelope"]["statement"])
        statement = statement.replace(b'"predicate":null', b'"predicate":{}')
        attestation["envelope"]["statement"] = base64.b64encode(statement).decode()
    elif field == "signature":
        signature = bytearray(base64.b64decode(attestation["envelope"]["signature"]))
        signature[10] ^= 0x01
        attestation["envelope"]["signature"] = base64.b64encode(bytes(signature)).decode()
    elif field == "certificate":
        material = attestation["verification_material"]
        certificate = bytearray(base64.b64decode(material["certificate"]))
        certificate[len(certificate) // 2] ^= 0x01
        encoded = base64.b64encode(bytes(certificate)).decode()
        material["certificate"] = encoded
    elif field == "log entry":
        entry = attestation["verification_material"]["transparency_entries"][0]
        entry["logIndex"] = str(int(entry["logIndex"]) + 1)
    return json.dumps(data).encode()


@pytest.mark.parametrize("field", ["statement", "signature", "certificate", "log entry"])
def test_one_changed_byte_of_the_bundle_fails(verifier: ProvenanceVerifier, field: str) -> None:
    result = verifier.verify(artifact(), _mutate(field), "test")
    assert result.outcome is Outcome.FAILED
    assert result.reason


def test_another_trusted_root_rejects_production_attestations(tmp_path: Path) -> None:
    other = ProvenanceVerifier.from_file(_staging_root(tmp_path))
    result = other.verify(artifact(), pa_provenance(), "test")
    assert result.outcome is Outcome.FAILED
    assert "bad signature or certificate identity" in result.reason


def test_trusted_root_without_the_fulcio_ca_rejects(tmp_path: Path) -> None:
    root = json.loads(bundled_root().read_text())
    root["certificateAuthorities"] = root["certificateAuthorities"][-1:]
    root["certificateAuthorities"][0]["certChain"]["certificates"] = root["certificateAuthorities"][
        0
    ]["certChain"]["certificates"][-1:]
    changed = tmp_path / "root.json"
    changed.write_text(json.dumps(root))
    other = ProvenanceVerifier.from_file(changed)
    assert other.verify(artifact(), pa_provenance(), "t").outcome is Outcome.FAILED


@pytest.mark.parametrize(
    ("text", "line"),
    [("{", 1), ("[]", 1), ('{"mediaType": "x"}', None), ('{\n"mediaType": 3\n}', None)],
)
def test_unusable_trusted_root_is_an_input_error(
    tmp_path: Path, text: str, line: int | None
) -> None:
    path = tmp_path / "root.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        ProvenanceVerifier.from_file(path)
    assert caught.value.path == path
    if line is not None:
        assert caught.value.line == line


def test_trusted_root_with_broken_log_keys_verifies_nothing(tmp_path: Path) -> None:
    root = json.loads(bundled_root().read_text())
    for tlog in root["tlogs"]:
        tlog["publicKey"]["rawBytes"] = "AAAA"
    path = tmp_path / "root.json"
    path.write_text(json.dumps(root))
    # sigstore skips a key it cannot load (with a warning): nothing then verifies.
    other = ProvenanceVerifier.from_file(path)
    assert other.verify(artifact(), pa_provenance(), "t").outcome is Outcome.FAILED


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"version": 2, "attestation_bundles": []}', "unknown provenance version"),
        (b'{"version": 1, "attestation_bundles": []}', "no attestation bundles"),
        (b'{"version": 1, "attestation_bundles": [{"publisher": {}}]}', "malformed provenance"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # nested too deep
        (b" " * (MAX_PROVENANCE_BYTES + 1), "larger than"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_bad_provenance_is_a_failure_never_an_exception(
    verifier: ProvenanceVerifier, data: bytes, reason: str
) -> None:
    result = verifier.verify(artifact(), data, "test")
    assert result.outcome is Outcome.FAILED
    assert reason in result.reason


def test_too_many_bundles_or_attestations_fail(verifier: ProvenanceVerifier) -> None:
    data = json.loads(pa_provenance())
    bundle = data["attestation_bundles"][0]
    many = {"version": 1, "attestation_bundles": [bundle] * 9}
    assert "more than" in verifier.verify(artifact(), json.dumps(many).encode(), "t").reason
    bundle = {**bundle, "attestations": bundle["attestations"] * 17}
    many = {"version": 1, "attestation_bundles": [bundle]}
    assert "more than" in verifier.verify(artifact(), json.dumps(many).encode(), "t").reason


def test_provenance_about_another_file_fails(verifier: ProvenanceVerifier) -> None:
    data = wrapped(f"{GL_FILE}.publish.attestation", GL_PUBLISHER)
    result = verifier.verify(artifact(), data, "test")
    assert result.outcome is Outcome.FAILED
    assert "wrong subject name" in result.reason


def test_bundles_naming_different_publishers_fail(verifier: ProvenanceVerifier) -> None:
    one = json.loads(pa_provenance())["attestation_bundles"][0]
    gitlab = json.loads(wrapped(f"{GL_FILE}.publish.attestation", GL_PUBLISHER))
    data = {"version": 1, "attestation_bundles": [one, gitlab["attestation_bundles"][0]]}
    result = verifier.verify(artifact(), json.dumps(data).encode(), "test")
    assert result.outcome is Outcome.FAILED


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_JSON)
def test_fuzzed_json_never_verifies_and_never_raises(
    verifier: ProvenanceVerifier, value: object
) -> None:
    result = verifier.verify(artifact(), json.dumps(value).encode(), "fuzz")
    assert result.outcome is Outcome.FAILED


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(min_value=0), value=st.integers(min_value=1, max_value=255))
def test_fuzzed_bytes_of_real_provenance_never_raise(
    verifier: ProvenanceVerifier, position: int, value: int
) -> None:
    data = bytearray(pa_provenance())
    index = position % len(data)
    data[index] = (data[index] + value) % 256
    result = verifier.verify(artifact(), bytes(data), "fuzz")
    # A change inside the JSON syntax or an unsigned field may leave it verifiable; a
    # change of the signed parts may not. Either way the verdict is a result.
    assert result.outcome in (Outcome.VERIFIED, Outcome.FAILED)
    if result.outcome is Outcome.VERIFIED:
        assert result.identity is not None
        assert result.attestations[0].log_entry is not None
