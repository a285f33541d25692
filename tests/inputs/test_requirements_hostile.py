"""Requirements files written by an attacker (issue 14) and by real projects (issue 13.3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bastion._internal.config import Config
from bastion._internal.controls.base import Project
from bastion._internal.controls.pinning import PinningControl
from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import discover
from bastion._internal.inputs.requirements import parse_requirements, project_root
from bastion._internal.model import SourceKind

SHA = "a" * 64
SECRET = "s3cr3t-ci-token-0123456789"  # noqa: S105 - the value a test must never see printed


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


# --- 14.3: a diamond of includes -------------------------------------------------


def test_a_diamond_of_27_includes_is_read_once_per_file(tmp_path: Path) -> None:
    # Each file includes the next twice: 2**27 visits before, 27 reads now.
    files = {f"r{i}.txt": f"-r r{i + 1}.txt\n-r r{i + 1}.txt\npkg{i}==1.0\n" for i in range(27)}
    files["r27.txt"] = "leaf==2.0\n"
    _write(tmp_path, files)
    started = time.monotonic()
    source = parse_requirements(tmp_path / "r0.txt", root=tmp_path)
    assert time.monotonic() - started < 5  # minutes before the fix
    assert sorted(p.name for p in source.packages) == sorted(
        [f"pkg{i}" for i in range(27)] + ["leaf"]
    )
    assert len(source.includes) == 27


def test_a_file_included_as_requirement_and_as_constraint_counts_both_ways(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "requirements.txt": "-c pins.txt\n-r pins.txt\nflask\n",
            "pins.txt": f"flask==3.0.0 --hash=sha256:{SHA}\n",
        },
    )
    source = parse_requirements(tmp_path / "requirements.txt", root=tmp_path)
    flask = [p for p in source.packages if p.name == "flask"]
    assert [p.version for p in flask] == ["3.0.0", "3.0.0"]  # pinned by -c and listed by -r


def test_the_distinct_file_limit_still_holds(tmp_path: Path) -> None:
    files = {f"r{i}.txt": f"-r r{i + 1}.txt\n" for i in range(40)}
    _write(tmp_path, files | {"r40.txt": "x==1\n"})
    with pytest.raises(InputError, match="nested deeper than 32 files"):
        parse_requirements(tmp_path / "r0.txt", root=tmp_path)


# --- 14.8: disclosure ------------------------------------------------------------


@pytest.fixture
def outside_secret(tmp_path: Path) -> tuple[Path, Path]:
    """A project folder (a git work tree) and a secret file beside it."""
    secret = tmp_path / "shadow"
    secret.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    return project, secret


@pytest.mark.parametrize("how", ["absolute", "dotdot", "file-url", "symlink"])
def test_an_include_outside_the_project_is_refused_unread(
    outside_secret: tuple[Path, Path], how: str
) -> None:
    project, secret = outside_secret
    value = {
        "absolute": str(secret),
        "dotdot": "../" * 12 + str(secret).lstrip("/"),
        "file-url": f"file://{secret}",
        "symlink": "link.txt",
    }[how]
    (project / "link.txt").symlink_to(secret)
    _write(project, {"requirements.txt": f"idna==3.7\n-r {value}\n"})
    with pytest.raises(InputError) as caught:
        parse_requirements(project / "requirements.txt")  # root: the git work tree
    assert caught.value.line == 2
    assert "outside the project folder" in caught.value.message
    assert SECRET not in str(caught.value)


def test_an_unreadable_or_missing_outside_file_gives_the_same_answer(
    outside_secret: tuple[Path, Path],
) -> None:
    # No oracle: whether /etc/... exists is not revealed either.
    project, secret = outside_secret
    _write(project, {"a.txt": f"-r {secret}\n", "b.txt": f"-r {secret}.missing\n"})
    messages = []
    for name in ("a.txt", "b.txt"):
        with pytest.raises(InputError) as caught:
            parse_requirements(project / name)
        messages.append(caught.value.message.split(" is outside")[1])
    assert messages[0] == messages[1]


def test_includes_may_leave_the_file_folder_but_not_the_project(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    _write(
        project,
        {
            "services/api/requirements.txt": "-r ../../common/base.txt\nflask==3.0\n",
            "common/base.txt": "idna==3.7\n",
        },
    )
    top = project / "services/api/requirements.txt"
    assert project_root(top.resolve()) == project.resolve()
    source = parse_requirements(top)
    assert sorted(p.name for p in source.packages) == ["flask", "idna"]
    # Named folder narrower than the repository: the same include is refused.
    with pytest.raises(InputError, match="outside the project folder"):
        parse_requirements(top, root=project / "services")


def test_errors_quote_a_short_sanitised_excerpt(tmp_path: Path) -> None:
    line = "root:" + SECRET + "x" * 5000 + "\x1b]8;;http://evil\x07"
    _write(tmp_path, {"requirements.txt": line + "\n"})
    with pytest.raises(InputError) as caught:
        parse_requirements(tmp_path / "requirements.txt", root=tmp_path)
    message = caught.value.one_line()
    assert len(message) < len(str(tmp_path)) + 200
    assert "\x1b" not in message and "\x07" not in message
    assert "x" * 100 not in message


def test_pip_compile_header_naming_a_file_outside_is_ignored(
    outside_secret: tuple[Path, Path],
) -> None:
    project, secret = outside_secret
    (project / "pyproject.toml").write_text("[project]\nname='p'\n")
    header = f"#    pip-compile {secret.parent}/x/pyproject.toml pyproject.toml\n"
    _write(project, {"requirements.txt": header + "idna==3.7\n"})
    (secret.parent / "x").mkdir()
    (secret.parent / "x" / "pyproject.toml").write_text("")
    source = parse_requirements(project / "requirements.txt")
    assert source.generated_from == ((project / "pyproject.toml").resolve(),)


# --- 14.8: ${VAR} values are never kept or printed ---------------------------------


def test_expanded_values_are_hidden_in_errors(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "idna==3.7\npkg==${TOKEN} extra words\n"})
    with pytest.raises(InputError) as caught:
        parse_requirements(tmp_path / "requirements.txt", env={"TOKEN": SECRET}, root=tmp_path)
    assert caught.value.line == 2
    assert SECRET not in str(caught.value)
    assert SECRET[:8] not in str(caught.value)  # not even a truncated prefix
    assert "${TOKEN}" in str(caught.value)


def test_expanded_values_are_hidden_in_missing_include_errors(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "-r ${TOKEN}.txt\n"})
    with pytest.raises(InputError) as caught:
        parse_requirements(tmp_path / "requirements.txt", env={"TOKEN": SECRET}, root=tmp_path)
    assert SECRET not in str(caught.value)
    assert "${TOKEN}.txt" in str(caught.value)


def test_expanded_values_are_hidden_in_package_sources(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "requirements.txt": (
                "pkg-a @ https://ci:${TOKEN}@files.example/pkg_a-1.0.tar.gz#sha256=" + SHA + "\n"
                "https://files.example/${TOKEN}/pkg_b-2.0-py3-none-any.whl\n"
                "# ${TOKEN} in a comment is never expanded\n"
                "--index-url https://${version}.example/simple  # lower case: no pip variable\n"
            )
        },
    )
    env = {"TOKEN": SECRET, "version": "9"}
    source = parse_requirements(tmp_path / "requirements.txt", env=env, root=tmp_path)
    a, b = source.packages
    assert a.source == "https://ci:${TOKEN}@files.example/pkg_a-1.0.tar.gz#sha256=" + SHA
    assert (b.name, b.version) == ("pkg-b", "2.0")
    assert b.source == "https://files.example/${TOKEN}/pkg_b-2.0-py3-none-any.whl"
    assert [i.value for i in source.indexes] == ["https://${version}.example/simple"]
    assert SECRET not in repr(source)


def test_an_sbom_never_carries_an_expanded_secret(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "requirements.txt": "pkg-a @ https://ci:${TOKEN}@files.example/pkg_a-1.0.tar.gz"
            f"#sha256={SHA}\nidna==3.7 --hash=sha256:{SHA}\n"
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "sbom", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TOKEN": SECRET},
    )
    assert done.returncode == 0, done.stderr
    assert "pkg-a" in done.stdout
    assert SECRET not in done.stdout + done.stderr


# --- 13.3: lines as real projects wrote them ---------------------------------------


def test_option_then_url_lines_are_read_as_pip_reads_them(tmp_path: Path) -> None:
    # pip's option parser drops a positional word after the options: it installs
    # nothing from it (checked with pip 23.2 --dry-run). bastion used to stop here.
    _write(
        tmp_path,
        {
            "requirements.txt": (
                "--only-binary=all https://download.example/whl/torch_stable.html\n"
                "--only-binary :all: https://files.example/x-1.0-py3-none-any.whl\n"
                "--find-links https://download.example/whl/torch_stable.html\n"
                "idna==3.7\n"
            )
        },
    )
    source = parse_requirements(tmp_path / "requirements.txt", root=tmp_path)
    assert [p.name for p in source.packages] == ["idna"]
    assert [(i.kind, i.location.line) for i in source.indexes] == [("find-links", 3)]


@pytest.mark.parametrize(
    ("line", "name", "version"),
    [
        ("https://codeload.example/o/r/zip/abc#egg=my_pkg-1.0", "my-pkg", "1.0"),
        ("https://codeload.example/o/r/zip/abc#egg=name==1.0", "name", "1.0"),
        ("https://files.example/x.zip#name==1.0", "name", "1.0"),
        ("https://files.example/x.zip#egg=django-rest-framework", "django-rest-framework", None),
        ("https://files.example/x.zip#egg=pkg-3.1.4&subdirectory=src", "pkg", "3.1.4"),
        ("https://files.example/x.zip#egg=pkg[extra]-1.0", "pkg", None),
        ("https://files.example/pkg_b-2.0.tar.gz#egg=pkg_b", "pkg-b", "2.0"),
        ("git+https://github.com/o/r@v1.2#egg=tool-1.2", "tool", "1.2"),
        ("https://files.example/x.zip#egg=py-2to3", "py-2to3", None),
    ],
)
def test_egg_fragments_follow_pips_legacy_rules(
    tmp_path: Path, line: str, name: str, version: str | None
) -> None:
    _write(tmp_path, {"requirements.txt": line + "\n"})
    (package,) = parse_requirements(tmp_path / "requirements.txt", root=tmp_path).packages
    assert (package.name, package.version) == (name, version)


def test_plain_http_direct_urls_are_insecure(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "requirements.txt": (
                f"http://files.example/pkg_a-1.0.tar.gz#sha256={SHA}\n"
                f"pkg-b @ https://files.example/pkg_b-1.0.tar.gz#sha256={SHA}\n"
                "git+http://git.example/o/r@" + "0" * 40 + "#egg=pkg-c\n"
                f"http://127.0.0.1:8000/pkg_d-1.0.tar.gz#sha256={SHA}\n"
            )
        },
    )
    result = PinningControl().run(Project(tmp_path, discover(tmp_path), Config()))
    insecure = sorted(
        (f.location.line if f.location else 0, f.message)
        for f in result.findings
        if f.rule_id == "insecure-index"
    )
    assert [line for line, _ in insecure] == [1, 3]  # not the https one, not loopback
    assert "pkg-a comes from http://files.example/pkg_a-1.0.tar.gz" in insecure[0][1]


def test_an_editable_path_with_extras_keeps_them(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "-e ./libs/pkg-d[dev,test]\n"})
    (package,) = parse_requirements(tmp_path / "requirements.txt", root=tmp_path).packages
    assert (package.name, package.extras, package.source_kind) == (
        "pkg-d",
        ("dev", "test"),
        SourceKind.EDITABLE,
    )
