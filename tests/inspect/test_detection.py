"""Honest builds are clean; each tampering the real attacks used is found, wherever it hides."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from bastion._internal.inspect.scan import inspect_file
from bastion._internal.model import Severity
from tests.inspect import samples
from tests.inspect.samples import HONEST, package_files, write_sdist, write_wheel


def _rules(path: Path, at_least: Severity = Severity.MEDIUM) -> dict[str, list[str]]:
    report = inspect_file(path)
    found: dict[str, list[str]] = {}
    for hit in report.findings:
        if hit.severity >= at_least:
            found.setdefault(hit.rule, []).append(hit.member)
    return found


def test_honest_wheel_and_sdist_are_clean_but_show_capabilities(tmp_path: Path) -> None:
    wheel = inspect_file(write_wheel(tmp_path, package_files()))
    sdist = inspect_file(write_sdist(tmp_path, HONEST))
    for report in (wheel, sdist):
        assert report.findings == ()
        assert report.verdict == "clean"
        capabilities = {h.capability for h in report.capabilities}
        assert {"network", "process"} <= capabilities  # information, not findings
    assert wheel.kind == "wheel" and wheel.pure is True
    assert sdist.kind == "sdist"


def _tampered_wheel(tmp_path: Path, changes: Mapping[str, str | bytes]) -> Path:
    files = package_files()
    for name, data in changes.items():
        files[name] = data.encode() if isinstance(data, str) else data
    return write_wheel(tmp_path, files)


WHEEL_SAMPLES = samples.TAMPERED_WHEELS


@pytest.mark.parametrize(
    ("label", "changes", "rule"), WHEEL_SAMPLES, ids=[s[0] for s in WHEEL_SAMPLES]
)
def test_tampered_wheel_is_caught(
    tmp_path: Path, label: str, changes: dict[str, str | bytes], rule: str
) -> None:
    found = _rules(_tampered_wheel(tmp_path, changes))
    assert rule in found, f"{label}: {found}"
    changed = set(changes)
    assert changed & set(found[rule]), found


def test_setup_py_cmdclass_fetching_a_payload_is_caught(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**HONEST, "setup.py": samples.SETUP_CMDCLASS}
    found = _rules(write_sdist(tmp_path, files))
    assert found.get("inspect-remote-exec") == ["demo-1.0.0/setup.py"]
    assert "demo-1.0.0/setup.py" in found["inspect-install-hook"]


def test_setup_py_that_only_reads_its_version_and_runs_git_is_clean(tmp_path: Path) -> None:
    setup = (
        "import subprocess\nfrom setuptools import setup\n"
        "exec(open('src/demo/_version.py').read())\n"
        "rev = subprocess.check_output(['git', 'rev-parse', 'HEAD'])\n"
        "setup(name='demo')\n"
    )
    report = inspect_file(write_sdist(tmp_path, {**HONEST, "setup.py": setup}))
    assert report.findings == ()


@pytest.mark.parametrize(
    "source",
    [
        # a capability alone is information, not a finding
        "import subprocess\nsubprocess.run(['ls'])\n",
        "import base64\nvalue = base64.b64decode('aGVsbG8=')\n",
        "def f(code):\n    exec(code)\n",
        "import os\nenv = os.environ.copy()\nenv['X'] = '1'\n",
        "import requests\n\ndef get(token):\n"
        "    return requests.get('https://example.invalid', headers={'Authorization': token})\n",
        "import urllib.request\n\ndef fetch(u, p):\n    urllib.request.urlretrieve(u, p)\n",
        "if __name__ == '__main__':\n    import pty\n    pty.spawn(['sh'])\n",
        "x = 'curl -LsSf https://example.invalid/install.sh | sh'\n",
        # aiohttp's tests probe IPv6 with a socket made at import: nothing is contacted
        "import socket\nwith socket.socket(socket.AF_INET6) as s:\n    s.bind(('::1', 0))\n",
    ],
)
def test_benign_patterns_are_not_findings(tmp_path: Path, source: str) -> None:
    report = inspect_file(_tampered_wheel(tmp_path, {"demo/mod.py": source}))
    assert [h for h in report.findings if h.severity >= Severity.MEDIUM] == []


def test_pth_with_plain_paths_or_a_harmless_import_is_not_a_finding(tmp_path: Path) -> None:
    pth = "src\nimport sys; sys.path.insert(0, 'x')\n"
    report = inspect_file(_tampered_wheel(tmp_path, {"demo.pth": pth}))
    assert report.findings == ()
    assert any(h.capability == "pth-import" for h in report.capabilities)


def test_pth_importing_a_module_that_connects_on_import_is_caught(tmp_path: Path) -> None:
    module = "import socket\nsocket.create_connection(('127.0.0.1', 9))\n"
    report = inspect_file(
        _tampered_wheel(tmp_path, {"demo_hook.pth": "import demo_hook\n", "demo_hook.py": module})
    )
    assert any(h.rule == "inspect-pth" and h.member == "demo_hook.pth" for h in report.findings)


def test_miner_strings_inside_a_binary_are_found(tmp_path: Path) -> None:
    blob = b"\x7fELF" + bytes(100) + b"--donate-level=1 stratum+tcp://127.0.0.1:3333" + bytes(50)
    found = _rules(_tampered_wheel(tmp_path, {"demo/bin/helper": blob}))
    assert "inspect-miner" in found and "inspect-native-in-pure" in found


def test_nested_encoding_is_followed(tmp_path: Path) -> None:
    inner = base64.b64encode(samples.encoded_chain().encode()).decode()
    data = json.dumps({"a": inner})
    found = _rules(_tampered_wheel(tmp_path, {"demo/data/blob.json": data}))
    assert "inspect-decode-exec" in found or "inspect-download-exec" in found


def test_finding_names_file_line_and_evidence(tmp_path: Path) -> None:
    report = inspect_file(_tampered_wheel(tmp_path, {"demo/downloads.py": samples.RUNNER}))
    hit = next(h for h in report.findings if h.rule == "inspect-download-exec")
    assert hit.member == "demo/downloads.py"
    assert hit.line == 15  # the urlretrieve line
    assert "/tmp/demo_runner" in hit.evidence  # noqa: S108 - the sample's path and "executable" in hit.evidence
    assert hit.severity is Severity.CRITICAL
    assert report.verdict == "malicious"


@pytest.mark.parametrize(
    ("label", "changes", "rule"),
    samples.TAMPERED_SDISTS,
    ids=[s[0] for s in samples.TAMPERED_SDISTS],
)
def test_tampered_sdist_is_caught(
    tmp_path: Path, label: str, changes: dict[str, str | bytes], rule: str
) -> None:
    found = _rules(write_sdist(tmp_path, {**HONEST, **changes}))
    assert "demo-1.0.0/setup.py" in found.get(rule, []), f"{label}: {found}"
