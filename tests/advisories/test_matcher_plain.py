"""The plain-release shortcut of the versions list answers exactly as full PEP 440 parsing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion._internal.advisories.matcher import is_affected, parse_version
from bastion._internal.advisories.osv import Affected, ParseWarnings

_NUMBER = st.sampled_from(["0", "1", "2", "00", "01", "10", "007", "9" * 31])
_RELEASE = st.lists(_NUMBER, min_size=1, max_size=5).map(".".join)
_SUFFIX = st.sampled_from(
    ["", "", "", "a1", "b0", "rc1", "c1", ".post0", ".post1", "-1", ".dev0", "+local", "+0"]
)
_PREFIX = st.sampled_from(["", "", "", "v", "V", "0!", "1!", " "])
_VERSION = st.one_of(
    st.builds(lambda p, r, s: p + r + s, _PREFIX, _RELEASE, _SUFFIX),
    st.text(alphabet="0123456789.!+-abcrvpostdel ", max_size=12),
)


def reference(versions: tuple[str, ...], text: str) -> bool:
    """The versions-list rule without any shortcut: exact string, or equal PEP 440 versions."""
    if text in versions:
        return True
    version = parse_version(text)
    parsed = {parse_version(v) for v in versions} - {None}
    return version is not None and version in parsed


@settings(max_examples=400, deadline=None)
@given(st.lists(_VERSION, max_size=8).map(tuple), _VERSION)
def test_versions_list_matches_like_full_parsing(versions: tuple[str, ...], text: str) -> None:
    affected = Affected("pkg", versions=versions)
    assert is_affected(affected, text, ParseWarnings()) == reference(versions, text)


def test_known_equalities_and_differences() -> None:
    listed = Affected("pkg", versions=("1.0", "2.0.0rc1", "v3.1", "0!4", "5.0+local", "06.1"))
    warnings = ParseWarnings()
    for same in (
        "1",
        "1.0.0",
        "v1.0",
        "0!1.0",
        "2.0rc1",
        "2rc1",
        "3.1.0",
        "4.0",
        "5.0+local",
        "6.1",
    ):
        assert is_affected(listed, same, warnings), same
    for other in ("1.0.post0", "1.0-1", "1.0.dev0", "1!1.0", "1.0+local", "2.0", "5.0", "3.1.1"):
        assert not is_affected(listed, other, warnings), other
