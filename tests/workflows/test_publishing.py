"""use-trusted-publishing, cache-poisoning, and the injection-to-publish chain."""

from __future__ import annotations

import shutil
from pathlib import Path

from bastion._internal.model import Severity
from bastion._internal.workflows.audit import audit_repository
from tests.conftest import DATA
from tests.workflows.helpers import audit, of_rule, where

ULTRALYTICS = DATA / "workflows" / "ultralytics"
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"

TOKEN_PUBLISH = f"""\
on:
  release:
    types: [published]
permissions: {{}}
jobs:
  pypi:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@{SHA}
        with:
          persist-credentials: false
      - run: python -m build
      - uses: pypa/gh-action-pypi-publish@{SHA}
        with:
          password: ${{{{ secrets.PYPI_API_TOKEN }}}}
"""


def test_token_beside_id_token_is_high(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"r.yml": TOKEN_PUBLISH}), "use-trusted-publishing")
    assert [(where(f), f.severity) for f in found] == [(("r.yml", 17), Severity.HIGH)]
    assert "id-token: write" in found[0].message


def test_token_without_id_token_is_medium(tmp_path: Path) -> None:
    no_oidc = TOKEN_PUBLISH.replace("    permissions:\n      id-token: write\n", "")
    found = of_rule(audit(tmp_path, {"r.yml": no_oidc}), "use-trusted-publishing")
    assert [f.severity for f in found] == [Severity.MEDIUM]


def test_trusted_publishing_fixed(tmp_path: Path) -> None:
    fixed = TOKEN_PUBLISH.replace(
        "        with:\n          password: ${{ secrets.PYPI_API_TOKEN }}\n", ""
    )
    assert fixed != TOKEN_PUBLISH
    assert of_rule(audit(tmp_path, {"r.yml": fixed}), "use-trusted-publishing") == []


def test_every_upload_tool_and_a_repository_script(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    env:
      UNRELATED: x
    jobs:
      a:
        runs-on: ubuntu-latest
        env:
          POETRY_PYPI_TOKEN_PYPI: ${{ secrets.PYPI }}
        steps:
          - run: uv publish --token "$TOKEN"
          - run: twine upload -u __token__ dist/*
          - run: flit publish
            env:
              FLIT_PASSWORD: ${{ secrets.PYPI }}
          - run: UV_PUBLISH_TOKEN=x uv publish
            env:
              UV_PUBLISH_TOKEN: ${{ secrets.PYPI }}
          - run: ./scripts/release.sh
          - run: ./scripts/lint.sh
    """
    scripts = {
        "scripts/release.sh": '#!/bin/sh\ntwine upload --password "$PYPI_TOKEN" dist/*\n',
        "scripts/lint.sh": "#!/bin/sh\nruff check .\n",
    }
    found = of_rule(audit(tmp_path, {"p.yml": workflow}, other=scripts), "use-trusted-publishing")
    assert [where(f)[1] for f in found] == [9, 11, 12, 15, 18, 19]
    assert "scripts/release.sh" in found[-1].message
    # the script was read, never run
    assert (tmp_path / "repo" / "scripts" / "release.sh").stat().st_mode & 0o111 == 0


RELEASE_WITH_CACHE = f"""\
on:
  push:
    tags: ["v*"]
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@{SHA}
        with:
          persist-credentials: false
      - uses: actions/setup-python@{SHA}
        with:
          python-version: "3.12"
          cache: pip
      - uses: astral-sh/setup-uv@{SHA}
      - uses: actions/cache/restore@{SHA}
        with:
          path: ~/.cache
          key: build
      - run: uv build
      - uses: pypa/gh-action-pypi-publish@{SHA}
"""


def test_cache_in_a_release_job(tmp_path: Path) -> None:
    found = of_rule(audit(tmp_path, {"r.yml": RELEASE_WITH_CACHE}), "cache-poisoning")
    assert [(where(f)[1], f.severity) for f in found] == [
        (14, Severity.HIGH),
        (18, Severity.HIGH),
        (19, Severity.HIGH),
    ]
    assert "chain" not in found[0].message


def test_cache_poisoning_fixed(tmp_path: Path) -> None:
    fixed = (
        RELEASE_WITH_CACHE.replace("          cache: pip\n", "")
        .replace(
            f"      - uses: astral-sh/setup-uv@{SHA}\n",
            f"      - uses: astral-sh/setup-uv@{SHA}\n"
            "        with:\n          enable-cache: false\n",
        )
        .replace(
            f"      - uses: actions/cache/restore@{SHA}\n"
            "        with:\n          path: ~/.cache\n          key: build\n",
            "",
        )
    )
    assert of_rule(audit(tmp_path, {"r.yml": fixed}), "cache-poisoning") == []
    # a cache in a job that neither builds a release nor publishes is not reported
    tests_only = RELEASE_WITH_CACHE.replace('tags: ["v*"]', "branches: [main]").replace(
        f"      - run: uv build\n      - uses: pypa/gh-action-pypi-publish@{SHA}\n",
        "      - run: pytest\n",
    )
    assert of_rule(audit(tmp_path / "b", {"r.yml": tests_only}), "cache-poisoning") == []


def _ultralytics(tmp_path: Path, variant: str) -> tuple[Path, Path]:
    copy = tmp_path / variant
    shutil.copytree(ULTRALYTICS / variant, copy)
    return copy / "repo", copy / "actions"


def test_the_ultralytics_chain_is_one_finding_with_every_link(tmp_path: Path) -> None:
    repo, actions = _ultralytics(tmp_path, "vulnerable")
    result = audit_repository(repo, actions_dirs=(actions,))
    chains = of_rule(result, "cache-poisoning")
    assert len(chains) == 1, [f.message for f in chains]
    chain = chains[0]
    assert chain.severity is Severity.CRITICAL
    assert where(chain) == ("publish.yml", 17)
    links = chain.references
    assert [link.split(":", 1)[0] for link in links] == [
        "trigger",
        "untrusted code runs",
        "cache written",
        "cache restored",
        "release",
    ]
    assert "pull_request_target (.github/workflows/format.yml)" in links[0]
    assert "github.head_ref" in links[1] and "ultralytics/actions@main/action.yml:28" in links[1]
    assert "actions/setup-python@v5 with cache: pip" in links[2]
    assert ".github/workflows/publish.yml:17" in links[3]
    assert "Publish to PyPI" in links[4]
    rules = {f.rule_id for f in result.findings}
    assert {"template-injection", "pwn-request", "use-trusted-publishing", "unpinned-uses"} <= rules
    injection = of_rule(result, "template-injection")[0]
    assert injection.location is not None
    assert injection.location.path.as_posix() == "ultralytics/actions@main/action.yml"
    assert "called through ultralytics/actions@main (.github/workflows/format.yml:17)" in (
        injection.message
    )


def test_without_the_remote_action_the_chain_is_not_claimed(tmp_path: Path) -> None:
    repo, _ = _ultralytics(tmp_path, "vulnerable")
    result = audit_repository(repo)
    assert [f.severity for f in of_rule(result, "cache-poisoning")] == [Severity.HIGH]
    unanalysable = of_rule(result, "unanalysable-action")
    assert [where(f) for f in unanalysable] == [("format.yml", 18)]


def test_the_fixed_ultralytics_project_is_clean(tmp_path: Path) -> None:
    repo, actions = _ultralytics(tmp_path, "fixed")
    result = audit_repository(repo, actions_dirs=(actions,))
    assert result.findings == (), [f"{f.rule_id} {f.location} {f.message}" for f in result.findings]
    assert result.actions == 1
