"""Shared test helpers: paths to committed fixtures and a small project factory."""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
DATA = TESTS / "data"
LOCKFILES = DATA / "lockfiles"
REPO = TESTS.parent
EXAMPLE = REPO / "examples" / "demo-project"

MakeProject = Callable[[dict[str, str]], Path]
# The bundled OSV snapshot is older than the default limits: tests that are not
# about data age accept it with this bastion.toml.
OLD_DATA_OK = "advisory-max-days = 3650\nadvisory-warn-days = 3650\n"


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write ``{relative path: text}`` into a fresh folder and return it."""

    def make(files: dict[str, str]) -> Path:
        for name, text in files.items():
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text), encoding="utf-8")
        return tmp_path

    return make


def run_cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run ``python -m bastion`` in a subprocess and return (exit code, stdout, stderr)."""
    import subprocess

    completed = subprocess.run(
        [sys.executable, "-m", "bastion", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


@pytest.fixture(autouse=True, scope="session")
def _advisory_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the advisory database the tests create out of the user's cache directory."""
    import os

    os.environ["BASTION_CACHE_DIR"] = str(tmp_path_factory.mktemp("bastion-cache"))


class FakeIndex:
    """A package index on loopback: each path answers with a status, a content type and a body."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Accept header)
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index.requests.append((self.path, self.headers.get("Accept", "")))
                status, content_type, body = index.pages.get(self.path, (404, "text/plain", b""))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def simple_json(self, name: str, files: list[dict[str, object]]) -> None:
        """Serve a PEP 691 project page at ``/simple/NAME/``."""
        import json

        body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files})
        self.pages[f"/simple/{name}/"] = (200, "application/vnd.pypi.simple.v1+json", body.encode())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_index() -> object:
    """A ``FakeIndex`` on a free loopback port, shut down after the test."""
    index = FakeIndex()
    yield index
    index.close()


GIT = shutil.which("git") or "git"


def run_git(root: Path, *args: str, date: str = "2026-11-08T12:00:00Z") -> str:
    """Run git in ``root`` with a fixed author, committer and date; return its output."""
    import os
    import subprocess

    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        [GIT, "-C", str(root), *args], check=True, env=env, capture_output=True, text=True
    )
    return done.stdout


# --- PostgreSQL for the inventory tests -------------------------------------------------
# Every inventory test runs against SQLite and against PostgreSQL. PostgreSQL comes from
# BASTION_TEST_POSTGRES_URL, or a throwaway server started here from the installed binaries
# (initdb in a temporary folder, a loopback port). .ci/run installs Debian's postgresql so
# that CI never skips; a run that does skip says so at the end, in capitals.
POSTGRES_SKIPPED: list[str] = []


def _postgres_binaries() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").is_file():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> object:
    """A PostgreSQL URL (of the maintenance database) for the session, or a skip."""
    import os
    import socket
    import subprocess

    given = os.environ.get("BASTION_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    binaries = _postgres_binaries()
    if binaries is None:
        if os.environ.get("BASTION_REQUIRE_POSTGRES"):
            pytest.fail("BASTION_REQUIRE_POSTGRES is set but PostgreSQL is not installed")
        POSTGRES_SKIPPED.append("no PostgreSQL server binaries (initdb) installed")
        pytest.skip("PostgreSQL is not installed and BASTION_TEST_POSTGRES_URL is not set")
    import tempfile

    # Outside pytest's own temporary tree (0700, which the postgres account cannot enter).
    folder = Path(tempfile.mkdtemp(prefix="bastion-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres account
        import pwd

        account = pwd.getpwnam("postgres")
        folder.chmod(0o755)
        for path in (folder, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(folder / "log")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def inventory_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty inventory database: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "inventory.sqlite")
    server = request.getfixturevalue("postgres_server")
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(str(server), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a generated name, no user input
    return str(server).rsplit("/", 1)[0] + f"/{name}"


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Say it loudly when the PostgreSQL half of the inventory tests did not run."""
    if POSTGRES_SKIPPED:
        write = getattr(terminalreporter, "write_line")  # noqa: B009
        write("")
        write("!" * 78)
        write(
            "POSTGRESQL INVENTORY TESTS WERE SKIPPED: " + "; ".join(sorted(set(POSTGRES_SKIPPED)))
        )
        write("Install Debian's postgresql (as .ci/run does) or set BASTION_TEST_POSTGRES_URL.")
        write("!" * 78)
