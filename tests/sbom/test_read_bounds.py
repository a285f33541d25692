"""Hostile SBOMs: bounded memory, sizes and element counts, DOCTYPEs anywhere, huge integers."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion._internal.engine import run_check
from bastion._internal.errors import InputError
from bastion._internal.model import ControlResult, ControlStatus
from bastion._internal.sbom.read import MAX_ELEMENTS, MAX_PROJECT_SBOM_BYTES, read_sbom
from tests.conftest import OLD_DATA_OK, MakeProject, run_cli

MIB = 1024 * 1024
# Runs bastion as the only child of a fresh interpreter and reports the child's peak RSS.
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=300)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(f"{done.returncode}\\n{peak}\\n{done.stderr}")
"""


def bastion_peak(*args: str) -> tuple[int, int, str, float]:
    """(exit code, peak RSS in MiB, stderr, seconds) of ``bastion ARGS`` in its own process."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "bastion", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    code, peak_kib, err = completed.stdout.split("\n", 2)
    return int(code), int(peak_kib) // 1024, err, time.monotonic() - started


def test_50_mb_of_empty_json_objects_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text('{"bomFormat": "CycloneDX", "x": [' + "{}," * (50 * MIB // 3) + "{}]}")
    code, peak, err, _ = bastion_peak("sbom", "check", str(bom))
    assert code == 3, err
    assert f"more than {MAX_ELEMENTS:,} JSON objects and arrays" in err
    assert len(err.strip().splitlines()) == 1
    assert peak < 400, f"peak RSS {peak} MiB (was 1.3 GB before the element bound)"


def test_50_mb_of_xml_elements_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    bom = tmp_path / "bom.xml"
    body = "<component/>" * (50 * MIB // 12)
    bom.write_text(
        f'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>{body}</components></bom>'
    )
    code, peak, err, _ = bastion_peak("sbom", "check", str(bom))
    assert code == 3, err
    assert "XML elements" in err
    assert peak < 400, f"peak RSS {peak} MiB (was 1.2 GB before the element bound)"


def _sbom_result(root: Path) -> ControlResult:
    return next(r for r in run_check(root).results if r.control == "sbom")


def test_project_sbom_has_a_smaller_size_limit(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "idna==3.7\n", "bastion.toml": OLD_DATA_OK})
    with (root / "bom.json").open("w") as handle:
        handle.write('{"bomFormat": "CycloneDX", "pad": "')
        handle.write("a" * (MAX_PROJECT_SBOM_BYTES + 1))
        handle.write('"}')
    (finding,) = _sbom_result(root).findings
    assert finding.rule_id == "sbom-unreadable"
    assert f"{MAX_PROJECT_SBOM_BYTES // MIB} MiB limit" in finding.message


def test_project_sbom_control_reads_workflows_with_the_cap(make_project: MakeProject) -> None:
    root = make_project({"requirements.txt": "idna==3.7\n", "bastion.toml": OLD_DATA_OK})
    workflow = root / ".github" / "workflows" / "sbom.yml"
    workflow.parent.mkdir(parents=True)
    small = (
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: bastion sbom -o b.json\n"
    )
    workflow.write_text(small)
    assert _sbom_result(root).status is ControlStatus.PASS  # produced in CI
    # Over the 4 MiB workflow cap: not read whole, so not taken to produce an SBOM either.
    workflow.write_text(small + "#" * (5 * MIB) + "\n")
    assert _sbom_result(root).status is ControlStatus.NOT_CONFIGURED


def test_doctype_after_a_long_comment_is_refused(tmp_path: Path) -> None:
    bom = tmp_path / "bom.xml"
    bom.write_text(
        "<?xml version='1.0'?>\n<!--" + "x" * 8192 + "-->\n"
        '<!DOCTYPE bom [<!ENTITY a "aaaa">]>\n'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components/></bom>'
    )
    with pytest.raises(InputError, match="DOCTYPE") as caught:
        read_sbom(bom)
    assert caught.value.line == 3
    bom.write_text('<bom xmlns="http://cyclonedx.org/schema/bom/1.6">\n<!doctype x></bom>')
    with pytest.raises(InputError, match="DOCTYPE"):
        read_sbom(bom)


def test_huge_integer_literal_is_one_line_error(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "n": ' + "9" * 5000 + "}")
    code, _, err = run_cli("sbom", "check", str(bom))
    assert code == 3 and "invalid JSON" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


_JSONISH = st.one_of(
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: '{"a":' * n),
    st.integers(min_value=4000, max_value=6000).map(lambda n: "1" * n),
    st.text(alphabet='{}[]",:0123456789 \n<>!-/', max_size=300),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(['{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": ', "<bom>"]),
    _JSONISH,
)
def test_fuzz_reader_raises_only_input_error(prefix: str, tail: str) -> None:
    with contextlib.suppress(InputError):  # anything else fails the test
        read_sbom(Path("fuzz.json"), prefix + tail)
