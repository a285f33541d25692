"""The requirements-file reader: the whole pip format, includes, and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import InputError
from bastion._internal.inputs.requirements import parse_requirements
from bastion._internal.model import SourceKind
from tests.conftest import LOCKFILES, MakeProject

SHA_A = "a" * 64
SHA_B = "b" * 64


def test_hashes_continuations_comments_markers_and_extras(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": f"""\
            # a comment line
            requests[socks,security]==2.31.0 ; python_version >= "3.8" \\
                --hash=sha256:{SHA_A} \\
                --hash=sha256:{SHA_B}  # trailing comment
            click>=8   # not pinned
            """
        }
    )
    source = parse_requirements(root / "requirements.txt")
    requests, click = source.packages
    assert requests.name == "requests"
    assert requests.version == "2.31.0"
    assert requests.hashes["sha256"] == (SHA_A, SHA_B)
    assert requests.extras == ("security", "socks")
    assert requests.markers == 'python_version >= "3.8"'
    assert requests.location.line == 2
    assert click.version is None and click.specifier == ">=8"
    assert click.location.line == 5
    assert source.require_hashes  # one hashed line turns on pip's hash-checking mode


def test_includes_are_relative_to_the_including_file(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": "-r reqs/base.txt\n-c reqs/constraints.txt\nflask\n",
            "reqs/base.txt": "--requirement=common.txt\nidna==3.7\n",
            "reqs/common.txt": "certifi==2024.2.2\n",
            "reqs/constraints.txt": f"flask==3.0.0 --hash=sha256:{SHA_A}\n",
        }
    )
    source = parse_requirements(root / "requirements.txt")
    by_name = {p.name: p for p in source.packages}
    assert set(by_name) == {"certifi", "idna", "flask"}
    assert by_name["certifi"].location.path == (root / "reqs/common.txt").resolve()
    # The constraint pins and hashes the unpinned requirement, as pip applies it.
    assert by_name["flask"].version == "3.0.0"
    assert by_name["flask"].hashes["sha256"] == (SHA_A,)
    assert source.includes == tuple(
        (root / "reqs" / n).resolve() for n in ("base.txt", "common.txt", "constraints.txt")
    )


def test_include_cycle_is_an_error_naming_file_and_line(make_project: MakeProject) -> None:
    root = make_project({"a.txt": "idna==3.7\n-r b.txt\n", "b.txt": "\n\n-r a.txt\n"})
    with pytest.raises(InputError) as caught:
        parse_requirements(root / "a.txt")
    assert caught.value.path.name == "b.txt"
    assert caught.value.line == 3
    assert "cycle: a.txt -> b.txt -> a.txt" in str(caught.value)


def test_missing_include_names_the_including_line(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "idna==3.7\n-r nowhere.txt\n"})
    with pytest.raises(InputError) as caught:
        parse_requirements(root / "requirements.txt")
    assert caught.value.line == 2
    assert "included file not found: 'nowhere.txt'" in str(caught.value)


def test_environment_variables_expand_like_pip_and_are_never_kept(
    make_project: MakeProject,
) -> None:
    # Issue 14.8: an expanded CI secret ended up in findings and SBOMs. The URL
    # keeps the ${VAR} as written (so the credential rule sees no literal token).
    root = make_project(
        {
            "requirements.txt": "--extra-index-url https://${USER_X}:${TOKEN}@example.com/simple\n"
            "--index-url ${UNDEFINED}/simple\n"
        }
    )
    env = {"USER_X": "me", "TOKEN": "s3cr3t-token"}
    source = parse_requirements(root / "requirements.txt", env=env)
    assert [i.value for i in source.indexes] == [
        "https://${USER_X}:${TOKEN}@example.com/simple",
        "${UNDEFINED}/simple",
    ]


def test_urls_vcs_editables_and_paths(make_project: MakeProject) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = make_project(
        {
            "requirements.txt": f"""\
            pkg-a @ https://example.com/pkg_a-1.0-py3-none-any.whl#sha256={SHA_A}
            git+https://github.com/o/r@{commit}#egg=pkg-b
            pkg-c @ git+https://github.com/o/c@main
            -e ./libs/pkg-d
            ./dist/pkg_e-2.0.tar.gz
            https://example.com/files/pkg_f-3.1.zip
            """
        }
    )
    a, b, c, d, e, f = parse_requirements(root / "requirements.txt").packages
    assert (a.name, a.source_kind, a.version, a.hashes["sha256"]) == (
        "pkg-a",
        SourceKind.URL,
        "1.0",
        (SHA_A,),
    )
    assert (b.name, b.source_kind, b.vcs_commit) == ("pkg-b", SourceKind.VCS, commit)
    assert (c.name, c.source_kind, c.vcs_commit) == ("pkg-c", SourceKind.VCS, None)
    assert (d.name, d.source_kind) == ("pkg-d", SourceKind.EDITABLE)
    assert (e.name, e.source_kind, e.version) == ("pkg-e", SourceKind.PATH, "2.0")
    assert (f.name, f.source_kind, f.has_hash) == ("pkg-f", SourceKind.URL, False)


def test_index_options_are_recorded_with_their_lines(make_project: MakeProject) -> None:
    root = make_project(
        {
            "requirements.txt": "-i https://a.example/simple\n--extra-index-url=https://b/simple\n"
            "-f ./wheels\n--trusted-host b\n--no-index\n--require-hashes\n--pre\n"
        }
    )
    source = parse_requirements(root / "requirements.txt")
    assert [(i.kind, i.location.line) for i in source.indexes] == [
        ("index-url", 1),
        ("extra-index-url", 2),
        ("find-links", 3),
        ("trusted-host", 4),
        ("no-index", 5),
    ]
    assert source.require_hashes


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("idna==3.7\nrequests=<2\n", 2, "invalid requirement"),
        ("--frobnicate x\n", 1, "unknown option '--frobnicate'"),
        ("idna==3.7 --hash=sha256\n", 1, "--hash must be ALGORITHM:DIGEST"),
        ("idna==3.7 --hash=crc32:00\n", 1, "unknown hash algorithm 'crc32'"),
        ("idna==3.7 -r other.txt\n", 1, "cannot follow a requirement"),
        ("\n--index-url\n", 2, "needs a value"),
        ("git+https://example.com/@main\n", 1, "cannot tell the project name"),
    ],
)
def test_malformed_lines_name_file_and_line(
    make_project: MakeProject, text: str, line: int, message: str
) -> None:
    root = make_project({"requirements.txt": text})
    with pytest.raises(InputError) as caught:
        parse_requirements(root / "requirements.txt")
    assert caught.value.line == line
    assert message in str(caught.value)


def test_binary_huge_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"idna==3.7\n\x00\x01\x02")
    with pytest.raises(InputError, match="binary content") as caught:
        parse_requirements(binary)
    assert caught.value.line == 2
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"idna==3.7\ncaf\xe9==1\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        parse_requirements(latin)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB without using the disk
    with pytest.raises(InputError, match="larger than"):
        parse_requirements(huge)


def test_real_pip_compile_and_uv_output_is_fully_pinned_and_hashed() -> None:
    for tool in ("pip-compile", "uv-pip-compile"):
        path = LOCKFILES / tool / "requirements.txt"
        source = parse_requirements(path)
        names = {p.name for p in source.packages}
        assert {"requests", "jinja2", "click", "urllib3", "markupsafe"} <= names, tool
        assert all(p.version and p.has_hash for p in source.packages), tool
        assert source.generated_from == ((LOCKFILES / tool / "pyproject.toml").resolve(),)
        requests = next(p for p in source.packages if p.name == "requests")
        assert requests.version == "2.31.0"


_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}([-_.][A-Za-z0-9]{1,5})?", fullmatch=True)
_VERSIONS = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}", fullmatch=True)
_DIGESTS = st.lists(st.from_regex(r"[0-9a-f]{64}", fullmatch=True), min_size=0, max_size=3)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VERSIONS, _DIGESTS), min_size=1, max_size=8))
def test_generated_lines_round_trip(entries: list[tuple[str, str, list[str]]]) -> None:
    import tempfile

    lines = []
    for name, version, digests in entries:
        hashes = "".join(f" \\\n    --hash=sha256:{d}" for d in digests)
        lines.append(f"{name}=={version}{hashes}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text("\n".join(lines) + "\n")
        packages = parse_requirements(path).packages
    assert [(p.version, p.hashes.get("sha256", ())) for p in packages] == [
        (version, tuple(digests)) for _, version, digests in entries
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=400))
def test_arbitrary_text_parses_or_fails_with_an_input_error(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text(text, encoding="utf-8")
        try:
            source = parse_requirements(path, env={})
        except InputError as exc:
            assert exc.path.name in ("requirements.txt",) or exc.path.parent == Path(folder)
            assert "\n" not in exc.one_line()
        else:
            assert all(p.location.path.name == "requirements.txt" for p in source.packages)


def test_vcs_and_archive_urls_without_a_name_take_the_repository_name(tmp_path: Path) -> None:
    # celery/celery requirements/dev.txt (BSD-3-Clause, commit 5dc781f0): pip accepts these
    # lines (it builds the project to learn its name); they made the whole file unreadable.
    path = tmp_path / "requirements.txt"
    path.write_text(
        "git+https://github.com/celery/py-amqp.git\n"
        "git+https://github.com/celery/kombu.git\n"
        "git+https://github.com/celery/billiard.git@v4.2.1\n"
        "vine>=5.0.0\n"
        "https://github.com/o/some-repo/archive/refs/heads/main.zip\n"
    )
    packages = {p.name: p for p in parse_requirements(path).packages}
    assert set(packages) == {"py-amqp", "kombu", "billiard", "vine", "some-repo"}
    assert packages["billiard"].source == "git+https://github.com/celery/billiard.git@v4.2.1"
    assert packages["kombu"].version is None
    bare = tmp_path / "bare.txt"
    bare.write_text("https://example.com/download\n")
    with pytest.raises(InputError, match="cannot tell the project name"):
        parse_requirements(bare)
