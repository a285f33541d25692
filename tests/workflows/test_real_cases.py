"""The issue-15 cases: false alarms gone and attacks found, on the real files and small variants."""

from __future__ import annotations

from pathlib import Path

from bastion._internal.model import Severity
from bastion._internal.workflows.audit import audit_repository
from tests.workflows.helpers import audit, of_rule, where, write
from tests.workflows.test_real_corpus import CORPUS, actions_dir


def real(name: str):  # type: ignore[no-untyped-def]
    return audit_repository(CORPUS / name, actions_dirs=(actions_dir(name),))


def test_no_pull_request_under_issues_yolov5_after_the_fix() -> None:
    result = real("ultralytics__yolov5__e62a31b6")
    assert of_rule(result, "pwn-request") == []
    assert all(f.severity < Severity.CRITICAL for f in result.findings)
    (injection,) = of_rule(result, "template-injection")
    assert injection.severity is Severity.HIGH and "under issues" not in injection.message


def test_the_ultralytics_chain_is_one_critical_finding_with_the_real_writer() -> None:
    result = real("ultralytics__ultralytics__chain")
    chains = [f for f in of_rule(result, "cache-poisoning") if f.severity is Severity.CRITICAL]
    assert len(chains) == 1
    message = chains[0].message
    assert "trigger: pull_request_target (" in message and "issues" not in message
    # setup-uv@v3 did not cache by default: the writer is the job's runtime token
    assert "setup-uv@v3" not in message and "any step of that job" in message
    (pwn,) = of_rule(result, "pwn-request")
    # not 'PR Summary' (a tool installed from PyPI that reads the diff): Prettier loads the
    # checkout's configuration, which can be JavaScript
    assert "step 'Run Prettier'" in pwn.message


def test_data_only_and_unexecuted_checkouts_are_not_pwn_requests() -> None:
    assert of_rule(real("python-poetry__poetry"), "pwn-request") == []
    assert of_rule(real("pydantic__pydantic-ai"), "pwn-request") == []


def test_sonar_findbugs_checkout_through_a_step_output() -> None:
    result = real("spotbugs__sonar-findbugs__eb3982eb")
    pwned = {where(f): f for f in of_rule(result, "pwn-request")}
    assert ("sonarqube.yml", 45) in pwned
    assert "steps.condval.outputs.value" in pwned[("sonarqube.yml", 45)].message
    assert "step 'Build'" in pwned[("sonarqube.yml", 45)].message
    (chain,) = [f for f in of_rule(result, "cache-poisoning") if f.severity is Severity.CRITICAL]
    assert (
        "sonarqube.yml" in chain.message
        and "setup-java@v4 with cache: maven saves" in chain.message
    )


def test_reusable_workflow_limited_by_every_caller() -> None:
    result = real("python-poetry__poetry")
    assert [
        f for f in of_rule(result, "excessive-permissions") if ".tests-matrix" in str(f.location)
    ] == []


def test_event_after_is_a_sha() -> None:
    result = real("ultralytics__ultralytics__chain")
    assert [f for f in of_rule(result, "template-injection") if "event.after" in f.message] == []


PRT = """\
on: pull_request_target
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    if: IF
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          PATH
      - uses: actions/setup-node@v4
      - run: RUN
"""


def _prt(tmp_path: Path, condition: str = "true", path: str = "", run: str = "npm test"):  # type: ignore[no-untyped-def]
    text = PRT.replace("IF", condition).replace("PATH", path).replace("RUN", run)
    return audit(tmp_path, {"p.yml": text})


def test_pwn_request_names_the_step_that_runs_the_code(tmp_path: Path) -> None:
    (found,) = of_rule(_prt(tmp_path), "pwn-request")
    assert found.severity is Severity.CRITICAL
    assert "step 3" in found.message and "setup-node" not in found.message


def test_only_reading_the_checkout_is_no_pwn_request(tmp_path: Path) -> None:
    assert (
        of_rule(_prt(tmp_path, run="gh api repos/x/y/pulls && cat README.md"), "pwn-request") == []
    )
    sub = _prt(tmp_path / "sub", path="path: pr", run="git -C pr diff --stat")
    assert of_rule(sub, "pwn-request") == []
    runs = _prt(tmp_path / "runs", path="path: pr", run="cd pr && make")
    assert len(of_rule(runs, "pwn-request")) == 1
    sparse = _prt(tmp_path / "sparse", path="sparse-checkout: docs", run="mkdocs build")
    assert of_rule(sparse, "pwn-request") == []


def test_author_association_and_label_gates(tmp_path: Path) -> None:
    trusted = "github.event.pull_request.author_association == 'MEMBER'"
    assert of_rule(_prt(tmp_path / "t", trusted), "pwn-request") == []
    label = "contains(github.event.pull_request.labels.*.name, 'safe to test')"
    (gated,) = of_rule(_prt(tmp_path / "l", label), "pwn-request")
    assert gated.severity is Severity.HIGH and "once a maintainer approves" in gated.message
    other = _prt(tmp_path / "o", "github.event_name == 'push'")
    assert of_rule(other, "pwn-request") == []


def test_step_and_job_outputs_carry_attacker_text(tmp_path: Path) -> None:
    workflow = """\
    on: pull_request_target
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        outputs:
          branch: ${{ steps.b.outputs.name }}
          fixed: ${{ steps.c.outputs.when }}
        steps:
          - id: b
            env:
              HEAD: ${{ github.head_ref }}
            run: echo "name=$HEAD" >> "$GITHUB_OUTPUT"
          - id: c
            run: echo "when=$(date)" >> $GITHUB_OUTPUT
          - run: echo ${{ steps.b.outputs.name }}
      b:
        needs: a
        runs-on: ubuntu-latest
        steps:
          - run: echo ${{ needs.a.outputs.branch }} ${{ needs.a.outputs.fixed }}
    """
    found = of_rule(audit(tmp_path, {"o.yml": workflow}), "template-injection")
    assert [(where(f)[1], f.severity) for f in found] == [
        (16, Severity.CRITICAL),
        (21, Severity.CRITICAL),
    ]
    assert "steps.b.outputs.name <- env.HEAD <- github.head_ref" in found[0].message
    assert "needs.a.outputs.branch <- steps.b.outputs.name" in found[1].message


def test_github_env_of_fixed_values_and_of_event_values(tmp_path: Path) -> None:
    workflow = """\
    on: pull_request_target
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - run: |
              echo "URL=$GITHUB_SERVER_URL/${{ github.run_id }}" >> $GITHUB_ENV
              echo "SHA=${{ github.sha }}" >> "$GITHUB_ENV"
          - env:
              TITLE: ${{ github.event.pull_request.title }}
            run: echo "TITLE=$TITLE" >> $GITHUB_ENV
          - run: echo "X=$(cat file)" >> $GITHUB_ENV
    """
    found = of_rule(audit(tmp_path, {"e.yml": workflow}), "github-env")
    assert [where(f)[1] for f in found] == [12, 13]


def test_bot_conditions_that_only_skip_are_not_reported(tmp_path: Path) -> None:
    workflow = """\
    on: pull_request_target
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - if: github.actor != 'dependabot[bot]'
            run: echo hello
          - if: ${{ !contains(github.actor, '[bot]') }}
            run: echo hello
          - if: github.actor == 'dependabot[bot]'
            run: gh pr merge --auto
    """
    found = of_rule(audit(tmp_path, {"b.yml": workflow}), "bot-conditions")
    assert [where(f)[1] for f in found] == [11]


def test_setup_caches_per_version(tmp_path: Path) -> None:
    workflow = """\
    on:
      release:
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - uses: astral-sh/setup-uv@v4
          - uses: astral-sh/setup-uv@v5
            with:
              enable-cache: false
          - uses: actions/setup-go@v3
          - run: uv build && uv publish
      b:
        runs-on: ubuntu-latest
        steps:
          - uses: astral-sh/setup-uv@v6
          - run: uv build && uv publish
    """
    found = of_rule(audit(tmp_path, {"r.yml": workflow}), "cache-poisoning")
    assert [where(f)[1] for f in found] == [17]
    assert "caches by default from v5" in found[0].message


def test_artipacked_kept_on_purpose_for_a_push(tmp_path: Path) -> None:
    workflow = """\
    on: push
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
            with:
              persist-credentials: true
          - run: git commit -am x && git push
      b:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
            with:
              persist-credentials: true
          - run: make
    """
    found = of_rule(audit(tmp_path, {"a.yml": workflow}), "artipacked")
    assert [where(f)[1] for f in found] == [14]


def test_token_passed_to_a_script_without_extension(tmp_path: Path) -> None:
    workflow = """\
    on:
      push:
        tags: ['*']
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        env:
          TOKEN: ${{ secrets.PYPI_TOKEN }}
        steps:
          - run: ./scripts/publish
          - run: bash tools/release-it
          - run: python tools/notes
      b:
        runs-on: ubuntu-latest
        steps:
          - run: ./scripts/publish  # no secret handed to it: nothing to leak
    """
    root = tmp_path / "repo"
    write(root, {"scripts/publish": "#!/bin/sh\ntwine upload dist/*  # TWINE_PASSWORD\n"})
    write(root, {"tools/release-it": 'uv publish --token "$UV_PUBLISH_TOKEN"\n'})
    write(root, {"tools/notes": "print('no upload here')\n"})
    found = of_rule(audit(tmp_path, {"p.yml": workflow}), "use-trusted-publishing")
    assert [where(f)[1] for f in found] == [11, 12]
    assert "runs ./scripts/publish" in found[0].message


ARTIFACTS = """\
on:
  push:
    branches: [main]
permissions: {}
jobs:
  gen:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/cache@v4
        with:
          path: build
          key: gen
      - run: make generate
      - uses: actions/upload-artifact@v4
        with:
          name: generated
          path: build
  build:
    needs: gen
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: generated
      - run: python -m build
      - uses: actions/upload-artifact@v4
        with:
          name: dist-${{ matrix.os }}
          path: dist
  publish:
    needs: build
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@v4
        with:
          pattern: DOWNLOADED
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


def test_artifacts_carry_a_cache_into_the_release_job(tmp_path: Path) -> None:
    result = audit(tmp_path, {"r.yml": ARTIFACTS.replace("DOWNLOADED", "dist-*")})
    (found,) = of_rule(result, "cache-poisoning")
    assert where(found) == ("r.yml", 9) and found.severity is Severity.HIGH
    assert "artifact 'dist-*' from job 'build' <- artifact 'generated' from job 'gen'" in (
        found.message
    )


def test_artifacts_that_do_not_reach_the_release_job(tmp_path: Path) -> None:
    result = audit(tmp_path, {"r.yml": ARTIFACTS.replace("DOWNLOADED", "docs-*")})
    assert of_rule(result, "cache-poisoning") == []


def test_artifacts_in_the_chain_with_a_privileged_writer(tmp_path: Path) -> None:
    writer = """\
    on: pull_request_target
    permissions: {}
    jobs:
      w:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/cache@v4
            with:
              path: build
              key: gen
          - run: echo "${{ github.event.pull_request.title }}"
    """
    files = {"r.yml": ARTIFACTS.replace("DOWNLOADED", "dist-*"), "w.yml": writer}
    (found,) = of_rule(audit(tmp_path, files), "cache-poisoning")
    assert found.severity is Severity.CRITICAL
    assert "handed over as artifact 'dist-*' from job 'build'" in found.message
    assert "cache written: actions/cache@v4 saves an entry" in found.message


def test_the_if_of_a_calling_step_or_job_gates_what_it_calls(tmp_path: Path) -> None:
    workflow = """\
    on: [push, pull_request_target]
    permissions: {}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - if: github.event_name == 'push'
            uses: ./.github/actions/act
          - uses: ./.github/actions/act
      b:
        if: github.event_name == 'push'
        uses: ./.github/workflows/called.yml
    """
    action = """\
    runs:
      using: composite
      steps:
        - run: echo "${{ github.event.pull_request.title }}"
          shell: bash
    """
    called = """\
    on: workflow_call
    permissions: {}
    jobs:
      c:
        runs-on: ubuntu-latest
        steps:
          - run: echo "${{ github.event.pull_request.title }}"
    """
    result = audit(
        tmp_path,
        {"w.yml": workflow, "called.yml": called},
        other={".github/actions/act/action.yml": action},
    )
    found = of_rule(result, "template-injection")
    # the action's step once (the ungated call), the called workflow's under push only: none
    assert [(where(f), f.severity) for f in found] == [
        (("action.yml", 4), Severity.CRITICAL),
    ]
    assert "./.github/actions/act (.github/workflows/w.yml:9)" in found[0].message


def test_reusable_workflow_reported_while_one_caller_leaves_the_default(tmp_path: Path) -> None:
    called = """\
    on: workflow_call
    jobs:
      t:
        runs-on: ubuntu-latest
        steps:
          - run: make test
    """
    limited = """\
    on: push
    permissions: {}
    jobs:
      c:
        uses: ./.github/workflows/called.yml
    """
    open_caller = """\
    on: push
    jobs:
      c:
        uses: ./.github/workflows/called.yml
    """
    only_limited = audit(tmp_path / "a", {"called.yml": called, "a.yml": limited})
    assert [where(f) for f in of_rule(only_limited, "excessive-permissions")] == []
    both = audit(tmp_path / "b", {"called.yml": called, "a.yml": limited, "b.yml": open_caller})
    assert ("called.yml", 3) in [where(f) for f in of_rule(both, "excessive-permissions")]


def test_a_long_output_line_is_not_traced(tmp_path: Path) -> None:
    line = "a=" * 5_000 + '${{ github.head_ref }}" >> $GITHUB_OUTPUT'
    workflow = f"""\
    on: pull_request_target
    permissions: {{}}
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - id: s
            run: echo "{line}
          - run: echo ${{{{ steps.s.outputs.a }}}}
    """
    found = of_rule(audit(tmp_path, {"o.yml": workflow}), "template-injection")
    # the writing step itself is an injection; the output is not traced through the long line
    assert [where(f)[1] for f in found] == [8]
