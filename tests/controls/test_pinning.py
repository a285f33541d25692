"""The pinning layer: each rule fires on a vulnerable input and not on its fixed twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion._internal.config import Config
from bastion._internal.controls.base import Project
from bastion._internal.controls.pinning import PinningControl
from bastion._internal.inputs.discovery import discover
from bastion._internal.model import ControlStatus, Finding
from tests.conftest import LOCKFILES, MakeProject

H = "sha256:" + "a" * 64


def run_pinning(root: Path) -> tuple[ControlStatus, list[Finding]]:
    result = PinningControl().run(Project(root, discover(root), Config()))
    return result.status, list(result.findings)


def rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule_id for f in findings)


CASES = [
    # rule, vulnerable requirements.txt, fixed requirements.txt
    ("unpinned-requirement", "idna>=3\n", "idna==3.7\n"),
    ("missing-hash", "idna==3.7\n", f"idna==3.7 --hash={H}\n"),
    ("weak-hash", f"idna==3.7 --hash=md5:{'a' * 32}\n", f"idna==3.7 --hash={H}\n"),
    ("malformed-hash", "idna==3.7 --hash=sha256:abc\n", f"idna==3.7 --hash={H}\n"),
    (
        "require-hashes-incomplete",
        f"--require-hashes\nidna==3.7 --hash={H}\nclick==8.1\n",
        f"--require-hashes\nidna==3.7 --hash={H}\nclick==8.1 --hash={H}\n",
    ),
    (
        "unhashed-url",
        "pkg @ https://example.com/pkg-1.0.tar.gz\n",
        f"pkg @ https://example.com/pkg-1.0.tar.gz#{H.replace(':', '=')}\n",
    ),
    (
        "vcs-unpinned",
        "pkg @ git+https://github.com/o/pkg@main\n",
        f"idna==3.7 --hash={H}\n",
    ),
    (
        "insecure-index",
        f"--index-url http://mirror.example/simple\nidna==3.7 --hash={H}\n",
        f"--index-url https://mirror.example/simple\nidna==3.7 --hash={H}\n",
    ),
    (
        "remote-include",
        f"-r https://example.com/base.txt\nidna==3.7 --hash={H}\n",
        f"idna==3.7 --hash={H}\n",
    ),
    (
        "index-credentials",
        f"--index-url https://bob:hunter2@mirror.example/simple\nidna==3.7 --hash={H}\n",
        f"--index-url https://bob:${{PASSWORD}}@mirror.example/simple\nidna==3.7 --hash={H}\n",
    ),
]


@pytest.mark.parametrize(("rule", "vulnerable", "fixed"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_on_vulnerable_and_not_on_fixed(
    make_project: MakeProject, tmp_path: Path, rule: str, vulnerable: str, fixed: str
) -> None:
    bad = make_project({"bad/requirements.txt": vulnerable}) / "bad"
    status, findings = run_pinning(bad)
    assert status is ControlStatus.FAIL
    assert rule in rules(findings)
    hit = next(f for f in findings if f.rule_id == rule)
    assert hit.location is not None and hit.location.line is not None
    assert hit.remediation
    good = make_project({"good/requirements.txt": fixed}) / "good"
    assert rule not in rules(run_pinning(good)[1])


def test_credentials_never_appear_in_messages(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "--extra-index-url http://bob:hunter2@x.example/s\n"})
    _, findings = run_pinning(root)
    assert findings
    assert all("hunter2" not in f.message for f in findings)


def test_vcs_with_full_commit_is_only_low(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": f"pkg @ git+https://github.com/o/pkg@{'b' * 40}\n"})
    _, findings = run_pinning(root)
    assert rules(findings) == ["vcs-dependency"]
    assert findings[0].severity.label == "low"


def test_pipfile_source_without_tls_verification(make_project: MakeProject) -> None:
    lock = json.dumps(
        {
            "_meta": {
                "sources": [
                    {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
                    {"name": "corp", "url": "https://corp.example/simple", "verify_ssl": False},
                ]
            },
            "default": {"idna": {"hashes": [H], "version": "==3.7"}},
        },
        indent=2,
    )
    root = make_project({"Pipfile.lock": lock})
    _, findings = run_pinning(root)
    assert rules(findings) == ["insecure-index"]  # the two sources: index-confusion's job


@pytest.mark.parametrize(
    "relative",
    [
        "uv",
        "pylock-uv",
        "pylock-pip",
        "poetry2",
        "poetry1",
        "pdm",
        "pipenv",
        "pip-compile",
        "uv-pip-compile",
    ],
)
def test_real_tool_output_passes(relative: str) -> None:
    status, findings = run_pinning(LOCKFILES / relative)
    assert status is ControlStatus.PASS, findings


def test_lock_drift_missing_and_outdated(make_project: MakeProject) -> None:
    uv_lock = (LOCKFILES / "uv/uv.lock").read_text()
    root = make_project(
        {
            "pyproject.toml": """\
            [project]
            name = "fixture-app"
            dependencies = [
                "requests>=2.32", "jinja2", "httpx>=0.27", "tomli; python_version<'3.11'"
            ]
            """,
            "uv.lock": uv_lock,
        }
    )
    _, findings = run_pinning(root)
    drift = sorted(f.message for f in findings if f.rule_id == "lock-drift")
    assert drift == [
        "httpx is declared (main) but missing from uv.lock",
        "requests>=2.32 is declared but uv.lock locks 2.31.0",
    ]
    assert all(f.location and f.location.path.name == "pyproject.toml" for f in findings)


def test_no_dependency_files_is_not_configured(tmp_path: Path) -> None:
    status, findings = run_pinning(tmp_path)
    assert status is ControlStatus.NOT_CONFIGURED
    assert findings == []


def test_a_file_without_any_hash_is_one_finding_not_one_per_line(
    make_project: MakeProject,
) -> None:
    # aio-libs/aiohttp's requirements/*.txt (pip-compile without --generate-hashes) gave
    # 647 missing-hash findings, one per line of 15 files: now one per file.
    pins = "".join(f"pkg{i}=={i}.0\n" for i in range(40))
    root = make_project({"requirements.txt": pins + "loose>=1\n"})
    status, findings = run_pinning(root)
    assert status is ControlStatus.FAIL
    assert rules(findings) == ["missing-hash", "unpinned-requirement"]
    summary = next(f for f in findings if f.rule_id == "missing-hash")
    assert "none of the 40 pinned packages has a hash" in summary.message
    assert summary.package is None and summary.location is not None
    # one hashed line puts pip in hash-checking mode: each other line fails the install
    root = make_project({"requirements.txt": f"a==1 --hash={H}\nb==1\nc==1\n"})
    _, findings = run_pinning(root)
    assert [f.package for f in findings] == ["b", "c"]
    assert rules(findings) == ["require-hashes-incomplete"] * 2


# Excerpt of urllib3/urllib3's pyproject.toml and uv.lock (MIT, commit 6a8536b6): the
# dev-min-pyopenssl group pins the oldest supported idna, the others a current one, and uv
# locks both versions (conflicting groups). Drift was reported for the group whose
# version sits second in the lock.
URLLIB3_PYPROJECT = """\
[project]
name = "urllib3"
version = "2.6.0"

[dependency-groups]
dev = ["idna>=3.10"]
dev-min-pyopenssl = [
    # cryptography, but 2.8 is the minimum needed for tests because of anyio.
    "idna==2.8",
]

[tool.uv]
conflicts = [[{group = "dev"}, {group = "dev-min-pyopenssl"}]]
"""
URLLIB3_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "idna"
version = "2.8"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "idna"
version = "3.13"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "urllib3"
source = { editable = "." }
"""


def test_no_drift_when_any_locked_version_satisfies(make_project: MakeProject) -> None:
    root = make_project({"pyproject.toml": URLLIB3_PYPROJECT, "uv.lock": URLLIB3_LOCK})
    _, findings = run_pinning(root)
    assert [f for f in findings if f.rule_id == "lock-drift"] == []
    root = make_project(
        {
            "pyproject.toml": URLLIB3_PYPROJECT.replace("idna==2.8", "idna==2.9"),
            "uv.lock": URLLIB3_LOCK,
        }
    )
    _, findings = run_pinning(root)
    [drift] = [f for f in findings if f.rule_id == "lock-drift"]
    assert "idna==2.9 is declared but uv.lock locks 2.8, 3.13" in drift.message
