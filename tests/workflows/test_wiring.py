"""fail-open-check, unhashed-install, and which controls CI enforces."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.workflows import wiring
from tests.workflows.helpers import audit, of_rule, where, write

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


def test_requirement_files_are_checked_inside_a_repository_reached_through_a_symlink(
    tmp_path: Path,
) -> None:
    from bastion._internal.workflows.audit import audit_repository

    real = tmp_path / "real"
    write(
        real,
        {
            ".github/workflows/a.yml": "on: push\npermissions: {}\njobs:\n  a:\n"
            "    runs-on: x\n    steps:\n      - run: pip install -r hashed.txt\n"
            "      - run: pip install -r ../outside.txt\n",
            "hashed.txt": "x==1 --hash=sha256:" + "a" * 64 + "\n",
        },
    )
    (tmp_path / "outside.txt").write_text("x==1 --hash=sha256:" + "a" * 64 + "\n")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    found = of_rule(audit_repository(tmp_path / "link"), "unhashed-install")
    assert [where(f)[1] for f in found] == [8]  # the file inside passes, the one outside not


def test_line_commands_match_like_the_regexes_they_replace_and_stay_linear() -> None:
    import re
    import time

    from bastion._internal.workflows.wiring import TOOLS

    tools = {t.name: t.command for t in TOOLS}
    watch, hashed = tools["bastion watch"], tools["hash-checked install"]
    assert watch is not None and hashed is not None
    old_watch = re.compile(r"\b(bastion|python3?\s+-m\s+bastion)\s+watch\b[^\n]*?\s--\s+\S")
    old_hashed = re.compile(
        r"\b(pip3?|python3?\s+-m\s+pip)\s+install\b[^\n]*--require-hashes|"
        r"\buv\s+sync\b[^\n]*--(locked|frozen)\b|\buv\s+pip\s+(install|sync)\b[^\n]*--require-hashes"
    )
    samples = [
        "bastion watch -- pip install .",
        "bastion watch --record b.json -- pytest",
        "echo x && python -m bastion watch --kill-on critical -- make",
        "pip install -r req.txt\npip install --require-hashes -r lock.txt",
        "uv sync --locked",
        "uv sync\nuv sync --frozen",
        "uv pip install --require-hashes -r r.txt",
        "python3 -m pip install x && echo --require-hashes",
        "pip install x",
    ]
    for text in samples:
        new, old = watch.search(text), old_watch.search(text)
        assert (new.start() if new else None) == (old.start() if old else None), text
        new, old = hashed.search(text), old_hashed.search(text)
        assert (new.start() if new else None) == (old.start() if old else None), text
    # the old pattern's \s took a newline: two shell commands are not one watched command
    assert old_watch.search("bastion watch\n-- pytest") and not watch.search("bastion watch\n-- x")
    hostile = "bastion watch " * 20_000 + "\n" + "pip install x " * 20_000
    started = time.perf_counter()
    assert watch.search(hostile) is None and hashed.search(hostile) is None
    assert time.perf_counter() - started < 2.0  # the regexes took seconds at this size


_WORDS = [
    "bastion", "python", "python3", "-m", "check", "audit", "workflows", "sbom", "watch", "--",
    "pip-audit", "uv", "pip", "pip3", "install", "sync", "osv-scanner", "safety", "scan",
    "zizmor", "ruff", "bandit", "x", "--require-hashes", "--locked", "|", "\n", "  ",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=12), st.sampled_from([" ", "", "\t"]))
def test_the_one_search_finds_every_script_a_tool_matches(words: list[str], glue: str) -> None:
    # invocations() skips a script _ANY_TOOL does not match: it must match all a tool does
    script = glue.join(words)
    for tool in wiring.TOOLS:
        if tool.command is not None and tool.command.search(script) is not None:
            assert wiring._ANY_TOOL.search(script) is not None, (tool.name, script)


_SCRIPTS = [
    "bastion check",
    "python -m bastion audit -r r.txt",
    "bastion workflows .",
    "pip-audit -r requirements.txt",
    "uv pip audit",
    "osv-scanner -r .",
    "safety scan",
    "zizmor --offline .",
    "ruff check .",
    "bandit -r src",
    "python3 -m bastion sbom -o x",
    "bastion watch -- make test",
    "pip install --require-hashes -r r.txt",
    "uv sync --locked",
    "uv pip sync --require-hashes r.txt",
]


def test_every_tool_command_passes_the_one_search() -> None:
    for tool in wiring.TOOLS:
        if tool.command is None:
            continue
        matched = [s for s in _SCRIPTS if tool.command.search("echo x\n  " + s) is not None]
        assert matched, tool.name  # each tool has a sample here
        for script in matched:
            assert wiring._ANY_TOOL.search("echo x\n  " + script) is not None, tool.name
