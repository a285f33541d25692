"""Python code read with ``ast`` (never imported): capabilities, and the threats that reach them.

Within each scope (the module, each function) values carry labels:
``decoded`` (base64, zlib, marshal, hex, reversed data), ``remote`` (what a
download returned), ``credpath`` / ``secret`` (a credential file's path and
contents, a dump of the whole environment). A finding needs a label reaching
a sink: decoded or remote data executed, secrets sent over the network, a
download written to /tmp and made executable or run, a shell command that
fetches and runs. Spawning or connecting alone is only a capability.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from bastion._internal.inspect.hits import Hit, evidence
from bastion._internal.inspect.indicators import DROPPER, MINER
from bastion._internal.model import Severity

MAX_SOURCE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 400  # nesting beyond this is not parsed (RecursionError guard)

SPAWN = frozenset(
    {
        "subprocess.Popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "os.startfile",
        "pty.spawn",
        "commands.getoutput",
        "asyncio.create_subprocess_shell",
        "asyncio.create_subprocess_exec",
    }
)
_SPAWN_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
FETCH = frozenset(
    {
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "urllib2.urlopen",
        "requests.get",
        "requests.request",
        "httpx.get",
        "httpx.stream",
        "wget.download",
        "urllib3.request",
    }
)
SEND = frozenset(
    {
        "requests.post",
        "requests.put",
        "requests.patch",
        "httpx.post",
        "httpx.put",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "socket.socket",
        "socket.create_connection",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "ftplib.FTP",
        "telnetlib.Telnet",
        "urllib.request.Request",
    }
)
NETWORK = FETCH | SEND
_SEND_METHODS = frozenset({"send", "sendall", "sendto", "sendmail", "request", "post", "put"})
EXEC = frozenset(
    {"exec", "eval", "compile", "builtins.exec", "builtins.eval", "types.FunctionType"}
)
DECODE = frozenset(
    {
        "base64.b64decode",
        "base64.b32decode",
        "base64.b16decode",
        "base64.a85decode",
        "base64.b85decode",
        "base64.standard_b64decode",
        "base64.urlsafe_b64decode",
        "base64.decodebytes",
        "base64.decodestring",
        "zlib.decompress",
        "gzip.decompress",
        "bz2.decompress",
        "lzma.decompress",
        "marshal.loads",
        "binascii.unhexlify",
        "binascii.a2b_base64",
        "binascii.a2b_hex",
        "bytes.fromhex",
        "codecs.decode",
        "pickle.loads",
    }
)
_DUMPERS = frozenset({"dict", "str", "repr", "list", "json.dumps", "pprint.pformat"})
_READ_METHODS = frozenset({"read", "read_text", "read_bytes", "readlines", "readline"})
_INSTALL_COMMANDS = frozenset(
    {"install", "develop", "egg_info", "build_py", "build_ext", "sdist", "bdist_wheel", "build"}
)
CREDENTIAL_PATH = re.compile(
    r"\.ssh(?:/|$)|id_rsa|id_ed25519|id_ecdsa|\.aws/credentials|\.pypirc|\.npmrc"
    r"|\.git-credentials|\.docker/config\.json|\.kube/config|\.netrc|Login Data|Local State"
    r"|/Cookies\b|\.gnupg|wallet\.dat|\.config/gcloud|/etc/shadow|\.bash_history",
)
# Calls that make an object and contact nobody yet.
_CONSTRUCTORS = frozenset(
    {
        "socket.socket",
        "urllib.request.Request",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
    }
)
_SINKS = SPAWN | NETWORK | {"os.dup2"} | EXEC | DECODE | {"os.chmod"}
TMP_PATH = re.compile(r"^/(?:tmp|dev/shm|var/tmp)(?:/|$)")


@dataclass
class _Scope:
    """What one module or function body does, line by line."""

    parent: _Scope | None
    import_time: bool
    install_time: bool
    values: dict[str, list[ast.AST]] = field(default_factory=dict)  # what each name was bound to
    fetches: list[int] = field(default_factory=list)
    spawns: list[int] = field(default_factory=list)
    chmods: list[int] = field(default_factory=list)
    tmp_paths: list[tuple[int, str]] = field(default_factory=list)
    sockets: list[int] = field(default_factory=list)
    dup2s: list[int] = field(default_factory=list)

    def bound(self, name: str) -> list[ast.AST]:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return []


@dataclass
class PythonScan:
    """The hits in one file, and what its module body does when imported."""

    hits: list[Hit] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)  # top-level modules imported
    import_time: set[str] = field(default_factory=set)  # capabilities run on import


# Every rule needs a sink: a file naming none of these cannot hit, and is not parsed.
# Each sink's plain substring (a fast test), and a regex the file must then match (or None).
_SINKS_NAMED: tuple[tuple[bytes, re.Pattern[bytes] | None], ...] = (
    (b"subprocess", None),
    (b"popen", None),
    (b"startfile", None),
    (b"posix_spawn", None),
    (b"urlopen", None),
    (b"urlretrieve", None),
    (b"httpx", None),
    (b"HTTPConnection", None),
    (b"HTTPSConnection", None),
    (b"smtplib", None),
    (b"ftplib", None),
    (b"telnetlib", None),
    (b"urllib3", None),
    (b"chmod", None),
    (b"system", re.compile(rb"\.system\b|\bimport\b[^\n]*\bsystem\b|['\"]system['\"]")),
    (b"spawn", re.compile(rb"\bspawn")),
    (b"exec", re.compile(rb"\bexec[lv]p?e?\b")),
    (b"pty", re.compile(rb"\bpty\b")),
    (b"requests", re.compile(rb"\brequests\b")),
    (b"socket", re.compile(rb"\bsocket\b")),
    (b"wget", re.compile(rb"\bwget\b")),
)
_EXEC_WORDS = re.compile(rb"\b(?:exec|eval|compile|FunctionType)\b")
_DECODE_WORDS = re.compile(
    rb"b(?:64|32|16|85)decode|a85decode|decodebytes|decodestring|decompress|marshal|unhexlify"
    rb"|a2b_|fromhex|pickle|codecs|rot_?13|\[::-1\]|'hex'|\"hex\""
)


def may_hit(source: bytes) -> bool:
    """Whether the source names a sink (a process, the network, chmod, exec of decoded data)."""
    if not source.isascii():  # identifiers are NFKC-normalised: fullwidth 'exec' is exec
        text = unicodedata.normalize("NFKC", source.decode("utf-8", "replace"))
        source = text.encode("utf-8", "replace")
    for word, pattern in _SINKS_NAMED:
        if word in source and (pattern is None or pattern.search(source)):
            return True
    if not any(word in source for word in (b"exec", b"eval", b"compile", b"FunctionType")):
        return False
    return bool(_EXEC_WORDS.search(source) and _DECODE_WORDS.search(source))


def scan_python(
    member: str, source: bytes, *, install: bool = False, prefilter: bool = True
) -> PythonScan | None:
    """Scan Python source; ``None`` when it does not parse (not Python, or too deep).

    With ``prefilter``, source that names no sink is not parsed (an empty scan).
    """
    if len(source) > MAX_SOURCE_BYTES:
        return None
    if prefilter and not may_hit(source):
        return PythonScan()
    try:
        tree = ast.parse(source, filename=member)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    visitor = _Visitor(member, install)
    try:
        visitor.run(tree)
    except RecursionError:
        visitor.scan.hits.append(
            Hit("inspect-obfuscated", Severity.MEDIUM, member, None, "code nested too deeply")
        )
    return visitor.scan


class _Visitor(ast.NodeVisitor):
    def __init__(self, member: str, install: bool) -> None:
        self.member = member
        self.install = install
        self.scan = PythonScan()
        self.aliases: dict[str, str] = {}
        self.scope = _Scope(None, import_time=not install, install_time=install)
        self.capabilities: dict[str, tuple[int, str]] = {}  # capability -> first line, call

    def run(self, tree: ast.Module) -> None:
        self._body(tree.body)
        self._close(self.scope)
        for name, (line, call) in sorted(self.capabilities.items(), key=lambda c: c[1]):
            self.scan.hits.append(Hit("", Severity.INFO, self.member, line, f"{call}()", name))

    # --- structure -------------------------------------------------------------------
    def _body(self, nodes: Iterable[ast.stmt]) -> None:
        for node in nodes:
            self.visit(node)

    def _nested(self, node: ast.AST, body: list[ast.stmt], install: bool) -> None:
        outer = self.scope
        self.scope = _Scope(outer, import_time=False, install_time=outer.install_time or install)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for default in (*node.args.defaults, *node.args.kw_defaults):
                if default is not None:
                    self.visit(default)
        self._body(body)
        self._close(self.scope)
        self.scope = outer

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._nested(node, node.body, False)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._nested(node, node.body, False)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        outer = self.scope
        self.scope = _Scope(outer, import_time=False, install_time=outer.install_time)
        self.visit(node.body)
        self._close(self.scope)
        self.scope = outer

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {self._qualname(b).rsplit(".", 1)[-1] for b in node.bases}
        hook = self.install and bool(bases & _INSTALL_COMMANDS)
        for base in node.bases:
            self.visit(base)
        outer = self.scope
        self.scope = _Scope(outer, import_time=outer.import_time, install_time=outer.install_time)
        for child in node.body:
            if hook and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                self._nested(child, child.body, True)
            else:
                self.visit(child)
        self.scope = outer

    def visit_If(self, node: ast.If) -> None:
        main = self.scope.import_time and any(
            isinstance(n, ast.Compare)
            and any(
                isinstance(x, ast.Name) and x.id == "__name__" for x in (n.left, *n.comparators)
            )
            for n in ast.walk(node.test)
        )
        self.visit(node.test)
        if main and self.scope.import_time:
            self.scope.import_time = False
            self._body(node.body)
            self.scope.import_time = True
        else:
            self._body(node.body)
        self._body(node.orelse)

    # --- imports and names ------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            self.scan.imports.add(top)
            self.aliases[alias.asname or top] = alias.name if alias.asname else top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module and not node.level:
            self.scan.imports.add(module.split(".")[0])
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _qualname(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._qualname(node.value)
            return f"{base}.{node.attr}" if base else ""
        if isinstance(node, ast.Call):
            func = self._qualname(node.func)
            first = node.args[0] if node.args else None
            if func in ("__import__", "importlib.import_module") and _is_str(first):
                return str(first.value) if isinstance(first, ast.Constant) else ""
            if func == "getattr" and len(node.args) >= 2 and _is_str(node.args[1]):
                base = self._qualname(node.args[0])
                second = node.args[1]
                name = str(second.value) if isinstance(second, ast.Constant) else ""
                return f"{base}.{name}" if base else ""
        if isinstance(node, ast.Subscript) and _is_str(node.slice):
            base = self._qualname(node.value)
            key = node.slice.value if isinstance(node.slice, ast.Constant) else ""
            if base in ("__builtins__", "builtins.__dict__", "globals", "vars"):
                return str(key)
        return ""

    # --- data flow ----------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._bind(target, node.value, replace=True)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind(node.target, node.value, replace=True)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self._bind(node.target, node.value, replace=False)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, item.context_expr, replace=True)
        self._body(node.body)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, item.context_expr, replace=True)
        self._body(node.body)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._bind(node.target, node.iter, replace=True)
        self._body(node.body)
        self._body(node.orelse)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and TMP_PATH.match(node.value):
            self.scope.tmp_paths.append((node.lineno, node.value[:80]))

    def _literal(self, node: ast.List | ast.Tuple | ast.Set | ast.Dict) -> None:
        elements = [*node.keys, *node.values] if isinstance(node, ast.Dict) else node.elts
        for element in elements:
            if element is not None and not isinstance(element, ast.Constant):
                self.visit(element)
            elif isinstance(element, ast.Constant):
                self.visit_Constant(element)

    def visit_List(self, node: ast.List) -> None:
        self._literal(node)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        self._literal(node)

    def visit_Set(self, node: ast.Set) -> None:
        self._literal(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        self._literal(node)

    def _bind(self, target: ast.AST, value: ast.AST, *, replace: bool) -> None:
        if isinstance(target, ast.Name):
            known = [] if replace else self.scope.values.get(target.id, [])
            self.scope.values[target.id] = [*known[-7:], value]
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._bind(element, value, replace=replace)

    def _labels(self, node: ast.AST | None, depth: int = 0) -> frozenset[str]:
        if node is None or depth > 40:
            return frozenset()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and CREDENTIAL_PATH.search(node.value):
                return frozenset({"credpath"})
            return frozenset()
        if isinstance(node, ast.Name):
            return frozenset().union(
                *(self._labels(v, depth + 8) for v in self.scope.bound(node.id))
            )
        if isinstance(node, ast.Call):
            return self._call_labels(node, depth)
        if isinstance(node, ast.Attribute):
            if self._qualname(node) == "os.environ":
                return frozenset({"environ"})
            return self._labels(node.value, depth + 1) - {"environ"}
        if isinstance(node, ast.Subscript):
            base = self._labels(node.value, depth + 1) - {"environ"}
            sliced = node.slice
            if isinstance(sliced, ast.Slice) and _is_minus_one(sliced.step):
                return base | {"decoded"}
            return base
        found: frozenset[str] = frozenset()
        for child in ast.iter_child_nodes(node):
            found |= self._labels(child, depth + 1)
        return found - {"environ"} if isinstance(node, ast.Dict | ast.JoinedStr) else found

    def _call_labels(self, node: ast.Call, depth: int) -> frozenset[str]:
        name = self._qualname(node.func)
        args = frozenset().union(
            *(self._labels(a, depth + 1) for a in (*node.args, *(k.value for k in node.keywords)))
        )
        if name in DECODE:
            return args | {"decoded"}
        if name in FETCH:
            return frozenset({"remote"})
        if name in _DUMPERS and "environ" in args:
            return frozenset({"secret"})
        if isinstance(node.func, ast.Attribute):
            base = self._labels(node.func.value, depth + 1)
            method = node.func.attr
            if "environ" in base and method in ("copy", "items", "values", "__repr__"):
                return frozenset({"secret"})
            if "credpath" in base and method in _READ_METHODS:
                return frozenset({"secret"})
            if method == "decode" and node.args and _is_str(node.args[0]):
                codec = (
                    str(node.args[0].value).lower()
                    if isinstance(node.args[0], ast.Constant)
                    else ""
                )
                if codec.replace("-", "_") in ("rot13", "rot_13", "hex", "base64", "zlib"):
                    return base | args | {"decoded"}
            return (base | args) - {"environ"}
        if name == "open" and "credpath" in args:
            return frozenset({"credpath"})
        return args - {"environ"}

    def _strings(self, node: ast.AST | None, depth: int = 0) -> list[str]:
        """String constants an expression is built from (names followed within the scope)."""
        if node is None or depth > 40:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Name):
            return [t for v in self.scope.bound(node.id) for t in self._strings(v, depth + 8)]
        found: list[str] = []
        for child in ast.iter_child_nodes(node):
            found.extend(self._strings(child, depth + 1))
            if len(found) > 64:
                break
        return found

    # --- sinks --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name = self._qualname(node.func)
        line = node.lineno
        sending = isinstance(node.func, ast.Attribute) and node.func.attr in _SEND_METHODS
        if not (name in _SINKS or sending or name.startswith(_SPAWN_PREFIXES)):
            return
        arguments = [*node.args, *(k.value for k in node.keywords)]
        labels = frozenset().union(*(self._labels(a) for a in arguments))
        scope = self.scope
        if name in EXEC or (name.endswith(".exec") and name.startswith("builtins")):
            self._capability("dynamic-code", line, name)
            if "remote" in labels:
                self._hit(
                    "inspect-remote-exec", Severity.CRITICAL, line, f"{name}() of downloaded data"
                )
            elif "decoded" in labels:
                self._hit(
                    "inspect-decode-exec",
                    Severity.HIGH,
                    line,
                    f"{name}() of {self._chain(arguments)}",
                )
        elif name in DECODE:
            self._capability("decode", line, name)
            if name in ("pickle.loads", "marshal.loads") and "remote" in labels:
                self._hit(
                    "inspect-remote-exec", Severity.CRITICAL, line, f"{name}() of downloaded data"
                )
        if name in SPAWN or name.startswith(_SPAWN_PREFIXES):
            self._spawn(node, name, line, labels)
        method = getattr(node.func, "attr", "") if isinstance(node.func, ast.Attribute) else ""
        if name in NETWORK:
            self._capability("network", line, name)
            if name in FETCH:
                scope.fetches.append(line)
            if name == "socket.socket":
                scope.sockets.append(line)
            self._network(name, line, labels, contacts=name not in _CONSTRUCTORS)
        elif method in ("connect", "connect_ex") and scope.sockets:
            self._network(f"socket.{method}", line, labels)
        elif sending and labels & {"secret", "credpath"}:
            self._network(f".{method}", line, labels)
        if name == "os.dup2":
            scope.dup2s.append(line)
        if name == "os.chmod" and len(node.args) >= 2 and _executable_mode(node.args[1]):
            scope.chmods.append(line)
            self._capability("chmod-executable", line, name)

    def _spawn(self, node: ast.Call, name: str, line: int, labels: frozenset[str]) -> None:
        scope = self.scope
        scope.spawns.append(line)
        self._capability("process", line, name)
        command = " ".join(self._strings(node))
        encoded = command.encode("utf-8", "replace")
        if MINER.search(encoded):
            self._hit("inspect-miner", Severity.CRITICAL, line, f"{name}: {command}")
        elif DROPPER.search(encoded) or re.search(r"\b(?:curl|wget)\b.*\|\s*(?:ba)?sh\b", command):
            self._hit("inspect-download-exec", Severity.HIGH, line, f"{name}: {command}")
        elif labels & {"decoded", "remote"}:
            kind = "downloaded" if "remote" in labels else "decoded"
            self._hit("inspect-download-exec", Severity.HIGH, line, f"{name}() runs {kind} data")
        elif scope.install_time and re.search(r"\b(?:curl|wget|nc|ncat)\b", command):
            self._hit("inspect-install-hook", Severity.HIGH, line, f"{name}: {command}")
        if scope.import_time and not self.install:
            self.scan.import_time.add("process")
            self._hit("inspect-import-time", Severity.LOW, line, f"runs {name}() when imported")

    def _network(
        self, name: str, line: int, labels: frozenset[str], *, contacts: bool = True
    ) -> None:
        scope = self.scope
        if not contacts and not labels & {"secret", "credpath"}:
            return  # a socket or request object made, nothing sent yet
        if labels & {"secret", "credpath"}:
            self._hit(
                "inspect-credential-exfil",
                Severity.CRITICAL,
                line,
                f"{name}() sends credentials or the environment",
            )
        elif scope.install_time:
            self._hit(
                "inspect-install-hook",
                Severity.MEDIUM,
                line,
                f"install-time code connects: {name}()",
            )
        elif scope.import_time:
            self.scan.import_time.add("network")
            self._hit(
                "inspect-import-time", Severity.MEDIUM, line, f"connects when imported: {name}()"
            )

    def _close(self, scope: _Scope) -> None:
        """A download in the same body as a /tmp path and a chmod +x or a spawn; a reverse shell."""
        if scope.sockets and scope.dup2s and scope.spawns:
            text = (
                f"socket (line {scope.sockets[0]}) duplicated onto stdin/stdout "
                f"(line {scope.dup2s[0]}) and a process started (line {scope.spawns[0]})"
            )
            self._hit("inspect-reverse-shell", Severity.CRITICAL, scope.sockets[0], text)
        if not scope.fetches or not (scope.spawns or scope.chmods):
            return
        if not scope.chmods and not scope.tmp_paths:
            return
        parts = [f"downloads (line {scope.fetches[0]})"]
        if scope.tmp_paths:
            line, path = scope.tmp_paths[0]
            parts.append(f"writes {path[:60]} (line {line})")
        if scope.chmods:
            parts.append(f"makes it executable (line {scope.chmods[0]})")
        if scope.spawns:
            parts.append(f"runs a process (line {scope.spawns[0]})")
        # A literal /tmp path is what droppers use; without it the combination may be a tool
        # fetching a helper script (torch's flamegraph.pl): information when only called,
        # a finding when it runs on import or install.
        if scope.tmp_paths:
            severity = Severity.CRITICAL
        elif scope.import_time or scope.install_time:
            severity = Severity.HIGH
        else:
            severity = Severity.LOW
        self._hit("inspect-download-exec", severity, scope.fetches[0], ", ".join(parts))

    def _capability(self, capability: str, line: int, call: str) -> None:
        if capability not in self.capabilities:
            self.capabilities[capability] = (line, call)

    def _chain(self, arguments: list[ast.expr]) -> str:
        names = [
            self._qualname(n.func)
            for a in arguments
            for n in ast.walk(a)
            if isinstance(n, ast.Call)
        ]
        shown = [n for n in names if n in DECODE]
        return " <- ".join(shown) if shown else "decoded data"

    def _hit(self, rule: str, severity: Severity, line: int, text: str) -> None:
        self.scan.hits.append(Hit(rule, severity, self.member, line, evidence(text)))


def _is_str(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_minus_one(node: ast.AST | None) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant) and node.operand.value == 1
    return isinstance(node, ast.Constant) and node.value == -1


def _executable_mode(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return bool(node.value & 0o111)
    names = {
        n.attr if isinstance(n, ast.Attribute) else n.id
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute | ast.Name)
    }
    return any(n.startswith("S_IX") or n == "S_IEXEC" for n in names)
