"""Every distinct (name, version, source) is a component; the count printed is the file's.

Issue 13 item 8: two services in one repository locking requests 2.19.1 and
2.31.0 gave an SBOM with one of them, and the printed count differed.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bastion._internal.cli import cli
from bastion._internal.inputs.discovery import read_dependency_file
from bastion._internal.sbom.generate import build_bom, component_count, root_project

SERVICE_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "{service}"
version = "1.0.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "requests" }}]

[[package]]
name = "requests"
version = "{requests}"
source = {{ registry = "{index}" }}
dependencies = [{{ name = "urllib3" }}]
sdist = {{ url = "https://files.example/requests-{requests}.tar.gz", hash = "sha256:{digest}" }}

[[package]]
name = "urllib3"
version = "{urllib3}"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://files.example/urllib3-{urllib3}.tar.gz", hash = "sha256:{digest}" }}
"""
PYPI = "https://pypi.org/simple"


def service(root: Path, name: str, requests: str, urllib3: str, index: str = PYPI) -> Path:
    folder = root / "services" / name
    folder.mkdir(parents=True)
    lock = folder / "uv.lock"
    digest = (name.encode().hex() * 64)[:64]
    lock.write_text(
        SERVICE_LOCK.format(
            service=name, requests=requests, urllib3=urllib3, index=index, digest=digest
        )
    )
    return lock


def components(text: str) -> dict[str, dict[str, object]]:
    return {c["bom-ref"]: c for c in json.loads(text)["components"]}


def test_two_services_two_versions(tmp_path: Path) -> None:
    locks = [
        service(tmp_path, "billing", "2.19.1", "1.23"),
        service(tmp_path, "search", "2.31.0", "2.0.7"),
    ]
    sources = [read_dependency_file(lock) for lock in locks]
    text = build_bom(sources, root_project(tmp_path))
    found = components(text)
    assert sorted(found) == [
        "pkg:pypi/requests@2.19.1",
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/urllib3@1.23",
        "pkg:pypi/urllib3@2.0.7",
    ]
    assert component_count(sources) == 4
    edges = {d["ref"]: d.get("dependsOn", []) for d in json.loads(text)["dependencies"]}
    # Each requests depends on the urllib3 of its own lock, not on every urllib3.
    assert edges["pkg:pypi/requests@2.19.1"] == ["pkg:pypi/urllib3@1.23"]
    assert edges["pkg:pypi/requests@2.31.0"] == ["pkg:pypi/urllib3@2.0.7"]
    root = next(ref for ref in edges if ref.startswith("root:"))
    assert edges[root] == ["pkg:pypi/requests@2.19.1", "pkg:pypi/requests@2.31.0"]


def test_the_same_pin_twice_is_one_component_and_another_index_is_another(
    tmp_path: Path,
) -> None:
    locks = [
        service(tmp_path, "billing", "2.31.0", "2.0.7"),
        service(tmp_path, "search", "2.31.0", "2.0.7"),
        service(tmp_path, "internal", "2.31.0", "2.0.7", index="https://pypi.corp.example/simple"),
    ]
    sources = [read_dependency_file(lock) for lock in locks]
    found = components(build_bom(sources, root_project(tmp_path)))
    assert sorted(found) == [
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/requests@2.31.0?repository_url=https://pypi.corp.example/simple",
        "pkg:pypi/urllib3@2.0.7",
    ]
    assert component_count(sources) == 3


def test_the_printed_count_is_the_files(tmp_path: Path) -> None:
    locks = [
        service(tmp_path, "billing", "2.19.1", "1.23"),
        service(tmp_path, "search", "2.31.0", "1.23"),
    ]
    output = tmp_path / "bom.json"
    args = ["sbom", str(tmp_path), "-o", str(output)]
    for lock in locks:
        args += ["--lock", str(lock)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    written = len(json.loads(output.read_text())["components"])
    assert written == 3  # requests twice, urllib3 1.23 once
    assert f"SBOM of {written} component(s) written" in result.stderr


def test_help_shows_the_plain_forms_options() -> None:
    result = CliRunner().invoke(cli, ["sbom", "--help"], prog_name="bastion")
    assert result.exit_code == 0
    assert "Usage: bastion sbom [OPTIONS] [PATH]" in result.output
    for option in ("--with-vulnerabilities", "--spec-version", "--lock", "-o, --output"):
        assert option in result.output
    assert "check" in result.output and "generate" in result.output


def test_two_services_found_by_discovery(tmp_path: Path) -> None:
    for name, requests, urllib3 in (("billing", "2.19.1", "1.23"), ("search", "2.31.0", "2.0.7")):
        lock = service(tmp_path, name, requests, urllib3)
        (lock.parent / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "1.0.0"\ndependencies = ["requests"]\n'
        )
    output = tmp_path / "bom.json"
    result = CliRunner().invoke(cli, ["sbom", str(tmp_path), "-o", str(output)])
    assert result.exit_code == 0, result.output
    refs = sorted(c["bom-ref"] for c in json.loads(output.read_text())["components"])
    assert [r for r in refs if "requests" in r] == [
        "pkg:pypi/requests@2.19.1",
        "pkg:pypi/requests@2.31.0",
    ]
    assert "SBOM of 4 component(s) written" in result.stderr


def test_an_installed_pin_and_a_locked_pin_are_one_component_with_the_metadata(
    tmp_path: Path,
) -> None:
    import importlib.metadata
    import sys

    from bastion._internal.inputs.environment import parse_environment

    version = importlib.metadata.version("click")
    (tmp_path / "requirements.txt").write_text(f"click=={version} --hash=sha256:{'a' * 64}\n")
    lock = read_dependency_file(tmp_path / "requirements.txt")
    environment = parse_environment(Path(sys.prefix))
    seen = []
    for sources in ([lock, environment], [environment, lock]):
        data = json.loads(build_bom(sources, root_project(tmp_path)))
        (click,) = [c for c in data["components"] if c["name"] == "click"]
        seen.append((click["supplier"]["name"], bool(click.get("licenses"))))
    assert seen[0] == seen[1] and seen[0][1]  # the installed metadata, whatever the order
