"""A report with every kind of content, built by running the engine on a real project."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bastion._internal.engine import run_check
from bastion._internal.model import Report
from tests.conftest import OLD_DATA_OK, MakeProject

HOSTILE = "[bold red]x[/] | <script> `tick` \x1b[31m"
HOSTILE_STEP = "[bold red]x[/] | <script> `tick`"  # YAML refuses the escape character


@pytest.fixture
def report(make_project: MakeProject) -> Report:
    root = make_project(
        {
            "requirements.txt": f"""\
            --extra-index-url http://corp.example/simple
            idna>=3.7
            flask>=2
            weird-name==1.0  # {HOSTILE}
            """,
            "app.py": "import subprocess\nsubprocess.call('x', shell=True)\n",
            ".github/workflows/ci.yml": f"""\
            on: issues
            permissions: {{}}
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - name: "{HOSTILE_STEP}%0A::error::forged"
                    run: echo "${{{{ github.event.issue.title }}}}"
            """,
            "bastion.toml": OLD_DATA_OK
            + """\
            [[waiver]]
            id = "missing-hash"
            package = "weird-name"
            reason = "fixed upstream | soon"
            expires = 2099-01-01
            """,
        }
    )
    return run_check(root, now=datetime(2026, 11, 21, tzinfo=UTC))
