"""The typosquat and approved-packages controls, and the names commands."""

from __future__ import annotations

import json

from bastion._internal.config import load_config
from bastion._internal.controls.base import Project
from bastion._internal.controls.names import ApprovedPackagesControl, TyposquatControl
from bastion._internal.inputs.discovery import discover
from bastion._internal.model import ControlResult, ControlStatus
from tests.conftest import MakeProject, run_cli


def run(control: TyposquatControl | ApprovedPackagesControl, root: object) -> ControlResult:
    from pathlib import Path

    path = Path(str(root))
    return control.run(Project(path, discover(path), load_config(path)))


def test_typosquat_finds_look_alikes_with_location(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "requests==2.31.0\nreqeusts==1.0\nrequeits==1.0\n"})
    result = run(TyposquatControl(), root)
    assert result.status is ControlStatus.FAIL
    found = {
        f.package: (f.severity.label, f.location.line if f.location else None)
        for f in result.findings
    }
    assert found == {"reqeusts": ("high", 2), "requeits": ("medium", 3)}


def test_typosquat_passes_on_real_names_and_is_not_configured_without_packages(
    make_project: MakeProject,
) -> None:
    root = make_project({"requirements.txt": "requests==2.31.0\nnumpy==2.0\n"})
    assert run(TyposquatControl(), root).status is ControlStatus.PASS
    empty = make_project({"empty/app.py": "x = 1\n"}) / "empty"
    assert run(TyposquatControl(), empty).status is ControlStatus.NOT_CONFIGURED


def test_approved_list_inline_and_from_a_file(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": "requests==2.31.0\nnew-thing==1.0\n",
            "bastion.toml": "approved-packages = ['Requests']\n",
        }
    )
    result = run(ApprovedPackagesControl(), root)
    assert [(f.rule_id, f.package) for f in result.findings] == [
        ("unapproved-package", "new-thing")
    ]
    (root / "bastion.toml").write_text("approved-packages-file = 'approved.txt'\n")
    (root / "approved.txt").write_text("# reviewed\nrequests\nnew_thing  # SEC-12\n")
    assert run(ApprovedPackagesControl(), root).status is ControlStatus.PASS
    (root / "approved.txt").write_text("requests\nnot a name\n")
    code, _, err = run_cli("check", str(root))
    assert code == 3 and "approved.txt:2: not a valid project name" in err


def test_no_list_is_not_configured(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "requests==2.31.0\n"})
    assert run(ApprovedPackagesControl(), root).status is ControlStatus.NOT_CONFIGURED


def test_names_approve_writes_the_baseline(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "requests==2.31.0\nIdna==3.7\n"})
    code, out, _ = run_cli("names", "approve", str(root))
    assert code == 0 and "2 approved (2 added, 0 removed)" in out
    listed = (root / "approved-packages.txt").read_text().splitlines()
    assert [line for line in listed if not line.startswith("#")] == ["idna", "requests"]
    (root / "bastion.toml").write_text("approved-packages-file = 'approved-packages.txt'\n")
    (root / "requirements.txt").write_text("requests==2.31.0\nclick==8.1\n")
    assert run(ApprovedPackagesControl(), root).findings[0].package == "click"


def test_names_check_and_scan(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    code, out, _ = run_cli("names", "check", "reqeusts", "numpy", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["judged"] == 2
    assert data["names"] == [
        {
            "name": "reqeusts",
            "imitates": "requests",
            "imitated_rank": 7,
            "transformation": "transposition",
            "confidence": 0.85,
        }
    ]
    assert run_cli("names", "check", "numpy")[0] == 0
    code, _, err = run_cli("names", "check", "bad\x01name")
    assert code == 3 and "not a valid project name" in err
    listing = folder / "names.txt"
    listing.write_text("# candidates\nrequests\npythondateutil\n\nurlib3\n")
    code, out, _ = run_cli("names", "scan", str(listing))
    assert code == 1 and "2 of 3 names look like popular projects." in out
    listing.write_text("requests\n" + "x" * 10_000 + "\n")
    code, _, err = run_cli("names", "scan", str(listing))
    assert code == 3 and "names.txt:2: name longer than 200 characters" in err


def test_packages_from_git_or_archive_urls_are_not_judged_as_look_alikes(
    make_project: MakeProject,
) -> None:
    # celery/celery requirements/dev.txt (BSD-3-Clause): the repository py-amqp publishes
    # 'amqp'; read by its repository name it looked like 'pyamqp' (confidence 0.95).
    root = make_project(
        {
            "requirements.txt": "git+https://github.com/celery/py-amqp.git\n"
            "https://example.com/o/reqeusts/archive/v1.zip#egg=reqeusts\n"
            "reqeusts==1.0\n",
        }
    )
    result = TyposquatControl().run(Project(root, discover(root), load_config(root)))
    flagged = [f.package for f in result.findings]
    assert flagged == ["reqeusts"] and result.findings[0].location is not None
    assert result.findings[0].location.line == 3  # the index pin, not the URL line
