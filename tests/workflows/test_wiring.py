"""fail-open-check, unhashed-install, and which controls CI enforces."""

from __future__ import annotations

from pathlib import Path

from tests.workflows.helpers import audit, of_rule, where

CHECKS = """\
on: [push, pull_request]
permissions: {}
jobs:
  security:
    runs-on: ubuntu-latest
    steps:
      - run: bastion check .
      - run: pip-audit -r requirements.txt || true
      - run: zizmor --no-exit-codes .
      - run: ruff check --exit-zero .
      - run: osv-scanner --lockfile uv.lock
        continue-on-error: true
      - run: |
          set +e
          uv audit
"""


def test_fail_open_checks_are_reported(tmp_path: Path) -> None:
    result = audit(tmp_path, {"s.yml": CHECKS})
    found = of_rule(result, "fail-open-check")
    assert [where(f)[1] for f in found] == [8, 9, 10, 11, 15]
    messages = " ".join(f.message for f in found)
    for reason in ("'|| true'", "--no-exit-codes", "--exit-zero", "continue-on-error", "set +e"):
        assert reason in messages
    assert dict(result.enforcement) == {
        "*": True,
        "advisories": False,
        "workflows": False,
        "ruff-security": False,
    }


def test_fail_closed_checks_enforce_their_controls(tmp_path: Path) -> None:
    fixed = """\
    on: pull_request
    permissions: {}
    jobs:
      security:
        runs-on: ubuntu-latest
        steps:
          - run: pip-audit -r requirements.txt
          - run: zizmor .
          - run: ruff check .
          - run: uv sync --locked
    """
    result = audit(tmp_path, {"s.yml": fixed})
    assert of_rule(result, "fail-open-check") == []
    assert dict(result.enforcement) == {
        "advisories": True,
        "workflows": True,
        "ruff-security": True,
        "pinning": True,
    }


def test_no_checks_no_enforcement(tmp_path: Path) -> None:
    workflow = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps: [{run: make}]\n"
    assert dict(audit(tmp_path, {"a.yml": workflow}).enforcement) == {}


def test_unhashed_installs(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - run: pip install requests
          - run: python -m pip install -r requirements/plain.txt
          - run: uv sync
          - run: pip install -r requirements/hashed.txt
          - run: pip install --require-hashes -r requirements/plain.txt
          - run: pip install --no-deps --no-build-isolation .
          - run: uv sync --frozen
          - run: uv pip install ruff
    """
    other = {
        "requirements/plain.txt": "requests==2.32.3\n",
        "requirements/hashed.txt": "requests==2.32.3 --hash=sha256:" + "a" * 64 + "\n",
    }
    found = of_rule(audit(tmp_path, {"a.yml": workflow}, other=other), "unhashed-install")
    assert [where(f)[1] for f in found] == [7, 8, 9, 14]


def test_requirement_file_outside_the_repository_is_not_trusted(tmp_path: Path) -> None:
    (tmp_path / "hashed.txt").write_text("x==1 --hash=sha256:" + "a" * 64 + "\n")
    workflow = (
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - run: pip install -r ../hashed.txt\n"
    )
    found = of_rule(audit(tmp_path, {"a.yml": workflow}), "unhashed-install")
    assert len(found) == 1
