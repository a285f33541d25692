"""Environment markers evaluated for a target Python and platform (PEP 508).

A lockfile made for every platform lists packages that a given deployment
never installs (``pywin32; sys_platform == "win32"`` on Linux). With a target,
such packages are left out of an audit. The evaluation is conservative: a
marker that names extras or dependency groups, or that does not parse, keeps
the package, because leaving out an installed package would hide a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLATFORMS = {
    # name: (sys_platform, platform_system, os_name, platform_machine)
    "linux": ("linux", "Linux", "posix", "x86_64"),
    "macos": ("darwin", "Darwin", "posix", "arm64"),
    "windows": ("win32", "Windows", "nt", "AMD64"),
}
_PYTHON = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")
_OPEN_ENDED = re.compile(r"\b(extra|extras|dependency_groups)\b")


@dataclass(frozen=True, slots=True)
class Target:
    """The Python version and platform an audit is for."""

    python: str  # "3.12" or "3.12.4"
    platform: str  # a key of PLATFORMS

    @classmethod
    def parse(cls, python: str | None, platform: str | None) -> Target | None:
        """A target from command-line values (``None`` when neither is given)."""
        if python is None and platform is None:
            return None
        python = python or "3.12"
        if not _PYTHON.match(python):
            raise ValueError(f"target Python {python!r} should look like 3.12 or 3.12.4")
        platform = platform or "linux"
        if platform not in PLATFORMS:
            raise ValueError(f"target platform {platform!r} is not one of {sorted(PLATFORMS)}")
        return cls(python, platform)

    def environment(self) -> dict[str, str]:
        """The marker environment this target stands for."""
        sys_platform, system, os_name, machine = PLATFORMS[self.platform]
        short = ".".join(self.python.split(".")[:2])
        full = self.python if self.python.count(".") == 2 else f"{self.python}.0"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": os_name,
            "platform_machine": machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": system,
            "platform_version": "",
            "python_full_version": full,
            "python_version": short,
            "sys_platform": sys_platform,
            "extra": "",
        }


def applies(markers: str | None, target: Target | None) -> bool:
    """True unless the markers certainly exclude the package on the target."""
    if not markers or target is None or _OPEN_ENDED.search(markers):
        return True
    # packaging's marker parser (and its tokenizer's regular expressions) only when needed
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison

    try:
        return Marker(markers).evaluate(target.environment())
    except (InvalidMarker, UndefinedComparison, ValueError, KeyError):
        return True
