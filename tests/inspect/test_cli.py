"""``bastion inspect`` end to end: exit codes, formats, the index, lockfiles, the source."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from bastion._internal.cli import main
from tests.conftest import DATA, FakeIndex
from tests.inspect import samples
from tests.inspect.samples import HONEST, make_repository, package_files, write_sdist, write_wheel


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["inspect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _tampered(tmp_path: Path) -> Path:
    files = package_files()
    files["demo/downloads.py"] = samples.RUNNER.encode()
    return write_wheel(tmp_path / "bad", files)


def test_honest_wheel_exits_0_and_tampered_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, str(write_wheel(tmp_path, package_files())), "--fail-on", "low")
    assert code == 0, out
    assert "demo-1.0.0-py3-none-any.whl: clean" in err
    code, out, _ = _run(capsys, str(_tampered(tmp_path)))
    assert code == 1
    assert "inspect-download-exec" in out and "demo/downloads.py" in out


def test_json_and_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _tampered(tmp_path)
    code, out, _ = _run(capsys, str(bad), "--format", "json")
    assert code == 1
    data = json.loads(out)
    rules = {f["rule_id"] for f in data["findings"]}
    assert "inspect-download-exec" in rules
    finding = next(f for f in data["findings"] if f["rule_id"] == "inspect-download-exec")
    assert finding["location"]["line"] == 15
    assert finding["package"] == "demo" and finding["version"] == "1.0.0"
    code, out, _ = _run(capsys, str(bad), "--format", "sarif")
    schema = json.loads((DATA / "schemas/sarif-2.1.0.json").read_text())
    jsonschema.validate(json.loads(out), schema)


def test_capabilities_are_listed_on_request_and_do_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write_wheel(tmp_path, package_files())
    code, out, _ = _run(capsys, str(wheel), "--capabilities", "--format", "json")
    assert code == 0
    found = {(f["rule_id"], f["severity"]) for f in json.loads(out)["findings"]}
    assert found == {("inspect-capability", "info")}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not an archive", "neither a zip nor a tar"),
        (b"PK\x03\x04broken", "unreadable archive"),
    ],
)
def test_bad_named_file_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    path = tmp_path / "x-1.0-py3-none-any.whl"
    path.write_bytes(content)
    code, out, err = _run(capsys, str(path))
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1 and expected in err and str(path) in err
    assert "Traceback" not in err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys)[0] == 3
    code, _, err = _run(capsys, str(tmp_path / "missing.whl"))
    assert code == 3 and "no such file" in err
    wheel = write_wheel(tmp_path, package_files())
    code, _, err = _run(capsys, str(wheel), "--max-members", "2")
    assert code == 3 and "more than 2 members" in err


def _serve(index: FakeIndex, files: list[Path], *, bad_hash: str = "") -> None:
    listed: list[dict[str, object]] = []
    for path in files:
        body = path.read_bytes()
        index.pages[f"/files/{path.name}"] = (200, "application/octet-stream", body)
        digest = bad_hash or hashlib.sha256(body).hexdigest()
        listed.append(
            {"filename": path.name, "url": f"../../files/{path.name}", "hashes": {"sha256": digest}}
        )
    index.simple_json("demo", listed)


def test_name_and_version_downloads_every_file_of_the_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_index: FakeIndex
) -> None:
    wheel = _tampered(tmp_path)  # a wheel whose downloads.py the sdist does not have
    sdist = write_sdist(tmp_path / "sdist", HONEST)
    _serve(fake_index, [wheel, sdist])
    cache = tmp_path / "cache"
    args = ["demo==1.0.0", "--index-url", f"{fake_index.url}/simple/", "--cache-dir", str(cache)]
    code, out, err = _run(capsys, *args, "--format", "json")
    assert code == 1
    assert "2 file(s)" in err
    rules = {
        (f["rule_id"], f["location"]["path"].rsplit(".whl/", 1)[-1])
        for f in json.loads(out)["findings"]
    }
    assert ("inspect-wheel-sdist", "demo/downloads.py") in rules  # the second file was read too
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert (cache / digest[:2] / digest / wheel.name).read_bytes() == wheel.read_bytes()
    fetched = len(fake_index.requests)
    _run(capsys, *args)
    assert len(fake_index.requests) == fetched + 1  # only the project page: files are cached


def test_hash_mismatch_and_missing_release_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_index: FakeIndex
) -> None:
    wheel = write_wheel(tmp_path, package_files())
    _serve(fake_index, [wheel], bad_hash="0" * 64)
    base = ["--index-url", f"{fake_index.url}/simple/", "--cache-dir", str(tmp_path / "c")]
    code, _, err = _run(capsys, "demo==1.0.0", *base)
    assert code == 2 and "does not match the index's" in err
    code, _, err = _run(capsys, "demo==9.9", *base)
    assert code == 2 and "no file of version 9.9" in err
    code, _, err = _run(capsys, "demo==1.0.0", "--index-url", "http://example.invalid/simple/")
    assert code == 2 and "https (or http to loopback) only" in err


def _lock(tmp_path: Path, digests: list[str]) -> Path:
    lines = " ".join(f"--hash=sha256:{d}" for d in digests)
    path = tmp_path / "requirements.txt"
    path.write_text(f"demo==1.0.0 {lines}\n")
    return path


def test_lock_scan_reads_cached_artifacts_and_fails_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_index: FakeIndex
) -> None:
    wheel = write_wheel(tmp_path, package_files())
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    lock = _lock(tmp_path, [digest])
    code, out, err = _run(capsys, "--lock", str(lock), "--cache-dir", str(cache))
    assert code == 2 and "not in the cache" in err and "demo==1.0.0" in err
    _serve(fake_index, [wheel])
    args = ["--lock", str(lock), "--cache-dir", str(cache), "--download"]
    code, out, err = _run(capsys, *args, "--index-url", f"{fake_index.url}/simple/")
    assert code == 0, out
    assert "demo-1.0.0-py3-none-any.whl: clean" in err
    # a cached artifact that cannot be read is a per-artifact error, exit 2, not a traceback
    broken = tmp_path / "broken.whl"
    broken.write_bytes(b"PK\x03\x04" + bytes(100))
    digest2 = hashlib.sha256(broken.read_bytes()).hexdigest()
    (cache / digest2[:2] / digest2).mkdir(parents=True)
    (cache / digest2[:2] / digest2 / "demo-1.0.0-py3-none-any.whl").write_bytes(broken.read_bytes())
    code, out, _ = _run(
        capsys,
        "--lock",
        str(_lock(tmp_path, [digest, digest2])),
        "--cache-dir",
        str(cache),
        "--format",
        "json",
    )
    assert code == 2
    data = json.loads(out)
    assert data["findings"] == []
    result = next(r for r in data["controls"] if r["id"] == "inspect")
    assert result["status"] == "error"
    assert "not readable: demo-1.0.0-py3-none-any.whl: unreadable archive" in result["detail"]


def test_source_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repository = make_repository(tmp_path / "repo")
    code, out, _ = _run(
        capsys, str(write_wheel(tmp_path, package_files())), "--source", str(repository)
    )
    assert code == 0, out
    code, out, _ = _run(
        capsys, str(_tampered(tmp_path)), "--source", f"{repository}@v1.0.0", "--format", "json"
    )
    assert code == 1
    assert "inspect-source-changed" in {f["rule_id"] for f in json.loads(out)["findings"]}
    code, _, err = _run(
        capsys, str(_tampered(tmp_path)), "--source", str(repository), "--ref", "v9"
    )
    assert code == 2 and "no ref for demo 1.0.0 (tried v9)" in err


def test_waiver_silences_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = package_files()
    files["demo/notify.py"] = (
        b'U = "https://discord.com/api/webhooks/123456789012/' + b"a" * 40 + b'"\n'
    )
    wheel = write_wheel(tmp_path, files)
    config = tmp_path / "bastion.toml"
    config.write_text(
        '[[waivers]]\nid = "inspect-webhook"\nreason = "our own alert channel"\n'
        'expires = 2099-01-01\npackage = "demo"\n'
    )
    assert _run(capsys, str(wheel))[0] == 1
    code, out, _ = _run(capsys, str(wheel), "--config", str(config))
    assert code == 0, out


def test_pure_wheel_with_a_real_zip_entry_for_a_launcher(tmp_path: Path) -> None:
    files = package_files()
    files["demo/_vendor/t64-arm.exe"] = b"MZ" + bytes(60) + b"PE\x00\x00" + bytes(100)
    wheel = write_wheel(tmp_path, files)
    with zipfile.ZipFile(wheel) as archive:
        assert "demo/_vendor/t64-arm.exe" in archive.namelist()
    assert main(["inspect", str(wheel)]) == 0  # setuptools/distlib launchers are known
