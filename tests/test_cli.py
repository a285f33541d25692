"""The command line: exit codes 0/1/2/3, one-line errors, no tracebacks, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, OLD_DATA_OK, FakeIndex, MakeProject, run_cli

H = "sha256:" + "a" * 64


def test_clean_project_exits_0(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": f"idna==3.7 --hash={H}\n",
            "app.py": "x = 1\n",
            "bastion.toml": OLD_DATA_OK,
        }
    )
    code, out, err = run_cli("check", str(root))
    assert code == 0, out + err
    assert "No findings." in out


def test_example_project_exits_1_with_findings_and_matrix() -> None:
    code, out, _ = run_cli("check", str(EXAMPLE))
    assert code == 1
    for expected in ("index-confusion", "vcs-unpinned", "S602", "Threat coverage", "unchecked"):
        assert expected in out


def test_fail_on_threshold(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": f"pkg @ git+https://g.example/o/pkg@{'c' * 40}\n"})
    assert run_cli("check", str(root))[0] == 0  # a low finding under the medium default
    assert run_cli("check", str(root), "--fail-on", "low")[0] == 1


def test_incomplete_run_exits_2(make_project: MakeProject) -> None:
    # Ruff cannot read one of the project's Python files, so the insecure-code layer cannot
    # vouch for it: fail closed.
    root = make_project(
        {
            "requirements.txt": f"idna==3.7 --hash={H}\n",
            "app.py": "x = 1\n",
            "bastion.toml": OLD_DATA_OK,
        }
    )
    (root / "latin1.py").write_bytes(b'name = "caf\xe9"\n')
    code, out, _ = run_cli("check", str(root))
    assert code == 2
    assert "incomplete: ruff-security could not run" in " ".join(out.split())


BAD_DEPENDENCY_FILES = [
    ("requirements.txt", "idna==3.7\nrequests=<2\n", "requirements.txt:2: invalid requirement"),
    ("requirements.txt", "-r requirements.txt\n", "include cycle"),
    ("requirements.txt", "-r missing.txt\n", "requirements.txt:1: included file not found"),
    ("uv.lock", "version = 1\n[[package]\n", "uv.lock:2: invalid TOML"),
    ("Pipfile.lock", "{\n\n  oops\n}", "Pipfile.lock:3: invalid JSON"),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_DEPENDENCY_FILES)
def test_a_bad_discovered_input_is_a_finding_and_the_run_is_incomplete(
    make_project: MakeProject, name: str, text: str, expected: str
) -> None:
    # The other inputs and every layer still run; the run fails closed with exit 2.
    root = make_project(
        {
            name: text,
            "services/api/requirements.txt": "requests==2.19.1\n",
            "bastion.toml": OLD_DATA_OK + "fail-on = 'critical'\ndisable = ['ruff-security']\n",
        }
    )
    code, out, err = run_cli("check", str(root), "--format", "json")
    assert code == 2, err
    report = json.loads(out)
    unreadable = [f for f in report["findings"] if f["rule_id"] == "input-unreadable"]
    assert len(unreadable) == 1
    where = f"{unreadable[0]['location']['path']}:{unreadable[0]['location']['line']}"
    assert expected.split(": ", 1)[-1] in unreadable[0]["message"]
    assert where.startswith(name)
    assert [s["path"] for s in report["sources"]] == ["services/api/requirements.txt"]
    advisories = [f for f in report["findings"] if f["control"] == "advisories"]
    assert advisories  # requests 2.19.1 was still audited
    inputs = next(c for c in report["controls"] if c["id"] == "inputs")
    assert inputs["status"] == "error"
    code, text_out, _ = run_cli("check", str(root))
    assert code == 2 and "incomplete: inputs could not run" in " ".join(text_out.split())


@pytest.mark.parametrize(("name", "text", "expected"), BAD_DEPENDENCY_FILES)
def test_a_bad_named_input_is_one_line_and_exit_3(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    (tmp_path / name).write_text(text)
    option = "-r" if name.endswith(".txt") else "--lock"
    code, out, err = run_cli("audit", option, str(tmp_path / name))
    assert (code, out) == (3, "")
    assert expected in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"bastion.toml": "fail-on = 'never'\n"}, "bastion.toml:1: fail-on: unknown severity"),
        ({"bastion.toml": "disable = ['pinnning']\n"}, "unknown control(s) ['pinnning']"),
        ({"bastion.toml": "cooldown-days = 0\n"}, "bastion.toml:1: cooldown-days should be"),
        ({"bastion.toml": "public-index = 'ftp://x'\n"}, "bastion.toml:1: public-index should"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_3(
    make_project: MakeProject, files: dict[str, str], expected: str
) -> None:
    root = make_project(files)
    code, out, err = run_cli("check", str(root))
    assert code == 3
    assert out == ""
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_bad_pyproject_is_an_unreadable_input(make_project: MakeProject) -> None:
    root = make_project({"pyproject.toml": "[[tool.uv.index]]\nname = 'x'\n"})
    code, out, _ = run_cli("check", str(root), "--format", "json")
    assert code == 2
    found = [f for f in json.loads(out)["findings"] if f["rule_id"] == "input-unreadable"]
    assert [(f["location"]["path"], f["location"]["line"]) for f in found] == [
        ("pyproject.toml", 2)
    ]
    assert "[[tool.uv.index]] needs a 'url'" in found[0]["message"]


def test_binary_huge_and_special_files_are_unreadable_inputs(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, out, _ = run_cli("check", str(tmp_path))
    assert (code, "binary content" in out) == (2, True)
    with (tmp_path / "requirements.txt").open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    code, out, _ = run_cli("check", str(tmp_path))
    assert (code, "larger than" in out) == (2, True)
    code, _, err = run_cli("audit", "-r", str(tmp_path / "requirements.txt"))
    assert (code, "larger than" in err) == (3, True)


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "requirements.txt")
    code, out, _ = run_cli("check", str(tmp_path))
    assert code == 2 and "not a regular file" in out
    code, _, err = run_cli("audit", "-r", str(tmp_path / "requirements.txt"))
    assert code == 3 and "not a regular file" in err


def test_usage_errors_exit_3(tmp_path: Path) -> None:
    code, _, err = run_cli("check", "--format", "yaml", str(tmp_path))
    assert code == 3 and "Invalid value for '--format'" in err
    assert run_cli("no-such-command")[0] == 3
    assert run_cli("check", str(tmp_path / "missing"))[0] == 3


def test_output_file_is_written_whole(make_project: MakeProject, tmp_path: Path) -> None:
    root = make_project({"requirements.txt": "idna==3.7\n"})
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out, err = run_cli("check", str(root), "--format", "json", "--output", str(target))
    assert code == 1 and out == ""
    assert "report written" in err
    assert json.loads(target.read_text())["exit_code"] == 1
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temp file left


def test_output_to_an_unwritable_place_exits_3(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "idna==3.7\n"})
    code, _, err = run_cli("check", str(root), "--output", str(root / "no" / "dir" / "r.txt"))
    assert code == 3 and "cannot write" in err


def test_extra_files_and_environment(make_project: MakeProject, tmp_path: Path) -> None:
    root = make_project({"app.py": "x = 1\n"})
    extra = tmp_path / "deps.txt"
    extra.write_text("idna>=3\n")
    code, out, _ = run_cli("check", str(root), "-r", str(extra), "--env", "--format", "json")
    data = json.loads(out)
    formats = sorted(s["format"] for s in data["sources"])
    assert formats == ["environment", "requirements"]
    assert code == 1
    pinning = [f["rule_id"] for f in data["findings"] if f["control"] == "pinning"]
    assert pinning == ["unpinned-requirement"]


def test_version_and_help() -> None:
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("bastion, version ")
    code, out, _ = run_cli("check", "--help")
    assert code == 0 and "--fail-on" in out and "--env" in out


def test_audit_reads_only_the_given_files(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("idna==3.7\n")  # in the cwd: not read
    deps = tmp_path / "deps.txt"
    deps.write_text("requests==2.19.1\nrequeits==1.0.0\n")
    code, out, _ = run_cli("audit", "-r", str(deps), "--format", "json", cwd=tmp_path)
    data = json.loads(out)
    assert code == 1
    assert [s["path"] for s in data["sources"]] == ["deps.txt"]  # relative to the cwd
    assert [c["id"] for c in data["controls"]] == ["advisories"]
    ids = {f["aliases"][0]: f["rule_id"] for f in data["findings"]}
    assert ids["MAL-2024-5875"] == "known-malicious"
    assert ids["PYSEC-2023-74"] == "known-vulnerable"
    assert [row["threat"] for row in data["coverage"]] == ["known-vulnerable", "known-malicious"]
    # The bundled snapshot is older than the default limit: the audit also says it is incomplete.
    assert data["summary"]["incomplete"] is True


def test_audit_of_a_clean_project_with_old_data_fails_closed(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": f"idna==3.7 --hash={H}\n"})
    code, out, _ = run_cli("audit", str(root))
    assert code == 2
    assert "past advisory-max-days (30)" in " ".join(out.split())
    (root / "bastion.toml").write_text(OLD_DATA_OK)
    assert run_cli("audit", str(root))[0] == 0


def test_audit_target_and_bad_options(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": 'pyyaml==5.3.1 ; sys_platform == "win32"\n',
            "bastion.toml": OLD_DATA_OK,
        }
    )
    assert run_cli("audit", str(root))[0] == 1
    assert run_cli("audit", str(root), "--target-platform", "linux")[0] == 0
    assert run_cli("audit", str(root), "--target-platform", "windows")[0] == 1
    code, _, err = run_cli("audit", str(root), "--target-python", "snake")
    assert code == 3 and "should look like 3.12" in err
    code, _, err = run_cli("audit", str(root), "--db", str(root / "none.sqlite3"))
    assert code == 3 and "no advisory database" in err


def test_online_asks_the_index_and_offline_does_not(
    make_project: MakeProject, fake_index: FakeIndex
) -> None:
    fake_index.simple_json(
        "idna",
        [{"filename": "idna-3.7-py3-none-any.whl", "upload-time": "2024-04-11T03:34:00Z"}],
    )
    config = OLD_DATA_OK + f'public-index = "{fake_index.url}/simple"\n'
    root = make_project({"requirements.txt": f"idna==3.7 --hash={H}\n", "bastion.toml": config})
    code, out, _ = run_cli("check", str(root), "--format", "json")
    cooldown = next(c for c in json.loads(out)["controls"] if c["id"] == "cooldown")
    assert cooldown["status"] == "not-configured"
    assert fake_index.requests == []
    code, out, _ = run_cli("check", str(root), "--format", "json", "--online")
    cooldown = next(c for c in json.loads(out)["controls"] if c["id"] == "cooldown")
    assert (code, cooldown["status"]) == (0, "pass")
    # the cooldown and the provenance control each read the project page
    assert {path for path, _ in fake_index.requests} == {"/simple/idna/"}
    fake_index.pages["/simple/idna/"] = (503, "text/plain", b"down")
    code, out, _ = run_cli("check", str(root), "--online")  # answered from the day's cache
    assert code == 0


def test_workflows_command_on_the_ultralytics_fixture(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import DATA

    copy = tmp_path / "u"
    shutil.copytree(DATA / "workflows" / "ultralytics" / "vulnerable", copy)
    repo, actions = copy / "repo", copy / "actions"
    code, out, err = run_cli("workflows", str(repo), "--actions-dir", str(actions))
    assert code == 1, err
    assert "cache-poisoning chain" in out and "No lockfile" not in out
    code, out, _ = run_cli(
        "workflows", str(repo), "--actions-dir", str(actions), "--format", "github"
    )
    assert code == 1
    assert "::error file=ultralytics/actions@main/action.yml,line=28,col=25," in out
    code, out, _ = run_cli("workflows", str(repo), "--format", "json", "--fail-on", "critical")
    assert code == 0  # without the remote action: no chain, nothing critical
    data = json.loads(out)
    assert {c["id"] for c in data["controls"]} == {"workflows"}
    assert any(f["rule_id"] == "unanalysable-action" for f in data["findings"])


def test_workflows_command_bad_config_and_missing_dir(make_project: MakeProject) -> None:
    root = make_project(
        {
            ".github/workflows/a.yml": "on: push\njobs: {}\n",
            "bastion.toml": 'workflow-ignore = ["oops"]\n',
        }
    )
    code, _, err = run_cli("workflows", str(root))
    assert code == 3
    assert "bastion.toml:1: workflow-ignore" in err and len(err.strip().splitlines()) == 1
    (root / "bastion.toml").write_text("")
    code, _, err = run_cli("workflows", str(root), "--actions-dir", str(root / "missing"))
    assert code == 3
    assert "does not exist" in err


def test_workflows_online_fetch_failure_is_incomplete(
    make_project: MakeProject, fake_index: FakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(
        {
            ".github/workflows/a.yml": (
                "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
                "      - uses: someone/tool@main\n"
            ),
        }
    )
    monkeypatch.setenv("BASTION_GITHUB_ARCHIVE_URL", fake_index.url)
    fake_index.pages["/someone/tool/tar.gz/main"] = (500, "text/plain", b"")
    code, out, _ = run_cli("workflows", str(root), "--online", "--fail-on", "critical")
    assert code == 2, out
    assert "could not fetch" in out and "HTTP 500" in out
    assert fake_index.requests and fake_index.requests[0][0] == "/someone/tool/tar.gz/main"
    code, _, _ = run_cli("workflows", str(root), "--fail-on", "critical")
    assert code == 0  # offline: nothing fetched, the action is reported unanalysable (low)
    assert len(fake_index.requests) == 1


def _stderr_on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, bytes]:
    """Run bastion with stderr on a pseudo-terminal (stdout piped); return its stderr bytes."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bastion", *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            env={**os.environ, **env},
            timeout=120,
            check=False,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return completed.returncode, b"".join(chunks)


def test_progress_on_a_terminal_only_for_text(make_project: MakeProject) -> None:
    root = make_project(
        {"requirements.txt": f"idna==3.7 --hash={H}\n", "bastion.toml": OLD_DATA_OK}
    )
    show_now = {"BASTION_PROGRESS_AFTER": "0"}
    _, shown = _stderr_on_a_terminal("check", str(root), env=show_now)
    assert b"bastion: [1/" in shown and b"bastion: [2/" in shown
    assert shown.rstrip().endswith(b"\x1b[K")  # the line is cleared when done
    _, machine = _stderr_on_a_terminal("check", str(root), "--format", "json", env=show_now)
    assert b"bastion: [" not in machine
    _, quick = _stderr_on_a_terminal("check", str(root), env={"BASTION_PROGRESS_AFTER": "600"})
    assert b"bastion: [" not in quick  # a short run shows nothing
    _, _, err = run_cli("check", str(root))  # piped: never
    assert "bastion: [" not in err


def test_an_unlistable_folder_is_an_unreadable_input_and_the_run_incomplete(
    make_project: MakeProject,
) -> None:
    import os
    import shutil
    import subprocess
    import sys

    root = make_project(
        {
            "requirements.txt": f"idna==3.7 --hash={H}\n",
            "app.py": "x = 1\n",
            "services/api/requirements.txt": "requests==2.19.1\n",
            "bastion.toml": OLD_DATA_OK + "disable = ['ruff-security']\n",
        }
    )
    locked = root / "services"
    command = [sys.executable, "-m", "bastion", "check", str(root), "--format", "json"]
    if os.geteuid() == 0:  # root lists mode 000 folders: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) is needed to test as root"
        drop = "-dac_override,-dac_read_search"
        command = [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]
    locked.chmod(0)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    [unreadable] = [f for f in report["findings"] if f["rule_id"] == "input-unreadable"]
    assert unreadable["location"]["path"] == "services"
    assert "folder not readable" in unreadable["message"]
    assert [s["path"] for s in report["sources"]] == ["requirements.txt"]
