"""The pre-commit hooks and the GitHub Action that ship at the repository's root."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLE, OLD_DATA_OK, REPO, MakeProject, run_cli

BASTION = Path(sys.executable).parent / "bastion"
H = "sha256:" + "a" * 64
CLEAN = {
    "requirements.txt": f"idna==3.7 --hash={H}\n",
    "bastion.toml": OLD_DATA_OK,
    "app.py": "print('hello')\n",
}


def _hooks() -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    return {hook["id"]: hook for hook in hooks}


def _run_hook(hook: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess[str]:
    """As pre-commit runs a 'language: python' hook: the entry, in the repository's root."""
    command = shlex.split(hook["entry"]) + list(hook.get("args", []))
    assert command[0] == "bastion"
    return subprocess.run(
        [str(BASTION), *command[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_hooks_are_offline_and_read_the_whole_repository() -> None:
    hooks = _hooks()
    assert set(hooks) == {"bastion-check", "bastion-workflows"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        assert "--online" not in hook["entry"]
    check = re.compile(hooks["bastion-check"]["files"])
    for name in (
        "requirements.txt",
        "requirements/dev.in",
        "uv.lock",
        "services/api/poetry.lock",
        "pylock.toml",
        "pyproject.toml",
        "src/app/main.py",
        ".github/workflows/ci.yml",
    ):
        assert check.search(name), name
    for name in ("README.md", "docs/index.rst", "setup.cfg.bak"):
        assert not check.search(name), name
    workflows = re.compile(hooks["bastion-workflows"]["files"])
    assert workflows.search(".github/workflows/release.yaml")
    assert workflows.search("action.yml") and not workflows.search("src/app.py")


@pytest.mark.parametrize("hook_id", ["bastion-check", "bastion-workflows"])
def test_hook_entries_fail_on_the_example_and_pass_a_clean_project(
    hook_id: str, tmp_path_factory: pytest.TempPathFactory, make_project: MakeProject
) -> None:
    hook = _hooks()[hook_id]
    example = tmp_path_factory.mktemp("hook") / "example"
    shutil.copytree(EXAMPLE, example)
    failing = _run_hook(hook, example)
    assert failing.returncode == 1, failing.stderr
    assert "Threat coverage" in failing.stdout
    clean = make_project(CLEAN)
    passing = _run_hook(hook, clean)
    assert passing.returncode == 0, passing.stdout + passing.stderr


def _action() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "action.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_action_is_composite_hash_checked_and_fail_closed_by_default() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["fail"]["default"] == "true"
    steps = action["runs"]["steps"]
    install = steps[0]["run"]
    assert "--require-hashes -r" in install and "--no-deps" in install
    for step in steps:
        uses = step.get("uses")
        if uses:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), uses
        # inputs reach shell code only through env:, never through ${{ }} in run:
        assert "${{" not in step.get("run", "")


def test_bastion_audits_its_own_action_clean(make_project: MakeProject) -> None:
    root = make_project(
        {
            ".github/workflows/bastion.yml": """\
            on: pull_request
            permissions: {}
            jobs:
              check:
                runs-on: ubuntu-latest
                permissions:
                  contents: read
                  security-events: write
                steps:
                  - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
                    with:
                      persist-credentials: false
                  - uses: ./
            """,
        }
    )
    shutil.copy(REPO / "action.yml", root / "action.yml")
    code, out, err = run_cli("workflows", str(root), "--fail-on", "info", "--format", "json")
    assert code == 0, out + err
    import json

    report = json.loads(out)
    assert report["findings"] == []
    row = next(r for r in report["coverage"] if r["threat"] == "ci-compromise")
    assert row["verdict"] == "covered"  # the action's bastion check is recognised fail-closed


def _run_step(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", "-e", "-c", script],  # GitHub runs composite bash steps with -e
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_action_steps_report_sarif_and_fail_by_exit_code(
    tmp_path: Path, make_project: MakeProject
) -> None:
    steps = _action()["runs"]["steps"]
    check_step, fail_step = steps[1], steps[3]
    runner_temp = tmp_path / "runner"
    (runner_temp / "bastion-venv" / "bin").mkdir(parents=True)
    (runner_temp / "bastion-venv" / "bin" / "bastion").symlink_to(BASTION)
    for files, expected in ((CLEAN, "0"), ({**CLEAN, "requirements.txt": "idna>=3\n"}, "1")):
        project = make_project(files)
        output = tmp_path / f"github_output_{expected}"
        output.write_text("")
        env = {
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(output),
            "INPUT_PATH": str(project),
            "INPUT_FAIL_ON": "low",
            "INPUT_ARGS": "--exclude 'vendor/**'",
        }
        done = _run_step(check_step["run"], env, project)
        assert done.returncode == 0, done.stderr  # the step records; the last step decides
        recorded = dict(line.split("=", 1) for line in output.read_text().splitlines())
        assert recorded["exit-code"] == expected
        sarif = Path(recorded["sarif-file"])
        assert '"version": "2.1.0"' in sarif.read_text()
        verdict = _run_step(fail_step["run"], {"STATUS": expected, "FAIL": "true"}, project)
        assert verdict.returncode == int(expected)
        if expected != "0":
            assert "::error title=bastion::bastion check exited 1" in verdict.stdout
            report_only = _run_step(
                fail_step["run"], {"STATUS": expected, "FAIL": "false"}, project
            )
            assert report_only.returncode == 0
