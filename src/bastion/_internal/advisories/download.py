"""Fetching the OSV dump (opt-in network): bounded in size and time, to a temporary file."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from bastion._internal.errors import DownloadError

OSV_PYPI_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
TIMEOUT_SECONDS = 60
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024


def download(url: str, folder: Path) -> Path:
    """Download ``url`` into ``folder`` and return the file (deleted on failure)."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise DownloadError(f"refusing to download advisory data over {url.split(':', 1)[0]}")
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".osv-", suffix=".zip")
    target = Path(name)
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,  # noqa: S310 - https or loopback only, checked above
        ):
            copied = 0
            while chunk := response.read(1024 * 1024):
                copied += len(chunk)
                if copied > MAX_DOWNLOAD_BYTES:
                    raise DownloadError(f"{url}: larger than 1 GiB")
                handle.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        target.unlink(missing_ok=True)
        raise DownloadError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def remove(path: Path) -> None:
    """Delete a downloaded file (or folder) quietly."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
