"""Hostile archives: one clear error naming the file, never a traceback, nothing followed."""

from __future__ import annotations

import contextlib
import gzip
import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.inspect.archive import ArchiveError, iter_entries, unsafe_name
from bastion._internal.inspect.limits import Limits
from bastion._internal.inspect.scan import inspect_file
from tests.inspect.samples import package_files, write_wheel

MIB = 1024 * 1024


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _error(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(ArchiveError) as caught:
        inspect_file(path, limits)
    message = caught.value.one_line()
    assert str(path) in message and "\n" not in message
    return message


def test_truncated_wheel(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, package_files())
    cut = tmp_path / "cut-1.0-py3-none-any.whl"
    cut.write_bytes(wheel.read_bytes()[: wheel.stat().st_size // 2])
    assert "unreadable archive" in _error(cut) or "not a wheel" in _error(cut)


def test_truncated_sdist(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = b"x = 1\n" * 50_000
        info = tarfile.TarInfo("demo-1.0/demo.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    cut = tmp_path / "demo-1.0.tar.gz"
    cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert "truncated" in _error(cut)


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_text("print('hello')\n")
    assert "neither a zip nor a tar" in _error(path)
    empty = tmp_path / "empty.tar.gz"
    empty.write_bytes(b"")
    assert "neither a zip nor a tar" in _error(empty)


def test_encrypted_member(tmp_path: Path) -> None:
    path = _zip(tmp_path / "enc-1.0-py3-none-any.whl", {"demo/__init__.py": b"secret"})
    data = bytearray(path.read_bytes())
    data[6] |= 0x1  # the local header's flags: encrypted
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1  # and the central directory's
    path.write_bytes(bytes(data))
    assert "encrypted" in _error(path)


def test_overlapping_entries_self_referencing_zip(tmp_path: Path) -> None:
    path = _zip(tmp_path / "quine-1.0-py3-none-any.whl", {"a.py": b"a = 1\n" * 100, "b.py": b"b\n"})
    data = bytearray(path.read_bytes())
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, second + 42, 0)  # b.py's local header offset -> a.py's
    path.write_bytes(bytes(data))
    assert "overlap" in _error(path)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.py", "path traversal"),
        ("demo/../../evil.py", "path traversal"),
        ("/etc/evil.py", "absolute"),
        ("C:/evil.py", "absolute"),
        ("..\\evil.py", "path traversal"),
    ],
)
def test_unsafe_member_names(tmp_path: Path, name: str, reason: str) -> None:
    path = _zip(tmp_path / "bad-1.0-py3-none-any.whl", {name: b"x = 1\n"})
    assert reason in _error(path)


def test_nul_byte_in_a_zip_name_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "nul-1.0-py3-none-any.whl", {"demo/aXb.py": b"x = 1\n"})
    path.write_bytes(path.read_bytes().replace(b"demo/aXb.py", b"demo/a\x00b.py"))
    assert "NUL byte" in _error(path)


def test_tar_member_names_and_links(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.addfile(tarfile.TarInfo("demo-1.0/../../x.py"), io.BytesIO(b""))
    assert "path traversal" in _error(path)
    linked = tmp_path / "demo-2.0.tar.gz"
    with tarfile.open(linked, "w:gz") as archive:
        for name, target in (
            ("demo-2.0/README", "../../../etc/passwd"),
            ("demo-2.0/doc", "README"),
        ):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    report = inspect_file(linked)
    outward = [h for h in report.findings if h.rule == "inspect-archive-link"]
    assert [h.member for h in outward] == ["demo-2.0/README"]  # reported, never followed
    assert any(h.capability == "link" and h.member == "demo-2.0/doc" for h in report.capabilities)


def test_ten_gigabyte_declared_member(tmp_path: Path) -> None:
    header = tarfile.TarInfo("demo-1.0/huge.bin")
    header.size = 10 * 1024**3
    raw = header.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(raw))
    assert "declares 10,737,418,240 bytes" in _error(path)


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bomb-1.0-py3-none-any.whl", {"zeros.bin": bytes(3 * MIB)})
    message = _error(path, Limits(ratio_floor=MIB))
    assert "zip bomb" in message


def test_tar_bomb_ratio(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("demo-1.0/zeros.bin")
        info.size = 3 * MIB
        archive.addfile(info, io.BytesIO(bytes(3 * MIB)))
    assert "tar bomb" in _error(path, Limits(ratio_floor=MIB))


def test_member_count_and_total_limits(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "many-1.0-py3-none-any.whl", {f"m{i}.txt": b"x" * 100 for i in range(20)}
    )
    assert "more than 10 members" in _error(path, Limits(max_members=10))
    assert "total over 1,000 bytes" in _error(path, Limits(max_total_bytes=1000))
    assert "declares 100 bytes" in _error(path, Limits(max_member_bytes=50))


def test_large_member_is_hashed_not_kept(tmp_path: Path) -> None:
    path = _zip(tmp_path / "big-1.0-py3-none-any.whl", {"big.bin": b"ab" * MIB})
    entries = list(iter_entries(path, Limits(max_scan_bytes=MIB)))
    assert entries[0].complete is False and len(entries[0].data) == 64 * 1024
    assert entries[0].sha256 and entries[0].size == 2 * MIB


_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(members=st.dictionaries(_names, st.binary(max_size=300), min_size=1, max_size=6))
def test_any_member_names_and_contents_give_a_report_or_one_error(
    tmp_path: Path, members: dict[str, bytes]
) -> None:
    path = tmp_path / "fuzz-1.0-py3-none-any.whl"
    try:
        _zip(path, members)
    except (ValueError, UnicodeEncodeError, IndexError):
        return  # zipfile itself refuses to write some names
    try:
        report = inspect_file(path)
    except ArchiveError as exc:
        assert str(path) in exc.one_line()
        return
    for hit in report.hits:
        assert hit.member in {m.name for m in report.members} or hit.rule == "inspect-record"
        assert "\n" not in hit.evidence


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=2000))
def test_random_bytes_are_never_a_traceback(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x-1.0.tar.gz"
        path.write_bytes(data)
        with contextlib.suppress(ArchiveError):
            inspect_file(path)


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=30))
def test_unsafe_name_is_total(name: str) -> None:
    reason = unsafe_name(name)
    parts = name.replace("\\", "/").split("/")
    if "\x00" in name or name.startswith(("/", "\\")) or ".." in parts:
        assert reason is not None
    elif not (len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha()):
        assert reason is None


_code_words = st.sampled_from(
    [
        "exec(",
        "eval(",
        "base64.b64decode(",
        "zlib.decompress(",
        "import os\n",
        "os.system(",
        "subprocess.Popen(",
        "urllib.request.urlopen(",
        "'/tmp/x'",
        "[::-1]",
        "x = ",
        ")",
        "\n",
        "def f():\n    ",
        "\u202e",
        "\u0430",
        "stratum+tcp://",
    ]
)


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(st.one_of(_code_words, st.text(max_size=8)), max_size=30))
def test_member_scanning_never_raises(parts: list[str]) -> None:
    from bastion._internal.inspect.archive import Entry
    from bastion._internal.inspect.scan import _scan_member

    data = "".join(parts).encode("utf-8", "surrogatepass")
    for name in ("pkg/mod.py", "pkg/data.json", "demo-1.0/setup.py", "x.pth"):
        result = _scan_member(Entry(name, "file", len(data), data, True), "sdist")
        assert result is not None
        for hit in result.hits:
            assert "\n" not in hit.evidence and hit.member == name
