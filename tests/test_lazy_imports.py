"""Each command imports only what it runs (issue 19).

Every command runs in a fresh interpreter; the modules it left in
``sys.modules`` are compared with a list per command of modules it must not
need. A new top-level import that drags a layer (or yaml, rich, email, tarfile,
an optional extra) into a command that does not run it fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import OLD_DATA_OK

_PROBE = """
import sys
from bastion._internal.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
modules = sorted(sys.modules)  # before the probe's own json import
import json
sys.stderr.write("\\n@@MODULES@@" + json.dumps({"code": code, "modules": modules}))
"""

# Optional extras and other layers' libraries: no command below runs them.
EXTRAS = (
    "cyclonedx",
    "sqlalchemy",
    "psycopg",
    "starlette",
    "uvicorn",
    "httpx",
    "anyio",
    "sigstore",
    "pypi_attestations",
    "psutil",
    "bastion._internal.inventory",
    "bastion._internal.proxy.server",
    "bastion._internal.advisories.server",
)
OTHER_LAYERS = (
    "bastion._internal.workflows.audit",
    "bastion._internal.names",
    "bastion._internal.sbom",
    "bastion._internal.git",
    "bastion._internal.cooldown",
    "bastion._internal.ruff",
    "bastion._internal.inspect",
    "bastion._internal.watch",
    "bastion._internal.provenance",
    "bastion._internal.proxy",
    "yaml",
    "email.parser",
    "tarfile",
)
# name -> (argv, modules (or packages) the command must not import)
NOT_NEEDED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "--help": (
        ("--help",),
        (
            "click",
            "bastion._internal.cli.group",
            "bastion._internal.model",
            "bastion._internal.controls",
            "bastion._internal.report",
            "bastion._internal.markers",
            "packaging",
            "rich",
            "sqlite3",
            "json",
            "tempfile",
            "zipfile",
            *OTHER_LAYERS,
            *EXTRAS,
        ),
    ),
    "audit": (
        ("audit", "."),
        (
            "bastion._internal.controls.pinning",
            "bastion._internal.controls.cooldown",
            "bastion._internal.controls.index_confusion",
            "bastion._internal.controls.names",
            "bastion._internal.controls.ruff_security",
            "bastion._internal.controls.workflows",
            "bastion._internal.controls.sbom",
            "bastion._internal.controls.watch",
            "bastion._internal.controls.proxy",
            "bastion._internal.controls.inspect",
            "bastion._internal.controls.provenance",
            "bastion._internal.workflows",
            "bastion._internal.safe_yaml",
            "bastion._internal.safe_write",
            *OTHER_LAYERS,
            *EXTRAS,
        ),
    ),
    "check": (("check", "."), EXTRAS),
    "workflows": (
        ("workflows", ".", "--format", "json"),
        (
            "bastion._internal.controls.advisories",
            "bastion._internal.controls.pinning",
            "bastion._internal.controls.names",
            "bastion._internal.controls.sbom",
            "bastion._internal.advisories",
            "bastion._internal.names",
            "bastion._internal.sbom",
            "bastion._internal.inspect",
            "bastion._internal.provenance",
            "bastion._internal.workflows.fix",  # only with --fix
            "bastion._internal.index_client",  # only --online fetches actions
            "bastion._internal.safe_write",
            "bastion._internal.report.text",
            "bastion._internal.report.sarif",
            "sqlite3",
            "rich",
            "email.parser",
            "tarfile",
            "tempfile",
            "shutil",
            "zipfile",
            *EXTRAS,
        ),
    ),
    "sbom check": (
        ("sbom", "check", "bom.json"),
        (
            "bastion._internal.controls",
            "bastion._internal.engine",
            "bastion._internal.workflows",
            "bastion._internal.advisories",
            "bastion._internal.names",
            "yaml",
            "sqlite3",
            "email.parser",
            "tarfile",
            *EXTRAS,
        ),
    ),
    "db status": (
        ("db", "status"),
        (
            "bastion._internal.controls",
            "bastion._internal.engine",
            "bastion._internal.model",
            "bastion._internal.report",
            "bastion._internal.markers",
            "bastion._internal.advisories.matcher",
            "rich",
            *OTHER_LAYERS,
            *EXTRAS,
        ),
    ),
}


def imported(argv: tuple[str, ...], cwd: Path) -> tuple[object, set[str]]:
    """Run ``bastion ARGV`` in a fresh interpreter; its exit code and every module it imported."""
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"},
        check=False,
    )
    _, marker, payload = completed.stderr.rpartition("@@MODULES@@")
    assert marker, completed.stderr
    data = json.loads(payload)
    return data["code"], set(data["modules"])


def offending(modules: set[str], not_needed: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that are, or lie inside, one of ``not_needed``."""
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in not_needed))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lazy")
    (root / "requirements.txt").write_text("idna==3.7\n")
    (root / "bastion.toml").write_text(OLD_DATA_OK)
    (root / "bom.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}\n')
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo hi\n"
    )
    return root


@pytest.mark.parametrize("command", sorted(NOT_NEEDED))
def test_command_imports_only_what_it_runs(command: str, project: Path) -> None:
    argv, not_needed = NOT_NEEDED[command]
    code, modules = imported(argv, project)
    assert code in (0, 1), f"bastion {' '.join(argv)} exited {code}"
    assert offending(modules, not_needed) == []


def test_the_probe_sees_what_a_command_imports(project: Path) -> None:
    # The check above could pass vacuously if the probe saw nothing: a run that reads the
    # workflows imports the workflow audit, and check imports every control.
    _, modules = imported(("workflows", ".", "--format", "json"), project)
    assert "bastion._internal.workflows.audit" in modules and "yaml" in modules
    _, modules = imported(("check", "."), project)
    assert offending(modules, ("bastion._internal.controls.sbom",)) != []


def test_offending_matches_packages_not_prefixes() -> None:
    modules = {"yaml", "yamlish", "bastion._internal.names.typosquat", "bastion._internal.namesx"}
    assert offending(modules, ("yaml", "bastion._internal.names")) == [
        "bastion._internal.names.typosquat",
        "yaml",
    ]


# An audit of a uv.lock alone reads no other format: their parsers (and packaging's requirement,
# specifier and tag modules they or the waivers need), the archive reader of 'db update' and
# the bundled-snapshot lookup stay unimported.
UV_LOCK_AUDIT_NOT_NEEDED = (
    "bastion._internal.inputs.requirements",
    "bastion._internal.inputs.pyproject",
    "bastion._internal.inputs.pdm_lock",
    "bastion._internal.inputs.poetry_lock",
    "bastion._internal.inputs.pipfile_lock",
    "bastion._internal.inputs.pylock",
    "packaging.requirements",
    "packaging.specifiers",
    "packaging.utils",
    "packaging.tags",
    "packaging.markers",
    "zipfile",
    "importlib.resources",
    "shlex",
    *OTHER_LAYERS,
    *EXTRAS,
)


def test_audit_of_a_uv_lock_imports_only_its_reader(tmp_path: Path) -> None:
    lock = Path(__file__).parent / "data" / "lockfiles" / "uv" / "uv.lock"
    (tmp_path / "uv.lock").write_bytes(lock.read_bytes())
    (tmp_path / "bastion.toml").write_text(OLD_DATA_OK)
    argv = ("audit", "--lock", "uv.lock", "--format", "json")
    imported(argv, tmp_path)  # may create the database from the bundled snapshot
    code, modules = imported(argv, tmp_path)  # every later run: the database is there
    assert code in (0, 1)
    assert "bastion._internal.inputs.uv_lock" in modules  # the probe saw the reader run
    assert offending(modules, UV_LOCK_AUDIT_NOT_NEEDED) == []
