"""GitHub Actions expressions (``${{ ... }}``), parsed rather than grepped.

The grammar is GitHub's: literals (``null``, booleans, numbers, single-quoted
strings with ``''`` escapes), context access (``a.b``, ``a['b']``, ``a[0]``,
``a.*.b``), function calls, ``!``, comparisons, ``&&`` and ``||`` with the
usual precedence, and parentheses.

Two questions matter for auditing:

- which context values can *flow into* the expanded text (``flows``): the
  result of ``a || b`` may be either operand, but the result of ``a == b``
  or ``contains(a, b)`` is a boolean, so it cannot carry a shell command;
- which contexts an expression *reads* at all (``reads``), for conditions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MAX_EXPRESSION = 10_000  # characters; GitHub's own limit is lower
MAX_DEPTH = 50


class ExpressionError(ValueError):
    """An expression that does not parse; ``offset`` is where in its source."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Literal:
    """``null``, a boolean, a number or a string."""

    value: str | float | bool | None


@dataclass(frozen=True, slots=True)
class Context:
    """A context path such as ``github.event.pull_request.title``; indexes become ``*``."""

    path: str
    indexes: tuple[Expr, ...] = ()  # dynamic index expressions (they are read, not returned)


@dataclass(frozen=True, slots=True)
class Call:
    """A function call."""

    name: str  # lower-case: GitHub's function names are case-insensitive
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    """``!x``."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    """``a op b``."""

    op: str
    left: Expr
    right: Expr


Expr = Literal | Context | Call | Unary | Binary

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>[-+]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,*])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)
_BOOLEAN_FUNCTIONS = frozenset(
    {"contains", "startswith", "endswith", "success", "always", "cancelled", "failure"}
)
_PASS_THROUGH_FUNCTIONS = frozenset({"format", "join", "tojson", "fromjson"})
_KNOWN_FUNCTIONS = _BOOLEAN_FUNCTIONS | _PASS_THROUGH_FUNCTIONS | {"hashfiles", "case"}
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    offset: int


def _tokens(source: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ExpressionError(f"unexpected character {source[position]!r}", position)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_EXPRESSION:
            raise ExpressionError(f"expression longer than {MAX_EXPRESSION} characters", 0)
        self.source = source
        self.tokens = _tokens(source)
        self.position = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end of expression", len(self.source))
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise ExpressionError(f"expected {text!r}, found {token.text!r}", token.offset)

    def parse(self) -> Expr:
        if not self.tokens:
            raise ExpressionError("empty expression", 0)
        expr = self.binary(1)
        token = self.peek()
        if token is not None:
            raise ExpressionError(f"unexpected {token.text!r}", token.offset)
        return expr

    def binary(self, level: int) -> Expr:
        if level > 4:
            return self.unary()
        left = self.binary(level + 1)
        while (token := self.peek()) is not None and _PRECEDENCE.get(token.text) == level:
            self.take()
            left = Binary(token.text, left, self.binary(level + 1))
        return left

    def unary(self) -> Expr:
        token = self.peek()
        if token is not None and token.text == "!":
            self.take()
            return Unary(self.nested(self.unary))
        return self.postfix(self.primary())

    def nested(self, parse: Callable[[], Expr]) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("expression nested too deeply", 0)
        try:
            result = parse()
        finally:
            self.depth -= 1
        return result

    def primary(self) -> Expr:
        token = self.take()
        if token.kind == "string":
            return Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            try:
                value = int(token.text, 16) if "x" in token.text.lower() else float(token.text)
            except ValueError:
                raise ExpressionError(f"bad number {token.text!r}", token.offset) from None
            return Literal(float(value))
        if token.text == "(":
            inner = self.nested(lambda: self.binary(1))
            self.expect(")")
            return inner
        if token.kind != "name":
            raise ExpressionError(f"unexpected {token.text!r}", token.offset)
        lowered = token.text.lower()
        if lowered in ("true", "false"):
            return Literal(lowered == "true")
        if lowered == "null":
            return Literal(None)
        following = self.peek()
        if following is not None and following.text == "(":
            return self.call(token)
        return Context(lowered)

    def call(self, name: _Token) -> Expr:
        lowered = name.text.lower()
        if lowered not in _KNOWN_FUNCTIONS:
            raise ExpressionError(f"unknown function {name.text!r}", name.offset)
        self.expect("(")
        args: list[Expr] = []
        token = self.peek()
        if token is not None and token.text == ")":
            self.take()
            return Call(lowered, ())
        while True:
            args.append(self.nested(lambda: self.binary(1)))
            token = self.take()
            if token.text == ")":
                return Call(lowered, tuple(args))
            if token.text != ",":
                raise ExpressionError(f"expected ',' or ')', found {token.text!r}", token.offset)

    def postfix(self, expr: Expr) -> Expr:
        while (token := self.peek()) is not None and token.text in (".", "["):
            self.take()
            if not isinstance(expr, Context) or expr.path.startswith("*"):
                # (a || b).c and fromJSON(x).y: a part of the inner expression's value
                if token.text == ".":
                    self.take()
                else:
                    self.nested(lambda: self.binary(1))
                    self.expect("]")
                if not isinstance(expr, Context):
                    expr = Context("*", (expr,))
                continue
            if token.text == ".":
                part = self.take()
                if part.kind != "name" and part.text != "*":
                    raise ExpressionError("expected a property name after '.'", part.offset)
                expr = Context(f"{expr.path}.{part.text.lower()}", expr.indexes)
            else:
                index = self.nested(lambda: self.binary(1))
                self.expect("]")
                if isinstance(index, Literal) and isinstance(index.value, str):
                    expr = Context(f"{expr.path}.{index.value.lower()}", expr.indexes)
                else:
                    expr = Context(f"{expr.path}.*", (*expr.indexes, index))
        return expr


def parse(source: str) -> Expr:
    """The syntax tree of an expression (without the ``${{ }}``)."""
    return _Parser(source).parse()


def flows(expr: Expr) -> Iterator[Context]:
    """The contexts whose values can become (part of) the expression's result."""
    if isinstance(expr, Context):
        if expr.path.startswith("*"):
            for inner in expr.indexes:
                yield from flows(inner)
        else:
            yield expr
    elif isinstance(expr, Call):
        if expr.name in _PASS_THROUGH_FUNCTIONS or expr.name == "case":
            for arg in expr.args:
                yield from flows(arg)
    elif isinstance(expr, Binary):
        if expr.op == "||":
            yield from flows(expr.left)
            yield from flows(expr.right)
        elif expr.op == "&&":
            yield from flows(expr.right)


def reads(expr: Expr) -> Iterator[Context]:
    """Every context the expression reads, wherever it appears."""
    if isinstance(expr, Context):
        if not expr.path.startswith("*"):
            yield expr
        for inner in expr.indexes:
            yield from reads(inner)
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from reads(arg)
    elif isinstance(expr, Unary):
        yield from reads(expr.operand)
    elif isinstance(expr, Binary):
        yield from reads(expr.left)
        yield from reads(expr.right)


@dataclass(frozen=True, slots=True)
class Embedded:
    """One ``${{ ... }}`` inside a string: its span (``start`` at ``$``) and its inner text."""

    start: int
    end: int
    source: str


def embedded(text: str) -> Iterator[Embedded]:
    """Every ``${{ ... }}`` in ``text``; a ``}}`` inside a quoted string does not close one.

    An opening without its closing raises ``ExpressionError``.
    """
    position = text.find("${{")
    while position != -1:
        cursor = position + 3
        in_string = False
        while cursor < len(text):
            char = text[cursor]
            if char == "'":
                in_string = not in_string  # '' toggles twice: an escaped quote
            elif not in_string and text.startswith("}}", cursor):
                break
            cursor += 1
        else:
            raise ExpressionError("'${{' without its closing '}}'", position)
        yield Embedded(position, cursor + 2, text[position + 3 : cursor])
        position = text.find("${{", cursor + 2)
