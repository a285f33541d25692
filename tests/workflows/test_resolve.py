"""uses: parsing, the actions directory, and --online archive downloads (loopback only)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from bastion._internal.workflows import resolve
from bastion._internal.workflows.audit import audit_repository
from bastion._internal.workflows.model import parse_uses
from bastion._internal.workflows.resolve import Resolver
from tests.conftest import FakeIndex
from tests.workflows.helpers import of_rule, where, write

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
INJECTED_ACTION = (
    "runs:\n  using: composite\n  steps:\n"
    "    - run: git pull origin ${{ github.head_ref }}\n      shell: bash\n"
)
CALLER = (
    "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
    "      - uses: evil/fmt@main\n"
)


@pytest.mark.parametrize(
    ("value", "kind", "slug", "subpath", "ref", "pinned"),
    [
        ("actions/checkout@v4", "remote", "actions/checkout", "", "v4", False),
        (f"actions/cache/restore@{SHA}", "remote", "actions/cache", "restore", SHA, True),
        (
            "o/r/.github/workflows/ci.yml@main",
            "remote",
            "o/r",
            ".github/workflows/ci.yml",
            "main",
            False,
        ),
        ("./.github/actions/setup", "local", "/", ".github/actions/setup", "", True),
        ("docker://alpine:3", "docker", "/", "", "", False),
    ],
)
def test_parse_uses(value: str, kind: str, slug: str, subpath: str, ref: str, pinned: bool) -> None:
    uses = parse_uses(value)
    assert uses is not None
    assert (uses.kind, uses.slug, uses.subpath, uses.ref, uses.pinned) == (
        kind,
        slug,
        subpath,
        ref,
        pinned,
    )


@pytest.mark.parametrize("value", ["nothing", "o/r", "o/../r@v1", "o/r@", "o/r@a b", "o@v1"])
def test_invalid_uses(value: str) -> None:
    assert parse_uses(value) is None


def test_local_action_cannot_climb_out_of_the_repository(tmp_path: Path) -> None:
    write(tmp_path, {"outside/action.yml": INJECTED_ACTION, "repo/x": ""})
    resolver = Resolver(tmp_path / "repo")
    uses = parse_uses("./../outside")
    assert uses is not None and resolver.action(uses) is None


def _archive(
    files: dict[str, str], *, prefix: str = "fmt-main/", extra: list[tarfile.TarInfo] | None = None
) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in extra or []:
            archive.addfile(info)
    return gzip.compress(raw.getvalue())


def _online(tmp_path: Path, fake: FakeIndex, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv(resolve.CODELOAD_ENV, fake.url)
    root = tmp_path / "repo"
    write(root, {".github/workflows/a.yml": CALLER})
    return root, tmp_path / "cache"


def test_online_fetch_audits_the_remote_action_and_caches_it(
    tmp_path: Path, fake_index: FakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tarfile.TarInfo("fmt-main/.github/workflows/link.yml")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    fake_index.pages["/evil/fmt/tar.gz/main"] = (
        200,
        "application/x-gzip",
        _archive(
            {"action.yml": INJECTED_ACTION, "src/big.js": "x" * 1000, "../escape/action.yml": "x"},
            extra=[link],
        ),
    )
    root, cache = _online(tmp_path, fake_index, monkeypatch)
    result = audit_repository(root, cache_dir=cache, online=True)
    found = of_rule(result, "template-injection")
    assert [where(f) for f in found] == [("action.yml", 4)]
    assert found[0].location is not None
    assert found[0].location.path.as_posix() == "evil/fmt@main/action.yml"
    kept = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())
    assert kept == ["actions/evil/fmt/main/.bastion-fetched", "actions/evil/fmt/main/action.yml"]
    assert not (tmp_path / "escape").exists()
    # a second run within the day is answered from the cache, even with GitHub down
    fake_index.pages.clear()
    again = audit_repository(root, cache_dir=cache, online=True)
    assert len(of_rule(again, "template-injection")) == 1
    assert len(fake_index.requests) == 1
    # and offline, the cache is still an actions directory
    offline = audit_repository(root, cache_dir=cache, online=False)
    assert len(of_rule(offline, "template-injection")) == 1


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ((404, "text/plain", b""), "not found on GitHub"),
        ((500, "text/plain", b""), "HTTP 500"),
        ((200, "application/x-gzip", b"not gzip"), "not a .tar.gz"),
        ((200, "application/x-gzip", gzip.compress(b"not a tar" * 100)), "not a .tar.gz"),
    ],
)
def test_fetch_failures_are_download_errors(
    tmp_path: Path,
    fake_index: FakeIndex,
    monkeypatch: pytest.MonkeyPatch,
    answer: tuple[int, str, bytes],
    problem: str,
) -> None:
    fake_index.pages["/evil/fmt/tar.gz/main"] = answer
    root, cache = _online(tmp_path, fake_index, monkeypatch)
    result = audit_repository(root, cache_dir=cache, online=True)
    assert any(problem in e for e in result.download_errors), result.download_errors
    assert of_rule(result, "unanalysable-action")
    assert not (cache / "actions" / "evil" / "fmt" / "main").exists()


def test_archive_bombs_are_refused(
    tmp_path: Path, fake_index: FakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolve, "MAX_UNPACKED_BYTES", 10_000)
    fake_index.pages["/evil/fmt/tar.gz/main"] = (
        200,
        "application/x-gzip",
        _archive({"action.yml": INJECTED_ACTION, "zeros": "\0" * 1_000_000}),
    )
    root, cache = _online(tmp_path, fake_index, monkeypatch)
    result = audit_repository(root, cache_dir=cache, online=True)
    assert any("unpacks to more than" in e for e in result.download_errors)


def test_only_https_or_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resolve.CODELOAD_ENV, "http://example.com")
    root = tmp_path / "repo"
    write(root, {".github/workflows/a.yml": CALLER})
    result = audit_repository(root, cache_dir=tmp_path / "cache", online=True)
    assert any("https (or http to loopback) only" in e for e in result.download_errors)
