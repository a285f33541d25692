"""One artifact, every member: indicators, Python rules, ``.pth`` lines, binaries, RECORD."""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from bastion._internal.inspect.archive import Entry, archive_format, iter_entries
from bastion._internal.inspect.hits import Hit, evidence
from bastion._internal.inspect.indicators import (
    DROPPER,
    DROPPER_HINTS,
    MAX_DEPTH,
    MINER,
    MINER_HINTS,
    WEBHOOK,
    WEBHOOK_HINTS,
    decoded_blobs,
    line_of,
    search,
)
from bastion._internal.inspect.limits import Limits
from bastion._internal.inspect.python_rules import PythonScan, may_hit, scan_python
from bastion._internal.inspect.record import MemberDigest, record_hits
from bastion._internal.inspect.unicode_rules import unicode_hits
from bastion._internal.model import Severity

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")
NATIVE_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)
# Windows launchers that setuptools and distlib ship inside pure-Python wheels.
LAUNCHER = re.compile(r"(?:^|/)(?:cli|gui|t|w)(?:-?(?:32|64|arm64|arm))*\.exe$")
_PYTHON_HINT = re.compile(rb"\bimport\s+\w|\bexec\s*\(|\beval\s*\(|__import__")
_STRONG_DROPPER = re.compile(rb"nohup|chmod|/tmp/|/dev/shm|/var/tmp")
BINARY_MINER_HINTS = (b"stratum+", b"xmrig", b"XMRig", b"XMRIG", b"donate-level")
_SHEBANG = re.compile(rb"^#![^\n]*\b(?:ba|z|da)?sh\b")


@dataclass(frozen=True, slots=True)
class ArtifactReport:
    """What one wheel or sdist holds and would do, and the verdict on it."""

    path: Path
    kind: str  # "wheel" or "sdist"
    sha256: str
    members: tuple[MemberDigest, ...]
    hits: tuple[Hit, ...]  # threat indicators and capabilities, in member order
    pure: bool | None = None  # a wheel's Root-Is-Purelib

    @property
    def findings(self) -> tuple[Hit, ...]:
        """The threat indicators (capabilities left out)."""
        return tuple(h for h in self.hits if h.rule)

    @property
    def capabilities(self) -> tuple[Hit, ...]:
        """What the code can do, without a threat indicator reaching it."""
        return tuple(h for h in self.hits if not h.rule)

    @property
    def verdict(self) -> str:
        """``malicious`` (high or critical), ``suspicious`` (medium), else ``clean``."""
        worst = max((h.severity for h in self.findings), default=Severity.INFO)
        if worst >= Severity.HIGH:
            return "malicious"
        if worst >= Severity.MEDIUM:
            return "suspicious"
        return "clean"


def artifact_kind(path: Path) -> str:
    """``wheel`` or ``sdist`` from the file name (anything else is read as an sdist)."""
    return "wheel" if path.name.lower().endswith(".whl") else "sdist"


def file_sha256(path: Path) -> str:
    """The sha256 of a file on disk, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


PARALLEL_BYTES = 32 * 1024 * 1024  # a zip this large is read by several processes


@dataclass
class _Partial:
    """What one pass over (a shard of) the members found."""

    hits: list[Hit] = field(default_factory=list)
    digests: list[MemberDigest] = field(default_factory=list)
    record: tuple[str, bytes] | None = None
    pure: bool | None = None
    pth: list[tuple[str, bytes]] = field(default_factory=list)
    modules: dict[str, PythonScan] = field(default_factory=dict)
    natives: list[str] = field(default_factory=list)


def inspect_file(
    path: Path, limits: Limits | None = None, *, git_ids: bool = False, jobs: int = 1
) -> ArtifactReport:
    """Read and scan every member of the wheel or sdist at ``path`` (``ArchiveError`` if bad).

    With ``jobs`` over 1, a zip over 32 MiB is split between that many processes.
    """
    limits = limits or Limits()
    kind = artifact_kind(path)
    if jobs > 1 and path.stat().st_size > PARALLEL_BYTES and archive_format(path) == "zip":
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(_collect, path, limits, git_ids, kind, (k, jobs)) for k in range(jobs)
            ]
            parts = [f.result() for f in futures]
    else:
        parts = [_collect(path, limits, git_ids, kind, (0, 1))]
    found = _Partial()
    for part in parts:
        found.hits += part.hits
        found.digests += part.digests
        found.record = found.record or part.record
        found.pure = part.pure if part.pure is not None else found.pure
        found.pth += part.pth
        found.modules.update(part.modules)
        found.natives += part.natives
    hits = found.hits
    if kind == "wheel":
        hits.extend(record_hits(found.digests, *(found.record or (None, None))))
        if found.pure:
            hits.extend(
                Hit(
                    "inspect-native-in-pure",
                    Severity.MEDIUM,
                    name,
                    None,
                    "native binary in a pure-Python wheel",
                )
                for name in found.natives
                if not LAUNCHER.search(name.lower())
            )
    for name, data in found.pth:
        hits.extend(_pth_hits(name, data, found.modules))
    for scan in found.modules.values():
        hits.extend(scan.hits)
    digests = tuple(found.digests)
    return ArtifactReport(path, kind, file_sha256(path), digests, tuple(hits), found.pure)


def _collect(
    path: Path, limits: Limits, git_ids: bool, kind: str, shard: tuple[int, int]
) -> _Partial:
    found = _Partial()
    for entry in iter_entries(path, limits, git_ids=git_ids, shard=shard):
        if entry.kind == "link":
            found.hits.append(_link_hit(entry))
            continue
        if entry.kind == "special":
            text = "device or FIFO member"
            found.hits.append(Hit("inspect-archive-link", Severity.HIGH, entry.name, None, text))
            continue
        found.digests.append(MemberDigest(entry.name, entry.size, entry.sha256, entry.git_id))
        lower = entry.name.lower()
        if kind == "wheel" and lower.endswith(".dist-info/record") and lower.count("/") == 1:
            found.record = (entry.name, entry.data)
        if kind == "wheel" and lower.endswith(".dist-info/wheel") and lower.count("/") == 1:
            found.pure = re.search(rb"(?mi)^Root-Is-Purelib:\s*true\s*$", entry.data) is not None
        if entry.data.startswith(NATIVE_MAGIC) or (
            entry.data.startswith(b"MZ") and b"PE\x00\x00" in entry.data[:1024]
        ):
            found.natives.append(entry.name)
            found.hits.append(
                Hit("", Severity.INFO, entry.name, None, "native binary", "native-code")
            )
        if lower.endswith(".pth"):
            found.pth.append((entry.name, entry.data))
        scan = _scan_member(entry, kind)
        if scan is not None:
            found.modules[_module_name(entry.name, kind)] = scan
    return found


def _module_name(member: str, kind: str) -> str:
    parts = member.split("/")
    if kind == "sdist" and len(parts) > 1:
        parts = parts[1:]
    return "/".join(parts)


def _link_hit(entry: Entry) -> Hit:
    target = entry.link_target
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.name), target))
    if target.startswith("/") or resolved.startswith("..") or "\x00" in target:
        return Hit(
            "inspect-archive-link",
            Severity.HIGH,
            entry.name,
            None,
            evidence(f"link out of the archive -> {target}"),
        )
    return Hit("", Severity.INFO, entry.name, None, evidence(f"link -> {target}"), "link")


def _scan_member(entry: Entry, kind: str) -> PythonScan | None:
    """Scan one member's bytes; returns its Python scan (holding every hit)."""
    data = entry.data
    name = entry.name
    text = b"\x00" not in data[:8192]
    lower = name.lower()
    python = None
    unicode: list[Hit] = []
    if text and entry.complete and lower.endswith((".py", ".pyw")):
        python = scan_python(name, data, install=_is_setup_py(name, kind))
        unicode = unicode_hits(name, data)
    elif text and entry.complete and _looks_like_python(data) and may_hit(data):
        python = scan_python(name, data, prefilter=False)  # code in a data file
    result = python if python is not None else PythonScan()
    result.hits.extend(unicode)
    result.hits.extend(_byte_hits(name, data, python is not None, text, 0))
    return result


def _looks_like_python(data: bytes) -> bool:
    head = data[:65536]
    if not any(word in head for word in (b"import", b"exec", b"eval")):
        return False
    return _PYTHON_HINT.search(head) is not None


def _is_setup_py(name: str, kind: str) -> bool:
    parts = name.split("/")
    return parts[-1] == "setup.py" and (len(parts) == 1 or (kind == "sdist" and len(parts) == 2))


def _byte_hits(
    name: str, data: bytes, python: bool, text: bool, depth: int, where: str = ""
) -> list[Hit]:
    """Miner, webhook and dropper indicators in any bytes, then in the data encoded inside."""
    hits = []
    if not text:  # a binary: only the miner strings a miner binary carries, case as written
        if any(hint in data for hint in BINARY_MINER_HINTS) and (miner := MINER.search(data)):
            label = f"{where}miner indicator in a binary {_shown(data, miner.start())}"
            return [
                Hit(
                    "inspect-miner",
                    Severity.CRITICAL if depth else Severity.HIGH,
                    name,
                    None,
                    label,
                )
            ]
        return []
    lower = data.lower()
    miner = search(MINER, MINER_HINTS, data, lower)
    if miner:
        severity = Severity.CRITICAL if depth or python else Severity.HIGH
        line = line_of(data, miner.start()) if text and not depth else None
        hits.append(
            Hit(
                "inspect-miner",
                severity,
                name,
                line,
                f"{where}miner indicator {_shown(data, miner.start())}",
            )
        )
    hook = search(WEBHOOK, WEBHOOK_HINTS, data, lower)
    if hook:
        line = line_of(data, hook.start()) if text and not depth else None
        hits.append(
            Hit(
                "inspect-webhook",
                Severity.MEDIUM if not depth else Severity.HIGH,
                name,
                line,
                f"{where}messenger webhook {_shown(data, hook.start())}",
            )
        )
    if text and not python:
        dropper = search(DROPPER, DROPPER_HINTS, data, lower)
        if dropper and (depth or _STRONG_DROPPER.search(dropper.group()) or _SHEBANG.match(data)):
            severity = Severity.HIGH if depth else Severity.MEDIUM
            line = line_of(data, dropper.start()) if not depth else None
            hits.append(
                Hit(
                    "inspect-download-exec",
                    severity,
                    name,
                    line,
                    f"{where}shell download-and-run: {_shown(data, dropper.start())}",
                )
            )
    if text and depth < MAX_DEPTH:
        for offset, decoded in decoded_blobs(data, 8 * 1024 * 1024):
            label = f"{where}base64 data at line {line_of(data, offset)}: " if not depth else where
            inner_text = b"\x00" not in decoded[:4096]
            inner_python = (
                scan_python(name, decoded, prefilter=False)
                if inner_text and may_hit(decoded)
                else None
            )
            if inner_python is not None:
                for hit in inner_python.hits:
                    if hit.rule:
                        hits.append(
                            Hit(
                                hit.rule,
                                max(hit.severity, Severity.HIGH),
                                name,
                                line_of(data, offset),
                                evidence(label + hit.evidence),
                            )
                        )
            inner_text = b"\x00" not in decoded[:4096]
            hits.extend(
                _byte_hits(name, decoded, inner_python is not None, inner_text, depth + 1, label)
            )
    return hits


def _shown(data: bytes, offset: int) -> str:
    start = data.rfind(b"\n", max(0, offset - 80), offset) + 1
    end = data.find(b"\n", offset)
    end = len(data) if end < 0 or end - offset > 120 else end
    return evidence(data[start or max(0, offset - 40) : end].decode("utf-8", "replace"), 140)


def _pth_hits(name: str, data: bytes, modules: dict[str, PythonScan]) -> list[Hit]:
    """A .pth line that starts with ``import`` runs at every interpreter start."""
    hits = []
    for number, raw in enumerate(data.splitlines(), 1):
        line = raw.strip()
        if not line.startswith((b"import ", b"import\t")):
            continue
        scan = scan_python(name, line, prefilter=False)
        capabilities = {h.capability for h in scan.hits if h.capability} if scan else set()
        imported = {f"{m}/__init__.py" for m in (scan.imports if scan else ())} | {
            f"{m}.py" for m in (scan.imports if scan else ())
        }
        reached = {
            c for path, module in modules.items() if path in imported for c in module.import_time
        }
        risky = capabilities & {"process", "network", "dynamic-code", "decode"}
        if scan is None or risky or reached:
            why = ", ".join(sorted(risky | reached)) or "does not parse"
            hits.append(
                Hit(
                    "inspect-pth",
                    Severity.HIGH,
                    name,
                    number,
                    evidence(
                        f"runs at interpreter start ({why}): {raw.decode('utf-8', 'replace')}"
                    ),
                )
            )
        else:
            hits.append(
                Hit(
                    "",
                    Severity.INFO,
                    name,
                    number,
                    evidence(raw.decode("utf-8", "replace")),
                    "pth-import",
                )
            )
    return hits
