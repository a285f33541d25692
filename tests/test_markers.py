"""Markers for a target Python and platform: conservative, never hiding an installed package."""

from __future__ import annotations

import pytest

from bastion._internal.markers import Target, applies

LINUX_312 = Target("3.12", "linux")


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        (None, True),
        ('sys_platform == "win32"', False),
        ('sys_platform == "linux"', True),
        ('python_version < "3.12"', False),
        ('python_full_version >= "3.12.0"', True),
        ('platform_system == "Windows" or python_version >= "3.12"', True),
        ('extra == "socks"', True),  # extras may be on: keep
        ("'dev' in dependency_groups", True),
        ("not a marker ((", True),  # unparsable: keep
    ],
)
def test_applies_on_linux_312(markers: str | None, expected: bool) -> None:
    assert applies(markers, LINUX_312) is expected


def test_no_target_keeps_everything() -> None:
    assert applies('sys_platform == "win32"', None)


def test_target_parsing() -> None:
    assert Target.parse(None, None) is None
    assert Target.parse("3.11", None) == Target("3.11", "linux")
    assert applies('sys_platform == "win32"', Target.parse(None, "windows"))
    with pytest.raises(ValueError, match="should look like"):
        Target.parse("three", None)
    with pytest.raises(ValueError, match="not one of"):
        Target.parse("3.12", "beos")
