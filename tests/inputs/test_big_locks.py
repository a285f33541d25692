"""Big lockfiles (issue 13.4): real monorepo locks pass 16 MiB; the lock bound is configurable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bastion._internal.errors import InputError
from bastion._internal.inputs.discovery import read_dependency_file
from bastion._internal.inputs.requirements import parse_requirements
from bastion._internal.safe_read import LOCK_LIMIT_VARIABLE, MAX_FILE_BYTES

PACKAGES = 15_000


def big_uv_lock(packages: int, pad_to: int = 0) -> str:
    """A uv.lock of ``packages`` registry packages with an sdist, a wheel and dependencies.

    ``pad_to`` adds a comment block up to that many bytes: tomllib reads 22 MB of
    real entries in ~20 s on a loaded CI machine, a comment in milliseconds, and
    the size bound counts bytes either way (benchmarks/bench_big_lock.py reads
    the full-size realistic lock).
    """
    parts = ['version = 1\nrevision = 2\nrequires-python = ">=3.11"\n']
    for i in range(packages):
        name = f"pkg-{i:05d}"
        digest = hashlib.sha256(name.encode()).hexdigest()
        url = f"https://files.pythonhosted.org/packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}"
        file = name.replace("-", "_")
        parts.append(
            f'\n[[package]]\nname = "{name}"\nversion = "1.{i % 7}.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            f'dependencies = [{{ name = "pkg-{(i + 1) % packages:05d}" }}]\n'
            f'sdist = {{ url = "{url}/{file}-1.{i % 7}.0.tar.gz", hash = "sha256:{digest}" }}\n'
            f'wheels = [{{ url = "{url}/{file}-1.{i % 7}.0-py3-none-any.whl", '
            f'hash = "sha256:{digest}" }}]\n'
        )
    text = "".join(parts)
    if pad_to > len(text):
        line = "# " + "x" * 97 + "\n"
        text = line * ((pad_to - len(text)) // len(line) + 1) + text
    return text


@pytest.fixture(scope="module")
def big_lock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big-lock")
    path = folder / "uv.lock"
    path.write_text(big_uv_lock(PACKAGES, pad_to=22 * 1000 * 1000))
    return path


def test_a_15000_package_22_mb_uv_lock_is_read(
    big_lock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCK_LIMIT_VARIABLE, raising=False)
    assert big_lock.stat().st_size > MAX_FILE_BYTES  # refused by the old 16 MiB bound
    source = read_dependency_file(big_lock)
    assert len(source.packages) == PACKAGES
    last = source.packages[-1]
    assert (last.name, last.version, last.has_hash) == ("pkg-14999", "1.5.0", True)


def test_the_lock_bound_is_configurable_and_named_in_the_error(
    big_lock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_LIMIT_VARIABLE, "20")
    with pytest.raises(InputError) as caught:
        read_dependency_file(big_lock)
    assert caught.value.message == (
        "file is larger than the 20 MiB limit; set BASTION_MAX_LOCK_MIB to raise it"
    )


def test_other_inputs_keep_the_16_mib_bound(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# " + "x" * (MAX_FILE_BYTES + 10) + "\nidna==3.7\n")
    with pytest.raises(InputError, match=r"larger than the 16 MiB limit$"):
        parse_requirements(requirements, root=tmp_path)
