"""Which events a step really runs under, and which contexts hold anything under them.

A workflow triggered by ``issues`` and ``pull_request_target`` does not run
every step under both: ``if: github.event_name == 'pull_request_target'``
keeps a step to one, and under ``issues`` there is no pull request, so
``github.head_ref`` and ``github.event.pull_request.*`` are empty. The
conditions are evaluated for each trigger with ``github.event_name`` set and
every other context unknown (three-valued logic: a condition that could be
true keeps the event). Conditions that keep outsiders out are recognised in
their common literal forms: author association (``OWNER``, ``MEMBER``,
``COLLABORATOR``) and labels a maintainer sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bastion._internal.workflows import expressions
from bastion._internal.workflows.model import Text

PULL_REQUEST_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
)
# context prefix -> the events under which it holds a value (the first match wins)
_CONTEXT_EVENTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("github.head_ref", PULL_REQUEST_EVENTS),
    ("github.base_ref", PULL_REQUEST_EVENTS),
    ("github.event.pull_request.", PULL_REQUEST_EVENTS),
    ("github.event.number", PULL_REQUEST_EVENTS),
    ("github.event.issue.", frozenset({"issues", "issue_comment"})),
    (
        "github.event.comment.",
        frozenset(
            {
                "issue_comment",
                "pull_request_review_comment",
                "discussion_comment",
                "commit_comment",
            }
        ),
    ),
    ("github.event.review.", frozenset({"pull_request_review"})),
    ("github.event.review_comment.", frozenset({"pull_request_review_comment"})),
    ("github.event.discussion.", frozenset({"discussion", "discussion_comment"})),
    ("github.event.pages.", frozenset({"gollum"})),
    ("github.event.commits.", frozenset({"push"})),
    ("github.event.head_commit.", frozenset({"push"})),
    ("github.event.after", frozenset({"push"})),
    ("github.event.before", frozenset({"push"})),
    ("github.event.workflow_run.", frozenset({"workflow_run"})),
)
TRUSTED_ASSOCIATIONS = frozenset({"owner", "member", "collaborator"})


class _Unknown:
    """A value bastion cannot know before the run."""


UNKNOWN = _Unknown()
_Value = str | float | bool | None | _Unknown


def holds_value(path: str, events: frozenset[str] | None) -> bool:
    """Whether context ``path`` can be non-empty under one of ``events`` (``None``: any)."""
    if events is None:
        return True
    for prefix, where in _CONTEXT_EVENTS:
        if path == prefix.rstrip(".") or path.startswith(prefix):
            return bool(events & where)
    return True


@dataclass(frozen=True, slots=True)
class Gate:
    """What the conditions in front of a step say about who can make it run."""

    events: frozenset[str] | None  # None: no known trigger (an action audited on its own)
    trusted_only: str | None = None  # the condition that admits only trusted authors
    approval: str | None = None  # the condition that waits for a maintainer (label, comment)


def gate(triggers: Mapping[str, object], conditions: Iterable[Text | None]) -> Gate:
    """The events among ``triggers`` that pass every condition, and the gates they hold."""
    sources = tuple(c.value.strip() for c in conditions if c is not None)
    return _gate(tuple(triggers), sources)


@lru_cache(maxsize=4096)
def _gate(triggers: tuple[str, ...], sources: tuple[str, ...]) -> Gate:
    parsed = [tree for tree in (_parse_source(s) for s in sources) if tree]
    events: frozenset[str] | None = None
    if triggers:
        events = frozenset(
            event
            for event in triggers
            if all(_evaluate(tree, event) is not False for _, tree in parsed)
        )
    trusted = next((source for source, tree in parsed if _trusted_authors(tree, _AUTHOR)), None)
    approval = next(
        (s for s, tree in parsed if _labelled(tree) or _trusted_authors(tree, _APPROVER)), None
    )
    return Gate(events, trusted, approval)


def parse_condition(text: Text) -> expressions.Expr | None:
    """The tree of an ``if:`` (with or without ``${{ }}``); ``None`` when it does not parse."""
    parsed = _parse_source(text.value.strip())
    return parsed[1] if parsed is not None else None


@lru_cache(maxsize=4096)
def _parse_source(source: str) -> tuple[str, expressions.Expr] | None:
    inner = source
    if inner.startswith("${{") and inner.endswith("}}") and inner.count("${{") == 1:
        inner = inner[3:-2]
    try:
        return source, expressions.parse(inner)
    except expressions.ExpressionError:
        return None


def _evaluate(expr: expressions.Expr, event: str) -> _Value:
    """The value of ``expr`` when ``github.event_name`` is ``event`` (``UNKNOWN`` if unknowable)."""
    if isinstance(expr, expressions.Literal):
        return expr.value
    if isinstance(expr, expressions.Context):
        return event if expr.path == "github.event_name" else UNKNOWN
    if isinstance(expr, expressions.Unary):
        value = _truthy(_evaluate(expr.operand, event))
        return UNKNOWN if value is UNKNOWN else not value
    if isinstance(expr, expressions.Binary):
        return _binary(expr, event)
    if isinstance(expr, expressions.Call):
        if expr.name in ("success", "always"):
            return True
        if expr.name in ("contains", "startswith", "endswith") and len(expr.args) == 2:
            return _string_call(expr.name, *(_evaluate(a, event) for a in expr.args))
    return UNKNOWN


def _binary(expr: expressions.Binary, event: str) -> _Value:
    left = _evaluate(expr.left, event)
    right = _evaluate(expr.right, event)
    if expr.op == "&&":
        first = _truthy(left)
        if first is False:
            return left
        if first is True:
            return right
        return False if _truthy(right) is False else UNKNOWN
    if expr.op == "||":
        first = _truthy(left)
        if first is True:
            return left
        if first is False:
            return right
        return True if _truthy(right) is True else UNKNOWN
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if expr.op in ("==", "!="):
        same = _fold(left) == _fold(right)
        return same if expr.op == "==" else not same
    return UNKNOWN


def _fold(value: _Value) -> _Value:
    return value.lower() if isinstance(value, str) else value


def _truthy(value: _Value) -> bool | _Unknown:
    if isinstance(value, _Unknown):
        return UNKNOWN
    return bool(value)


def _string_call(name: str, haystack: _Value, needle: _Value) -> _Value:
    if not isinstance(haystack, str) or not isinstance(needle, str):
        return UNKNOWN
    text, part = haystack.lower(), needle.lower()
    if name == "contains":
        return part in text
    return text.startswith(part) if name == "startswith" else text.endswith(part)


def _positive_parts(expr: expressions.Expr) -> list[expressions.Expr]:
    """The conjuncts that must hold (``a && b``: both; anything else: itself)."""
    if isinstance(expr, expressions.Binary) and expr.op == "&&":
        return _positive_parts(expr.left) + _positive_parts(expr.right)
    return [expr]


# whose association a condition checks: the author of the pull request or issue (then only
# trusted people's code runs), or whoever commented or reviewed (a maintainer approves
# someone else's pull request: its code still runs, once approved)
_AUTHOR = ("pull_request.author_association", "issue.author_association")
_APPROVER = ("comment.author_association", "review.author_association")


def _trusted_authors(expr: expressions.Expr, whose: tuple[str, ...]) -> bool:
    """A conjunct that holds only when ``whose`` is an owner, member or collaborator."""
    return any(_association_check(part, whose) for part in _positive_parts(expr))


def _association_check(part: expressions.Expr, whose: tuple[str, ...]) -> bool:
    if isinstance(part, expressions.Binary) and part.op == "||":
        return _association_check(part.left, whose) and _association_check(part.right, whose)
    if isinstance(part, expressions.Binary) and part.op == "==":
        sides = (part.left, part.right)
        contexts = [s for s in sides if isinstance(s, expressions.Context)]
        literals = [s for s in sides if isinstance(s, expressions.Literal)]
        return (
            len(contexts) == 1
            and contexts[0].path.endswith(whose)
            and len(literals) == 1
            and str(literals[0].value).lower() in TRUSTED_ASSOCIATIONS
        )
    if isinstance(part, expressions.Call) and part.name == "contains" and len(part.args) == 2:
        haystack, needle = part.args
        if isinstance(needle, expressions.Context) and needle.path.endswith(whose):
            return _trusted_list(haystack)
    return False


def _trusted_list(expr: expressions.Expr) -> bool:
    """``fromJSON('["OWNER", "MEMBER"]')`` or ``'OWNER,MEMBER'``: only trusted roles named."""
    if isinstance(expr, expressions.Call) and expr.name == "fromjson" and expr.args:
        expr = expr.args[0]
    if not isinstance(expr, expressions.Literal) or not isinstance(expr.value, str):
        return False
    names = [n.strip(" \"'[]").lower() for n in expr.value.split(",")]
    names = [n for n in names if n]
    return bool(names) and all(n in TRUSTED_ASSOCIATIONS for n in names)


def _labelled(expr: expressions.Expr) -> bool:
    """A conjunct that waits for a label (``contains(...labels.*.name, 'x')``, ``label.name``)."""
    for part in _positive_parts(expr):
        paths = [c.path for c in expressions.reads(part)]
        if isinstance(part, expressions.Unary):
            continue
        if any(p.endswith("labels.*.name") or p == "github.event.label.name" for p in paths):
            return True
    return False
