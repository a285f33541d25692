"""Locked artifacts from real lockfiles, pylock.toml identities, and the trust file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import read_dependency_file
from bastion._internal.provenance.locate import locked_artifacts, pylock_expectations
from bastion._internal.provenance.model import Identity
from bastion._internal.provenance.trust_file import (
    read_trust_file,
    render_trust_file,
    write_trust_file,
)
from tests.conftest import LOCKFILES

CERTIFI_WHEEL = "certifi-2026.10.18-py3-none-any.whl"
CERTIFI_WHEEL_SHA = "73191c47aaa79da394e8fee2dbc2ec827432cab56311122c9e47abf79e390f62"


@pytest.mark.parametrize(
    "lock",
    [
        "uv/uv.lock",
        "pylock-uv/pylock.toml",
        "pylock-pip/pylock.toml",
        "poetry1/poetry.lock",
        "poetry2/poetry.lock",
        "pdm/pdm.lock",
    ],
)
def test_locks_that_name_files_give_each_digest_its_file(lock: str) -> None:
    source = read_dependency_file(LOCKFILES / lock)
    artifacts = locked_artifacts([source])
    assert artifacts
    by_digest = {a.sha256: a for a in artifacts}
    certifi = by_digest.get(CERTIFI_WHEEL_SHA)
    assert certifi is not None and certifi.filename == CERTIFI_WHEEL
    assert certifi.name == "certifi" and certifi.version == "2026.10.18"
    assert certifi.location.path == source.path and certifi.location.line
    named = sum(1 for a in artifacts if a.filename)
    assert named == len(artifacts), f"{len(artifacts) - named} artifact(s) without a file name"


@pytest.mark.parametrize("lock", ["pipenv/Pipfile.lock", "pip-compile/requirements.txt"])
def test_hash_only_locks_give_digests_without_file_names(lock: str) -> None:
    artifacts = locked_artifacts([read_dependency_file(LOCKFILES / lock)])
    assert artifacts and all(a.filename is None for a in artifacts)
    assert CERTIFI_WHEEL_SHA in {a.sha256 for a in artifacts}
    assert all(len(a.sha256) == 64 for a in artifacts)


def test_each_package_digest_pair_appears_once(tmp_path: Path) -> None:
    line = f"certifi==2026.10.18 --hash=sha256:{CERTIFI_WHEEL_SHA}\n"
    one = tmp_path / "a.txt"
    two = tmp_path / "b.txt"
    one.write_text(line)
    two.write_text(line)
    artifacts = locked_artifacts([read_dependency_file(one), read_dependency_file(two)])
    assert len(artifacts) == 1


PYLOCK = """\
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "pypi-attestations"
version = "0.0.19"
sdist = {{ name = "pypi_attestations-0.0.19.tar.gz", url = "https://example.org/x.tar.gz", \
hashes = {{ sha256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3" }} }}
{identities}
"""


def test_pylock_attestation_identities_become_expectations(tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    identities = (
        'attestation-identities = [{ kind = "GitHub", repository = "trailofbits/pypi-attestations",'
        ' workflow = "release.yml", environment = "pypi" }]'
    )
    path.write_text(PYLOCK.format(identities=identities))
    source = read_dependency_file(path)
    expected = pylock_expectations([source])["pypi-attestations"]
    assert expected.identities == (
        Identity("GitHub", "trailofbits/pypi-attestations", "release.yml", "pypi"),
    )
    assert expected.location.line == 8
    assert locked_artifacts([source])[0].filename == "pypi_attestations-0.0.19.tar.gz"


@pytest.mark.parametrize(
    ("identities", "message"),
    [
        ('attestation-identities = [{ kind = "Forgejo", repository = "a/b" }]', "unknown kind"),
        ('attestation-identities = [{ kind = "GitHub", repository = "a/b" }]', "'workflow'"),
        ('attestation-identities = [{ kind = "GitHub", workflow = "w.yml" }]', "'repository'"),
        ('attestation-identities = "GitHub"', "must be an array"),
        ("attestation-identities = [1]", "must be a table"),
    ],
)
def test_bad_pylock_identities_name_the_line(tmp_path: Path, identities: str, message: str) -> None:
    path = tmp_path / "pylock.toml"
    path.write_text(PYLOCK.format(identities=identities))
    with pytest.raises(InputError) as caught:
        pylock_expectations([read_dependency_file(path)])
    assert message in caught.value.message
    assert caught.value.line == 8


PINS = {
    "pypi-attestations": [Identity("GitHub", "trailofbits/pypi-attestations", "release.yml")],
    "moved": [
        Identity("GitHub", "old/moved", "publish.yml"),
        Identity("GitLab", "new/moved", ".gitlab-ci.yml", "pypi"),
    ],
    "odd": [Identity("Google", 'svc"quote\\@example.iam.gserviceaccount.com')],
}


def test_trust_file_round_trips_and_is_stable(tmp_path: Path) -> None:
    path = tmp_path / "bastion-provenance.toml"
    write_trust_file(path, PINS)
    read = read_trust_file(path)
    assert {n: set(e.identities) for n, e in read.items()} == {n: set(i) for n, i in PINS.items()}
    assert read["moved"].location.path == path and read["moved"].location.line
    assert render_trust_file(PINS) == path.read_text()  # same input, same bytes


BASE = 'version = 1\n\n[[package]]\nname = "a"\nkind = "GitHub"\nrepository = "o/a"\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("version = 2\n", 1, "unsupported trust file version"),
        ("package = []\n", 1, "unsupported trust file version"),
        ('version = 1\nextra = "x"\n', 1, "unknown key"),
        ("version = 1\npackage = 3\n", 1, "array of tables"),
        (BASE + 'workflow = "w.yml"\ncolour = "red"\n', 4, "unknown key 'colour'"),
        (BASE, 4, "'workflow' is required"),
        (BASE.replace("GitHub", "Forgejo") + 'workflow = "w"\n', 4, "unknown publisher kind"),
        (BASE + "workflow = 3\n", 4, "must be a string"),
        (BASE.replace('name = "a"\n', "") + 'workflow = "w"\n', 3, "needs a 'name'"),
        (
            BASE + 'workflow = "w"\n\n' + BASE.split("\n\n", 1)[1] + 'workflow = "w"\n',
            10,
            "listed twice",
        ),
        ("version = 1\n[[package]\n", 2, "invalid TOML"),
    ],
)
def test_trust_file_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bastion-provenance.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_trust_file(path)
    assert caught.value.path == path
    assert caught.value.line == line
    assert message in caught.value.message


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=300))
def test_fuzzed_trust_files_are_read_or_refused_with_a_line(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bastion-provenance.toml"
        path.write_text(text, encoding="utf-8")
        try:
            read = read_trust_file(path)
        except InputError as exc:
            assert exc.path == path
        else:
            assert all(e.identities for e in read.values())
