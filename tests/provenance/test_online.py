"""--online: the Integrity API and the simple page of an index on 127.0.0.1 the test starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.errors import DownloadError
from bastion._internal.model import Severity
from bastion._internal.provenance.model import Outcome
from bastion._internal.provenance.run import Options, verify_artifacts
from bastion._internal.provenance.sources import index_files
from bastion._internal.provenance.verify import MAX_PROVENANCE_BYTES, ProvenanceVerifier
from tests.conftest import FakeIndex
from tests.provenance.helpers import PA_FILE, PA_SHA, artifact, pa_provenance

NEXT_FILE = "pypi_attestations-0.0.20.tar.gz"
NEXT_SHA = "2" * 64
INTEGRITY = f"/integrity/pypi-attestations/0.0.19/{PA_FILE}/provenance"


def _page(index: FakeIndex, *, marker: object = "url", extra: tuple[Any, ...] = ()) -> None:
    entry: dict[str, Any] = {"filename": PA_FILE, "url": "x", "hashes": {"sha256": PA_SHA}}
    if marker == "url":
        entry["provenance"] = f"{index.url}{INTEGRITY}"
    elif marker is None:
        entry["provenance"] = None
    index.simple_json("pypi-attestations", [entry, *extra])


def _options(index: FakeIndex, cache: Path) -> Options:
    return Options(online=True, index_url=index.url, cache=cache)


def test_integrity_api_answer_verifies_and_is_cached_by_digest(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    _page(fake_index)
    fake_index.pages[INTEGRITY] = (200, "application/json", pa_provenance())
    options = _options(fake_index, tmp_path / "cache")
    result = verify_artifacts([artifact(filename=None)], {}, options, verifier=verifier)
    [item] = result.results
    assert item.outcome is Outcome.VERIFIED, item.reason
    assert item.source.endswith(INTEGRITY)
    assert (tmp_path / "cache" / f"{PA_SHA}.provenance").read_bytes() == pa_provenance()
    asked = len(fake_index.requests)
    fake_index.close()  # the second run must not need the index at all
    again = verify_artifacts([artifact()], {}, Options(cache=tmp_path / "cache"), verifier=verifier)
    assert again.results[0].outcome is Outcome.VERIFIED
    assert again.results[0].source.startswith("cache ")
    assert len(fake_index.requests) == asked


def test_page_saying_no_provenance_means_missing_without_asking(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    _page(fake_index, marker=None)
    result = verify_artifacts([artifact()], {}, _options(fake_index, tmp_path), verifier=verifier)
    assert result.results[0].outcome is Outcome.MISSING
    assert not any(path.startswith("/integrity/") for path, _ in fake_index.requests)


@pytest.mark.parametrize(
    ("status", "body", "outcome", "reason"),
    [
        (404, b"", Outcome.MISSING, "no provenance"),
        (500, b"oops", Outcome.UNKNOWN, "HTTP 500"),
        (200, b"{" * 10, Outcome.FAILED, "not valid JSON"),
        (200, b" " * (MAX_PROVENANCE_BYTES + 10), Outcome.FAILED, "larger than"),
    ],
)
def test_integrity_api_errors(
    fake_index: FakeIndex,
    tmp_path: Path,
    verifier: ProvenanceVerifier,
    status: int,
    body: bytes,
    outcome: Outcome,
    reason: str,
) -> None:
    _page(fake_index, marker="absent")  # an index that does not say: ask the API
    fake_index.pages[INTEGRITY] = (status, "application/json", body)
    result = verify_artifacts([artifact()], {}, _options(fake_index, tmp_path), verifier=verifier)
    [item] = result.results
    assert item.outcome is outcome
    assert reason in item.reason
    assert not (tmp_path / f"{PA_SHA}.provenance").exists() or status == 200


def test_simple_page_errors_leave_artifacts_unchecked(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    fake_index.pages["/simple/pypi-attestations/"] = (500, "text/plain", b"down")
    result = verify_artifacts([artifact()], {}, _options(fake_index, tmp_path), verifier=verifier)
    assert result.results[0].outcome is Outcome.UNKNOWN
    assert result.unknown_reasons() and "HTTP 500" in result.unknown_reasons()[0]
    fake_index.pages["/simple/pypi-attestations/"] = (200, "text/html", b"<html>")
    result = verify_artifacts([artifact()], {}, _options(fake_index, tmp_path), verifier=verifier)
    assert "not a PEP 691 JSON page" in result.results[0].reason


def test_file_the_index_does_not_list_has_no_provenance_there(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    _page(fake_index)
    target = artifact(sha256="3" * 64)
    result = verify_artifacts([target], {}, _options(fake_index, tmp_path), verifier=verifier)
    assert result.results[0].outcome is Outcome.MISSING
    assert "lists no file" in result.results[0].reason


def test_project_page_is_reused_for_a_day_then_fetched_again(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    _page(fake_index, marker=None)
    options = _options(fake_index, tmp_path)
    verify_artifacts([artifact()], {}, options, verifier=verifier)
    fake_index.pages["/simple/pypi-attestations/"] = (503, "text/plain", b"down")
    again = verify_artifacts([artifact()], {}, options, verifier=verifier)
    assert again.results[0].outcome is Outcome.MISSING  # from the cached page
    assert [p for p, _ in fake_index.requests].count("/simple/pypi-attestations/") == 1
    for page in (tmp_path / "pages").iterdir():
        data = json.loads(page.read_text())
        data["fetched"] -= 2 * 24 * 3600
        page.write_text(json.dumps(data))
    stale = verify_artifacts([artifact()], {}, options, verifier=verifier)
    assert stale.results[0].outcome is Outcome.UNKNOWN
    assert "HTTP 503" in stale.results[0].reason


def test_release_without_attestations_after_attested_ones_is_the_wave_two_signal(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    later = {"filename": NEXT_FILE, "url": "y", "hashes": {"sha256": NEXT_SHA}, "provenance": None}
    _page(fake_index, extra=(later,))
    fake_index.pages[INTEGRITY] = (200, "application/json", pa_provenance())
    target = artifact(version="0.0.20", sha256=NEXT_SHA, filename=NEXT_FILE)
    result = verify_artifacts([target], {}, _options(fake_index, tmp_path), verifier=verifier)
    assert result.results[0].outcome is Outcome.MISSING
    [finding] = result.findings
    assert finding.rule_id == "attestations-vanished"
    assert finding.severity is Severity.HIGH
    assert "0.0.19 was published with attestations" in finding.message
    assert "GitHub trailofbits/pypi-attestations, workflow release.yml" in finding.message


def test_first_release_ever_attested_later_is_not_flagged(
    fake_index: FakeIndex, tmp_path: Path, verifier: ProvenanceVerifier
) -> None:
    _page(fake_index, marker=None)
    result = verify_artifacts([artifact()], {}, _options(fake_index, tmp_path), verifier=verifier)
    assert result.findings == ()


def test_only_https_or_loopback_indexes(tmp_path: Path, verifier: ProvenanceVerifier) -> None:
    options = Options(online=True, index_url="http://pypi.example.org", cache=tmp_path)
    with pytest.raises(DownloadError, match="https"):
        verify_artifacts([artifact()], {}, options, verifier=verifier)
    options = Options(online=True, index_url="https://user:pw@pypi.example.org", cache=tmp_path)
    with pytest.raises(DownloadError, match="credentials"):
        verify_artifacts([artifact()], {}, options, verifier=verifier)


_FILE = st.fixed_dictionaries(
    {},
    optional={
        "filename": st.one_of(st.text(max_size=40), st.sampled_from([PA_FILE, NEXT_FILE])),
        "hashes": st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["sha256", "md5"]),
                st.one_of(st.text(max_size=64), st.just(PA_SHA.upper())),
            ),
        ),
        "provenance": st.one_of(st.none(), st.booleans(), st.text(max_size=10)),
    },
)


@settings(max_examples=80, deadline=None)
@given(
    page=st.one_of(
        st.none(),
        st.lists(st.integers()),
        st.fixed_dictionaries({"files": st.lists(_FILE, max_size=5)}),
    )
)
def test_fuzzed_project_pages_give_files_or_nothing(page: object) -> None:
    files = index_files(page)
    for item in files:
        assert len(item.sha256) == 64 and int(item.sha256, 16) >= 0
        assert item.filename.endswith((".tar.gz", ".whl", ".zip"))
