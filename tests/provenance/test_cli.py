"""bastion provenance verify / show / pin / slsa / update-root / root, in process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from bastion._internal.cli import main
from bastion._internal.provenance.trust_root import bundled_root
from tests.conftest import DATA as TEST_DATA
from tests.conftest import REPO, FakeIndex
from tests.provenance.helpers import DATA, PA_FILE, PA_SHA, requirements

RFC_SHA = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project pinning pypi-attestations (attested) and rfc8785 (no provenance here)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(
        requirements(("pypi-attestations", "0.0.19", PA_SHA), ("rfc8785", "0.1.2", RFC_SHA))
    )
    (root / "bastion.toml").write_text("advisory-max-days = 3650\nadvisory-warn-days = 3650\n")
    folder = root / "prov"
    folder.mkdir()
    shutil.copy(DATA / f"{PA_FILE}.provenance", folder / f"{PA_FILE}.provenance")
    return root


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_text_lists_every_artifact(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "provenance", "verify", str(project), "--provenance-dir", str(project / "prov")
    )
    assert code == 0, out + err
    assert "verified  pypi_attestations-0.0.19.tar.gz" in out  # named by its statement
    assert "Own publishing: no workflow publishes a release to PyPI" in out
    assert "GitHub trailofbits/pypi-attestations, workflow release.yml, log entry 153454663" in out
    assert "missing   rfc8785==0.1.2" in out
    assert "1 package(s) never attested" in out


def test_verify_json_carries_each_artifact(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys,
        "provenance",
        "verify",
        str(project),
        "--provenance-dir",
        str(project / "prov"),
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    artifacts = {a["package"]: a for a in data["provenance"]["artifacts"]}
    verified = artifacts["pypi-attestations"]
    assert verified["outcome"] == "verified"
    assert verified["publisher"]["repository"] == "trailofbits/pypi-attestations"
    assert verified["attestations"][0]["source_commit"].startswith("08802efe")
    assert verified["attestations"][0]["log_index"] == 153454663
    assert artifacts["rfc8785"]["outcome"] == "missing"
    assert [(r["id"], r["status"]) for r in data["controls"]] == [("provenance", "pass")]
    schema = json.loads(
        (REPO / "src" / "bastion" / "schemas" / "report-v1.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["provenance"]["own_publishing"] == "no workflow publishes a release to PyPI"


def test_verify_sarif_with_a_changed_publisher_is_valid_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bastion-provenance.toml").write_text(
        'version = 1\n\n[[package]]\nname = "pypi-attestations"\nkind = "GitHub"\n'
        'repository = "trailofbits/pypi-attestations"\nworkflow = "publish.yml"\n'
    )
    code, out, _ = _run(
        capsys,
        "provenance",
        "verify",
        str(project),
        "--provenance-dir",
        str(project / "prov"),
        "--format",
        "sarif",
    )
    assert code == 1
    sarif = json.loads(out)
    schema = json.loads((TEST_DATA / "schemas" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "publisher-changed"
    assert "differs in workflow" in result["message"]["text"]


def test_trust_file_error_is_one_line_with_file_and_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bastion-provenance.toml").write_text(
        'version = 1\n\n[[package]]\nname = "x"\nkind = "Forgejo"\nrepository = "a/b"\n'
    )
    code, out, err = _run(
        capsys, "provenance", "verify", str(project), "--provenance-dir", str(project / "prov")
    )
    assert code == 3
    assert err.count("\n") == 1
    assert "bastion-provenance.toml:4: unknown publisher kind 'Forgejo'" in err
    assert "Traceback" not in out + err


def test_expected_publisher_without_any_source_is_incomplete(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bastion-provenance.toml").write_text(
        'version = 1\n\n[[package]]\nname = "pypi-attestations"\nkind = "GitHub"\n'
        'repository = "trailofbits/pypi-attestations"\nworkflow = "release.yml"\n'
    )
    code, out, _ = _run(capsys, "provenance", "verify", str(project))
    assert code == 2
    assert "unknown   pypi-attestations==0.0.19" in out


def test_unusable_trust_root_is_exit_3(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "root.json"
    bad.write_text('{"mediaType": "something else"}')
    code, _, err = _run(
        capsys,
        "provenance",
        "verify",
        str(project),
        "--provenance-dir",
        str(project / "prov"),
        "--trust-root",
        str(bad),
    )
    assert code == 3
    assert "root.json: unknown trusted root mediaType" in err


def test_pin_writes_refuses_a_change_and_accepts_replace(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prov = str(project / "prov")
    code, _, err = _run(capsys, "provenance", "pin", str(project), "--provenance-dir", prov)
    assert code == 0, err
    pinned = (project / "bastion-provenance.toml").read_text()
    assert 'repository = "trailofbits/pypi-attestations"' in pinned
    assert "rfc8785" not in pinned  # never attested: counted, not pinned
    changed = pinned.replace("release.yml", "publish.yml")
    (project / "bastion-provenance.toml").write_text(changed)
    code, _, err = _run(capsys, "provenance", "pin", str(project), "--provenance-dir", prov)
    assert code == 1
    assert "publisher differs from the pin" in err
    assert (project / "bastion-provenance.toml").read_text() == changed  # nothing written
    code, _, _ = _run(
        capsys,
        "provenance",
        "pin",
        str(project),
        "--provenance-dir",
        prov,
        "--replace",
        "PyPI_Attestations",
    )
    assert code == 0
    assert (project / "bastion-provenance.toml").read_text() == pinned


def test_pin_refuses_when_something_fails_verification(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project / "prov"
    data = json.loads((folder / f"{PA_FILE}.provenance").read_text())
    data["attestation_bundles"][0]["publisher"]["repository"] = "attacker/x"
    (folder / f"{PA_FILE}.provenance").write_text(json.dumps(data))
    code, _, err = _run(capsys, "provenance", "pin", str(project), "--provenance-dir", str(folder))
    assert code == 1
    assert "fail verification, nothing pinned" in err
    assert not (project / "bastion-provenance.toml").exists()


def test_show_prints_who_built_each_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prov = str(project / "prov")
    code, out, _ = _run(
        capsys, "provenance", "show", "pypi-attestations==0.0.19", "--provenance-dir", prov
    )
    assert code == 0
    assert "08802efe1f8e5fec4ad842d6b8ce97656092ee72" in out
    assert ".github/workflows/release.yml@refs/tags/v0.0.19" in out
    assert "https://search.sigstore.dev/?logIndex=153454663" in out
    code, out, _ = _run(
        capsys,
        "provenance",
        "show",
        "pypi_attestations==0.0.19",
        str(project),
        "--format",
        "json",
        "--provenance-dir",
        prov,
    )
    assert code == 0
    assert json.loads(out)["files"][0]["publisher"]["workflow"] == "release.yml"


@pytest.mark.parametrize("release", ["pypi-attestations", "==1", "nothing==9.9"])
def test_show_bad_or_unknown_release_is_exit_3(
    project: Path, capsys: pytest.CaptureFixture[str], release: str
) -> None:
    code, _, err = _run(
        capsys, "provenance", "show", release, "--provenance-dir", str(project / "prov")
    )
    assert code == 3
    assert err.strip()


def test_update_root_installs_a_checked_root_and_refuses_a_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    code, out, _ = _run(capsys, "provenance", "root")
    assert code == 0 and out.startswith("bundled:")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"})
    )
    code, _, err = _run(capsys, "provenance", "update-root", "--from", str(bad))
    assert code == 3
    assert "lacks a non-empty 'certificateAuthorities'" in err
    assert not (tmp_path / "cache" / "sigstore-trusted-root.json").exists()
    good = tmp_path / "good.json"
    good.write_bytes(bundled_root().read_bytes())
    code, _, err = _run(capsys, "provenance", "update-root", "--from", str(good))
    assert code == 0, err
    code, out, _ = _run(capsys, "provenance", "root")
    assert out.startswith("updated")
    assert str(tmp_path / "cache") in out


RELEASE = """\
name: release
on:
  release:
    types: [published]
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - run: python -m build
      - uses: actions/upload-artifact@b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882
  publish:
    needs: build
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@fa0a91b85d4f404e444e00e005971372dc801d16
      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc
"""
LEGACY_UPLOAD_JOB = """\
  legacy:
    runs-on: ubuntu-latest
    steps:
      - run: twine upload dist/*
        env:
          TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}
"""


def _workflow(root: Path, text: str) -> None:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "release.yml").write_text(textwrap.dedent(text))


def test_slsa_own_releases_level_3_then_the_wave_two_door(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _workflow(project, RELEASE)
    prov = str(project / "prov")
    code, out, _ = _run(
        capsys, "provenance", "slsa", str(project), "--provenance-dir", prov, "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    levels = {level["subject"]: level for level in data["levels"]}
    assert levels["own releases"]["level"] == 3
    assert levels["pypi-attestations==0.0.19"]["level"] == 2
    assert "reusable workflow" in levels["pypi-attestations==0.0.19"]["next_step"]
    assert levels["rfc8785==0.1.2"]["level"] == 0
    assert "PEP 740 attestations" in data["own_publishing"]
    _workflow(project, RELEASE + LEGACY_UPLOAD_JOB)
    code, out, _ = _run(capsys, "provenance", "slsa", str(project), "--provenance-dir", prov)
    assert code == 0
    assert "the wave-2 door" in out
    assert "SLSA Build L2  own releases" in out
    assert "remove the 1 long-lived token use(s)" in out


def test_slsa_build_in_the_publishing_job_is_level_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_job = RELEASE.replace(
        "      - uses: actions/download-artifact@fa0a91b85d4f404e444e00e005971372dc801d16\n",
        "      - run: python -m build\n",
    )
    _workflow(project, one_job)
    code, out, _ = _run(capsys, "provenance", "slsa", str(project))
    assert code == 0
    assert "SLSA Build L2  own releases" in out
    assert "build in a separate job" in out
    _workflow(
        project, one_job.replace("ubuntu-latest\n    environment", "self-hosted\n    environment")
    )
    code, out, _ = _run(capsys, "provenance", "slsa", str(project))
    assert "SLSA Build L1  own releases" in out


def test_control_without_source_is_not_configured_without_importing_sigstore(
    project: Path,
) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from bastion._internal.engine import run_check
        from bastion._internal.controls.provenance import ProvenanceControl
        report = run_check(Path({str(project)!r}), controls=[ProvenanceControl()])
        [result] = report.results
        assert result.status.value == "not-configured", result
        heavy = ("pypi_attestations", "sigstore", "pydantic", "bastion._internal.provenance.run")
        loaded = [m for m in heavy if m in sys.modules]
        assert not loaded, loaded
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_check_runs_the_control_with_the_same_provenance_dir(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prov = str(project / "prov")
    (project / "bastion-provenance.toml").write_text(
        'version = 1\n\n[[package]]\nname = "pypi-attestations"\nkind = "GitHub"\n'
        'repository = "someone/else"\nworkflow = "release.yml"\n'
    )
    code, out, _ = _run(capsys, "check", str(project), "--provenance-dir", prov, "--format", "json")
    data = json.loads(out)
    control = next(c for c in data["controls"] if c["id"] == "provenance")
    assert control["status"] == "fail"
    assert [f["rule_id"] for f in data["findings"] if f["control"] == "provenance"] == [
        "publisher-changed"
    ]
    assert code == 1


def test_missing_extra_is_an_error_result_not_a_traceback(project: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["sigstore"] = None  # as if bastion[provenance] were not installed
        sys.modules["pypi_attestations"] = None
        from pathlib import Path
        from bastion._internal.engine import run_check
        from bastion._internal.controls.provenance import ProvenanceControl
        prov = Path({str(project / "prov")!r})
        report = run_check(Path({str(project)!r}), controls=[ProvenanceControl((prov,))])
        [result] = report.results
        print(result.status.value, report.exit_code, result.detail)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.startswith("error 2 provenance verification needs the provenance extra")


def test_pylock_identities_configure_the_control(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "pypi-attestations"\n'
        f'version = "0.0.19"\nsdist = {{ name = "{PA_FILE}", url = "https://x.invalid/{PA_FILE}", '
        f'hashes = {{ sha256 = "{PA_SHA}" }} }}\n'
        'attestation-identities = [{ kind = "GitHub", repository = "someone/else", '
        'workflow = "release.yml" }]\n'
    )
    code, out, _ = _run(capsys, "provenance", "verify", str(tmp_path), "--format", "json")
    assert code == 2  # expected publisher, no source: cannot vouch
    folder = tmp_path / "prov"
    folder.mkdir()
    shutil.copy(DATA / f"{PA_FILE}.provenance", folder / f"{PA_FILE}.provenance")
    code, out, _ = _run(
        capsys,
        "provenance",
        "verify",
        str(tmp_path),
        "--provenance-dir",
        str(folder),
        "--format",
        "json",
    )
    assert code == 1
    [finding] = json.loads(out)["findings"]
    assert finding["rule_id"] == "publisher-changed"
    assert "pylock.toml attestation-identities" in finding["message"]


def test_verify_online_through_the_command_line(
    project: Path,
    fake_index: FakeIndex,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    integrity = f"/integrity/pypi-attestations/0.0.19/{PA_FILE}/provenance"
    fake_index.simple_json(
        "pypi-attestations",
        [{"filename": PA_FILE, "hashes": {"sha256": PA_SHA}, "provenance": "x"}],
    )
    fake_index.simple_json(
        "rfc8785",
        [{"filename": "rfc8785-0.1.2-py3-none-any.whl", "hashes": {"sha256": RFC_SHA}}],
    )
    fake_index.pages[integrity] = (500, "text/plain", b"down")
    args = ("provenance", "verify", str(project), "--online", "--index-url", fake_index.url)
    code, out, _ = _run(capsys, *args)
    assert code == 2  # the index failed: nothing vouched for, never a pass
    assert "unknown   pypi-attestations==0.0.19" in out and "HTTP 500" in out
    body = (DATA / f"{PA_FILE}.provenance").read_bytes()
    fake_index.pages[integrity] = (200, "application/json", body)
    code, out, _ = _run(capsys, *args)
    assert code == 0
    assert "verified  pypi_attestations-0.0.19.tar.gz" in out
    assert "missing   rfc8785==0.1.2" in out
    accepts = [accept for path, accept in fake_index.requests if "/integrity/" in path]
    assert accepts and all("integrity.v1+json" in accept for accept in accepts)
