"""The Sigstore trusted root that attestations are verified against, shipped as data.

bastion ships a copy of Sigstore's production trusted root
(``bastion/data/sigstore-trusted-root.json``: Fulcio CAs, Rekor and CT log
keys with their validity periods). ``bastion provenance update-root --from
FILE`` checks a newer one and keeps it in the user cache, where it takes
precedence; ``--trust-root FILE`` names one for a single run. Verification
never fetches the root (no TUF refresh): the root is data you update on
purpose, like the advisory database.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion._internal.errors import IncompleteError, InputError
from bastion._internal.safe_read import parse_json, read_text
from bastion._internal.safe_write import write_atomically
from bastion._internal.user_cache import cache_dir

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

ROOT_NAME = "sigstore-trusted-root.json"
MAX_ROOT_BYTES = 1024 * 1024
MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
MISSING_EXTRA = (
    "provenance verification needs the provenance extra: pip install 'bastion[provenance]' "
    "(pypi-attestations, sigstore)"
)


class MissingExtraError(IncompleteError):
    """The verification libraries are not installed: nothing can be vouched for (exit 2)."""


def bundled_root() -> Path:
    """The trusted root shipped with bastion."""
    return Path(str(resources.files("bastion") / "data" / ROOT_NAME))


def updated_root() -> Path:
    """Where ``update-root`` keeps a newer root (it wins over the bundled one)."""
    return cache_dir() / ROOT_NAME


def root_path(explicit: Path | None = None) -> Path:
    """The root a run uses: ``explicit``, else the updated copy, else the bundled one."""
    if explicit is not None:
        return explicit
    updated = updated_root()
    return updated if updated.is_file() else bundled_root()


def load_root(path: Path) -> TrustedRoot:
    """Read and check a trusted root; any defect is an ``InputError`` naming the file."""
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import TrustedRoot
    except ImportError:
        raise MissingExtraError(MISSING_EXTRA) from None

    text = read_text(path, limit=MAX_ROOT_BYTES)
    data = parse_json(path, text)
    _check_shape(path, data)
    try:
        root = TrustedRoot.from_file(str(path))
        if not root.get_fulcio_certs():
            raise InputError(path, "trusted root has no Fulcio certificate authority")
        from sigstore._internal.trust import KeyringPurpose

        root.rekor_keyring(KeyringPurpose.VERIFY)
        root.ct_keyring(KeyringPurpose.VERIFY)
    except InputError:
        raise
    except (SigstoreError, ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a usable Sigstore trusted root: {_short(exc)}") from None
    return root


def _check_shape(path: Path, data: Any) -> None:
    if not isinstance(data, dict):
        raise InputError(path, "a trusted root is a JSON object", 1)
    if data.get("mediaType") != MEDIA_TYPE:
        shown = str(data.get("mediaType"))[:80]
        raise InputError(path, f"unknown trusted root mediaType {shown!r}")
    for key in ("certificateAuthorities", "tlogs", "ctlogs"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise InputError(path, f"trusted root lacks a non-empty {key!r} list")


def update_root(source: Path) -> Path:
    """Check ``source`` and install it as the root later runs use; return where it went."""
    load_root(source)
    text = read_text(source, limit=MAX_ROOT_BYTES)
    target = updated_root()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)
    return target


def describe(path: Path) -> str:
    """A short account of a root: its Fulcio CAs and transparency logs, for ``status``."""
    data = json.loads(read_text(path, limit=MAX_ROOT_BYTES))
    cas = len(data.get("certificateAuthorities", []))
    tlogs = len(data.get("tlogs", []))
    return f"{path} ({cas} certificate authorit{'y' if cas == 1 else 'ies'}, {tlogs} log key(s))"


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
