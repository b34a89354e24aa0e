"""expr-lang syntax tree. Every node records ``pos``, its offset in the source."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    pos: int


@dataclass(frozen=True, slots=True)
class Const(Node):
    """A literal: nil, bool, int, float or string."""

    value: Any


@dataclass(frozen=True, slots=True)
class Ident(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``obj.name``, ``obj?.name`` or ``obj[key]`` (``prop`` is any expression)."""

    obj: Node
    prop: Node
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Slice(Node):
    obj: Node
    lo: Node | None
    hi: Node | None


@dataclass(frozen=True, slots=True)
class Chain(Node):
    """Wraps a member chain that contains ``?.``: a nil there makes the whole chain nil."""

    node: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of a function by name (``name``), or of a method (``method`` on ``obj``)."""

    name: str
    args: tuple[Node, ...]
    obj: Node | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    node: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Array(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit(Node):
    pairs: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Sequence(Node):
    """``a; b; c``: evaluates every expression, gives the last value."""

    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Let(Node):
    """``let name = value; body``."""

    name: str
    value: Node
    body: Node


@dataclass(frozen=True, slots=True)
class Pointer(Node):
    """``#`` (the current element of a predicate), ``#index`` or ``#acc``; ``name`` is
    ``""``, ``"index"`` or ``"acc"``. A leading ``.`` in a predicate is ``#.``."""

    name: str


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    """The closure argument of a builtin such as ``filter(list, {# > 1})``."""

    node: Node


@dataclass(frozen=True, slots=True)
class Builtin(Node):
    """A call of a predicate builtin (``all``, ``filter``, ``reduce``…)."""

    name: str
    args: tuple[Node, ...]
