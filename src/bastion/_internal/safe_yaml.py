"""YAML written by attackers, read safely.

PyYAML's safe loader (the C one when available) composes a node graph; this
module turns it into plain Python values itself, so that:

- aliases are followed within a budget of nodes, which defuses "billion
  laughs" documents (an alias is a reference, but converting the graph to
  JSON or walking it would expand it);
- nesting depth is bounded while the document is composed: libyaml's own
  composer recurses once per level and a 50 KB ``[[[[…`` crashes the process
  (SIGSEGV), so nodes are built here from the parser's event stream, with an
  explicit stack and the depth checked before each level opens. That Python
  composition costs about twice the C composer's time, so a text whose nesting
  is proven shallow (``depth_bound``, a count over the text) is composed by the
  C composer instead; its tree is the same (tested against the explicit-stack
  path), a tree deeper than ``MAX_DEPTH`` and every error go through the
  explicit-stack path, so the errors and their lines are that path's;
- duplicate mapping keys are an error instead of "last one wins" (a second
  ``run:`` key must not hide the first from a reviewer);
- timestamps stay the strings they were written as, and no tag outside the
  JSON-like core set is constructed;
- every error names the file and the line.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bastion._internal.errors import InputError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when built

MAX_NODES = 1_000_000
MAX_DEPTH = 200

_TAG = "tag:yaml.org,2002:"
_RESOLVER: Any = yaml.resolver.Resolver()  # the implicit tags of the safe loader
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_BUILDERS: dict[str, Callable[[yaml.ScalarNode], Any]] = {
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
    _TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _TAG + "null": _CONSTRUCTOR.construct_yaml_null,
}


@dataclass
class _Budget:
    nodes: int


def compose(path: Path, text: str) -> yaml.Node | None:
    """The node graph of a one-document YAML text (``None`` when it is empty)."""
    bound = depth_bound(text)
    if _CParser is not None and bound <= C_COMPOSER_MAX_DEPTH:
        composed, node = _compose_c(text, bound)
        if composed:
            return node
    return compose_events(path, text)


# libyaml's C composer recurses about 0.3-0.5 KiB of C stack per level: 1,000 levels need
# well under 1 MiB (a thread's stack is 8 MiB here; the main thread's too).
C_COMPOSER_MAX_DEPTH = 1_000
_PLAIN_TAGS: dict[str, str] = {}  # plain scalar -> its implicit tag, within one process
_PLAIN_TAGS_MAX = 20_000


def _resolve_cached(loader: Any, kind: type, value: Any, implicit: Any) -> Any:
    """The safe loader's ``resolve``, remembered for plain scalars (most repeat: ``run``...).

    ``implicit`` is a pair for a scalar and one flag for a collection. Without path
    resolvers (the safe loader has none) a collection or a quoted scalar gets its
    kind's default tag whatever the flags say, so only plain scalars are resolved.
    """
    if kind is yaml.ScalarNode and implicit[0]:
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = _RESOLVER.resolve(kind, value, implicit)
            if len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                _PLAIN_TAGS[value] = tag
        return tag
    return _DEFAULT_TAGS[kind]


_DEFAULT_TAGS: dict[type, str] = {
    kind: _RESOLVER.resolve(kind, None, (False, False))
    for kind in (yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode)
}
if _RESOLVER.yaml_path_resolvers:  # pragma: no cover - the defaults above hold only without them
    raise ImportError("safe_yaml: a YAML path resolver is registered")

_CParser: Any = None
if hasattr(yaml, "CSafeLoader"):
    # The C composer calls descend_resolver(parent, index) and ascend_resolver() around
    # every node; without path resolvers both do nothing, so builtins that do nothing
    # (and need no Python frame) stand in for them.
    _CParser = type(
        "_CComposer",
        (yaml.CSafeLoader,),
        {
            "resolve": _resolve_cached,
            "descend_resolver": staticmethod(operator.is_),
            "ascend_resolver": staticmethod(tuple),
        },
    )


def depth_bound(text: str) -> int:
    """An upper bound of the nesting depth of the YAML document in ``text``, from counts.

    Block collections nest only where the indentation (libyaml's indent stack)
    grows, by one column at least, except a sequence written at its mapping
    key's column: at most two levels per column of the longest line. Each flow
    collection opens at its own ``[`` or ``{``, and a ``key: value`` pair inside
    ``[...]`` adds one implicit mapping per ``[``. Lines are split at ``\n`` only:
    other line breaks make the longest line longer, the bound larger.
    """
    longest = max(map(len, text.split("\n")))
    return 2 * (longest + 1) + 2 * text.count("[") + text.count("{") + 2


def _compose_c(text: str, bound: int) -> tuple[bool, yaml.Node | None]:
    """The C composer's tree; not composed on any error or a nesting beyond ``MAX_DEPTH``.

    Only for a text whose ``depth_bound`` (``bound``) is small: the C composer recurses.
    The explicit-stack path then decides what any refused text gives.
    """
    loader = _CParser(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except (yaml.YAMLError, ValueError):  # ValueError: text that is not UTF-8 encodable
        return False, None
    finally:
        loader.dispose()
    if node is not None and bound > MAX_DEPTH and not _shallow(node):
        return False, None
    return True, node


def _shallow(root: yaml.Node) -> bool:
    """No collection opens at depth ``MAX_DEPTH`` or more, counted as the events nest.

    A node met again is an alias (its anchor came first in document order): it
    opens nothing, as in ``compose_events``, so shared nodes are walked once.
    """
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, yaml.ScalarNode) or id(node) in seen:
            continue
        if depth >= MAX_DEPTH:
            return False
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.append((value, depth + 1))
                stack.append((key, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in reversed(node.value))
    return True


def compose_events(path: Path, text: str) -> yaml.Node | None:
    """``compose`` with the explicit stack: for any text, however deep (it refuses depth)."""
    try:
        return _compose_events(path, yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(path, f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"invalid YAML: {exc}") from None
    except RecursionError:  # pragma: no cover - the composer below does not recurse
        raise InputError(path, "invalid YAML: nested too deeply") from None


_CollectionNode = yaml.SequenceNode | yaml.MappingNode


def _compose_events(path: Path, events: Iterator[yaml.Event]) -> yaml.Node | None:
    """Build the node graph from parser events without recursion, bounding depth and anchors."""
    root: yaml.Node | None = None
    documents = 0
    stack: list[tuple[_CollectionNode, list[yaml.Node]]] = []  # open collections, pending key
    anchors: dict[str, yaml.Node] = {}
    for event in events:
        line = int(event.start_mark.line) + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise InputError(path, "invalid YAML: more than one document", line)
            continue
        if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            closed, _ = stack.pop()
            closed.end_mark = event.end_mark
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # stream and document boundaries
        if isinstance(event, yaml.CollectionStartEvent) and len(stack) >= MAX_DEPTH:
            raise InputError(path, f"YAML nested deeper than {MAX_DEPTH} levels", line)
        node = _node_of(path, event, anchors, line)
        if stack:
            parent, pending = stack[-1]
            if isinstance(parent, yaml.SequenceNode):
                parent.value.append(node)
            elif pending:
                parent.value.append((pending.pop(), node))
            else:
                pending.append(node)
        else:
            root = node
        if isinstance(event, yaml.CollectionStartEvent) and isinstance(node, _CollectionNode):
            stack.append((node, []))
    return root


def _node_of(
    path: Path, event: yaml.NodeEvent, anchors: dict[str, yaml.Node], line: int | None
) -> yaml.Node:
    if isinstance(event, yaml.AliasEvent):
        target = anchors.get(str(event.anchor))
        if target is None:
            raise InputError(path, f"invalid YAML: undefined alias {event.anchor!r}", line)
        return target
    node: yaml.Node
    start: Any = event.start_mark  # libyaml's marks carry the same fields as PyYAML's
    end: Any = event.end_mark
    if isinstance(event, yaml.ScalarEvent):
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
        node = yaml.ScalarNode(tag, event.value, start, end, event.style)
    elif isinstance(event, yaml.SequenceStartEvent):
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.SequenceNode, None, event.implicit)
        node = yaml.SequenceNode(tag, [], start, None, flow_style=event.flow_style)
    elif isinstance(event, yaml.MappingStartEvent):
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.MappingNode, None, event.implicit)
        node = yaml.MappingNode(tag, [], start, None, flow_style=event.flow_style)
    else:  # pragma: no cover - every node event is one of the above
        raise InputError(path, "unsupported YAML event", line)
    if event.anchor is not None:
        if event.anchor in anchors:
            raise InputError(path, f"invalid YAML: duplicate anchor {event.anchor!r}", line)
        anchors[event.anchor] = node
    return node


def load(path: Path, text: str, *, max_nodes: int = MAX_NODES) -> Any:
    """Plain Python values (dict, list, str, int, float, bool, None) from YAML text."""
    node = compose(path, text)
    if node is None:
        return None
    return to_python(path, node, max_nodes=max_nodes)


def to_python(path: Path, node: yaml.Node, *, max_nodes: int = MAX_NODES) -> Any:
    """Convert a composed node (and what it references) within the node budget."""
    return _convert(path, node, _Budget(max_nodes), 0)


def check(path: Path, node: yaml.Node, *, max_nodes: int = MAX_NODES) -> None:
    """Refuse what ``to_python`` refuses (the same error at the same line), building no values.

    For callers that read the node graph itself: the budget, depth, tags, keys and
    scalar values are checked in ``to_python``'s order, so the first error is its.
    """
    if not _passes(path, node, max_nodes):
        _check(path, node, _Budget(max_nodes), 0)


_STRING_TAGS = frozenset({_TAG + "str", _TAG + "timestamp", _TAG + "binary"})
_COLLECTION_TAGS = frozenset({_TAG + "seq", _TAG + "map"})


def _passes(path: Path, root: yaml.Node, max_nodes: int) -> bool:
    """True only when ``_check`` would refuse nothing: one level at a time, no recursion.

    The same conditions as ``_check`` (node visits within the budget, an alias
    counting again wherever it is met; depth; tags; keys), found without keeping
    ``_check``'s order: on ``False`` the caller runs ``_check``, whose first error
    (and its line) is then the one reported. A level never holds more nodes than
    the budget, so an alias bomb costs no more here than there.
    """
    scalar_kind, mapping_kind, sequence_kind = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
    string_tags, collection_tags = _STRING_TAGS, _COLLECTION_TAGS
    level = [root]
    visited = 1
    depth = 0
    try:
        while level:
            if depth > MAX_DEPTH:
                return False
            below: list[yaml.Node] = []
            for node in level:
                kind = node.__class__
                if kind is scalar_kind:
                    if node.tag not in string_tags:
                        _scalar(path, node)  # type: ignore[arg-type]  # kind is ScalarNode
                    continue
                if node.tag not in collection_tags:
                    return False
                children = node.value
                visited += len(children)
                if visited > max_nodes:
                    return False
                if kind is sequence_kind:
                    below.extend(children)
                elif kind is mapping_kind:
                    keys = set()
                    for key_node, value_node in children:
                        if key_node.__class__ is not scalar_kind:
                            return False
                        if key_node.tag in string_tags:
                            keys.add(key_node.value)
                        else:  # a merge key (<<) too: it has no builder, so _scalar refuses it
                            keys.add(_scalar(path, key_node))
                        below.append(value_node)
                    if len(keys) != len(children):
                        return False
                else:
                    return False
            level = below
            depth += 1
    except InputError:
        return False
    return True


def _check(path: Path, node: yaml.Node, budget: _Budget, depth: int) -> None:
    budget.nodes -= 1
    if budget.nodes < 0:
        raise InputError(path, "YAML expands to too many nodes (alias bomb?)", line_of(node))
    if depth > MAX_DEPTH:
        raise InputError(path, f"YAML nested deeper than {MAX_DEPTH} levels", line_of(node))
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in _STRING_TAGS:
            _scalar(path, node)
        return
    if node.tag not in _COLLECTION_TAGS:
        raise InputError(path, f"unsupported YAML tag {node.tag!r}", line_of(node))
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check(path, item, budget, depth + 1)
        return
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                raise InputError(path, "YAML merge keys (<<) are not supported", line_of(key_node))
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(path, "a mapping key must be a plain value", line_of(key_node))
            key = _scalar(path, key_node)
            if key in keys:
                raise InputError(path, f"duplicate key {key!r}", line_of(key_node))
            keys.add(key)
            _check(path, value_node, budget, depth + 1)
        return
    raise InputError(path, "unsupported YAML node", line_of(node))  # pragma: no cover


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def _convert(path: Path, node: yaml.Node, budget: _Budget, depth: int) -> Any:
    budget.nodes -= 1
    if budget.nodes < 0:
        raise InputError(path, "YAML expands to too many nodes (alias bomb?)", line_of(node))
    if depth > MAX_DEPTH:
        raise InputError(path, f"YAML nested deeper than {MAX_DEPTH} levels", line_of(node))
    if isinstance(node, yaml.ScalarNode):
        return _scalar(path, node)
    if node.tag not in (_TAG + "seq", _TAG + "map"):
        raise InputError(path, f"unsupported YAML tag {node.tag!r}", line_of(node))
    if isinstance(node, yaml.SequenceNode):
        return [_convert(path, item, budget, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                raise InputError(path, "YAML merge keys (<<) are not supported", line_of(key_node))
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(path, "a mapping key must be a plain value", line_of(key_node))
            key = _scalar(path, key_node)
            if key in result:
                raise InputError(path, f"duplicate key {key!r}", line_of(key_node))
            result[key] = _convert(path, value_node, budget, depth + 1)
        return result
    raise InputError(path, "unsupported YAML node", line_of(node))  # pragma: no cover


def _scalar(path: Path, node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag in (_TAG + "str", _TAG + "timestamp", _TAG + "binary"):
        return str(node.value)
    build = _BUILDERS.get(tag)
    if build is not None:
        try:
            return build(node)
        except (ValueError, yaml.YAMLError):
            raise InputError(path, f"bad {tag.removeprefix(_TAG)} value", line_of(node)) from None
    raise InputError(path, f"unsupported YAML tag {tag!r}", line_of(node))
