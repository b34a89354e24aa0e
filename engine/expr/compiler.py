"""Compile an expr AST once into nested Python closures ``f(env) -> value``.

Each node becomes one closure that calls its children's closures directly, so evaluation does
no tree walking, no dispatch on node types and no name resolution: functions are bound at
compile time, regular expressions of ``matches`` with a constant pattern are compiled once,
sub-expressions over constants are folded, and common shapes (``x == 'lit'``,
``x in ['a', 'b']``, ``obj.field`` on a typed map) get specialised closures.

Scopes: ``let`` and predicates evaluate their body with a copy of the environment mapping that
adds the variable, or ``#``/``#index``/``#acc`` (one copy per predicate call, updated in place
per element); the keys starting with ``#`` cannot clash with identifiers.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any

from engine import re2
from engine.expr import ast
from engine.expr import predicates
from engine.expr import runtime as rt
from engine.expr.errors import ExprError, ExprRuntimeError
from engine.expr.functions import CROWDSEC_HELPER_NAMES, EXPR_BUILTIN_NAMES, Function
from engine.expr.values import StrMap, go_type

Fn = Callable[[Mapping[str, Any]], Any]
_NO_ATTRS = rt.NO_ATTRIBUTES


class _NilChain(Exception):
    """Raised by an optional member access on nil; caught by the enclosing chain."""


class _Compiled:
    """A compiled node: its closure, and its value when it is a compile-time constant."""

    __slots__ = ("fn", "const", "value")

    def __init__(self, fn: Fn, const: bool = False, value: Any = None) -> None:
        self.fn, self.const, self.value = fn, const, value


def _constant(value: Any) -> _Compiled:
    return _Compiled(lambda env: value, True, value)


_AND = frozenset(("&&", "and"))
_OR = frozenset(("||", "or"))


class Compiler:
    """Compiles one expression; ``names`` (when given) are the only identifiers allowed."""

    def __init__(self, source: str, functions: Mapping[str, Function],
                 names: Collection[str] | None) -> None:
        self.source = source
        self.functions = functions
        self.names = names
        self.locals: list[str] = []  # let variables in scope (they shadow functions/names)
        self.predicate_depth = 0

    def known(self, name: str) -> bool:
        """Whether an identifier may be read: a let variable or an environment name."""
        return name in self.locals or self.names is None or name in self.names

    def error(self, message: str, node: ast.Node) -> ExprError:
        return ExprError(message, self.source, node.pos)

    def compile(self, node: ast.Node) -> _Compiled:
        method = getattr(self, "c_" + type(node).__name__)
        return method(node)

    # -- folding -----------------------------------------------------------------------
    def _fold(self, fn: Fn, *parts: _Compiled) -> _Compiled:
        """Evaluate now when every input is constant (errors stay runtime errors)."""
        if all(p.const for p in parts):
            try:
                return _constant(fn({}))
            except Exception:  # noqa: BLE001 - errors stay runtime errors, raised when evaluated
                pass
        return _Compiled(fn)

    # -- leaves ------------------------------------------------------------------------
    def c_Const(self, node: ast.Const) -> _Compiled:
        return _constant(node.value)

    def c_Ident(self, node: ast.Ident) -> _Compiled:
        name = node.name
        if not self.known(name):
            raise self.error(f"unknown name {name}", node)

        def ident(env: Mapping[str, Any]) -> Any:
            try:
                return env[name]
            except KeyError:
                raise ExprRuntimeError(f"unknown name {name}") from None
        return _Compiled(ident)

    # -- members -----------------------------------------------------------------------
    def c_Member(self, node: ast.Member) -> _Compiled:
        path = _static_path(node)
        if path is not None and (self.known(path[0]) or path[0] == "#"):
            return _Compiled(_path_getter(path[0], path[1:]))
        obj = self.compile(node.obj).fn
        optional = node.optional
        if isinstance(node.prop, ast.Const) and type(node.prop.value) is str:
            return _Compiled(_member_const(obj, node.prop.value, optional))
        prop = self.compile(node.prop)
        key = prop.fn

        def member(env: Mapping[str, Any]) -> Any:
            o = obj(env)
            if o is None and optional:
                raise _NilChain
            return rt.fetch(o, key(env))
        return _Compiled(member)

    def c_Chain(self, node: ast.Chain) -> _Compiled:
        inner = self.compile(node.node).fn

        def chain(env: Mapping[str, Any]) -> Any:
            try:
                return inner(env)
            except _NilChain:
                return None
        return _Compiled(chain)

    def c_Slice(self, node: ast.Slice) -> _Compiled:
        obj = self.compile(node.obj)
        lo = self.compile(node.lo) if node.lo is not None else _constant(None)
        hi = self.compile(node.hi) if node.hi is not None else _constant(None)
        o, a, b = obj.fn, lo.fn, hi.fn
        return self._fold(lambda env: rt.slice_(o(env), a(env), b(env)), obj, lo, hi)

    # -- calls -------------------------------------------------------------------------
    def c_Call(self, node: ast.Call) -> _Compiled:
        args = [self.compile(a) for a in node.args]
        if node.obj is not None:
            return self._method_call(node, args)
        func = None if node.name in self.locals else self.functions.get(node.name)
        if func is None:
            if node.name in EXPR_BUILTIN_NAMES:
                raise self.error(f"builtin '{node.name}' is not supported yet", node)
            if node.name in CROWDSEC_HELPER_NAMES and (self.names is None or node.name not in self.names):
                raise self.error(f"helper '{node.name}' is not supported yet", node)
            return self._env_call(node, args)
        problem = func.check_arity(len(args))
        if problem:
            raise self.error(problem, node)
        fn = func.fn
        fns = [a.fn for a in args]
        call: Fn
        if len(fns) == 0:
            def call(env: Mapping[str, Any]) -> Any:
                return fn()
        elif len(fns) == 1:
            a0 = fns[0]

            def call(env: Mapping[str, Any]) -> Any:
                return fn(a0(env))
        elif len(fns) == 2:
            a0, a1 = fns

            def call(env: Mapping[str, Any]) -> Any:
                return fn(a0(env), a1(env))
        else:
            def call(env: Mapping[str, Any]) -> Any:
                return fn(*[a(env) for a in fns])
        if func.pure:
            return self._fold(call, *args)
        return _Compiled(call)

    def _env_call(self, node: ast.Call, args: list[_Compiled]) -> _Compiled:
        name = node.name
        if not self.known(name):
            raise self.error(f"unknown func {name}", node)
        fns = [a.fn for a in args]

        def env_call(env: Mapping[str, Any]) -> Any:
            try:
                target = env[name]
            except KeyError:
                raise ExprRuntimeError(f"unknown func {name}") from None
            if not callable(target):
                raise ExprRuntimeError(f"invalid operation: cannot call {go_type(target)}")
            return target(*[a(env) for a in fns])
        return _Compiled(env_call)

    def _method_call(self, node: ast.Call, args: list[_Compiled]) -> _Compiled:
        assert node.obj is not None
        obj = self.compile(node.obj).fn
        name, optional = node.name, node.optional
        fns = [a.fn for a in args]
        private = name.startswith("_")

        def method_call(env: Mapping[str, Any]) -> Any:
            o = obj(env)
            if o is None and optional:
                raise _NilChain
            t = type(o)
            if t is dict or t is StrMap:
                target = o.get(name)
            elif t in _NO_ATTRS or private:
                raise ExprRuntimeError(f"type {go_type(o)} has no method {name}")
            else:
                target = getattr(o, name, None)
            if not callable(target):
                raise ExprRuntimeError(f"type {go_type(o)} has no method {name}")
            return target(*[a(env) for a in fns])
        return _Compiled(method_call)

    # -- let, sequences, predicates ----------------------------------------------------------
    def c_Sequence(self, node: ast.Sequence) -> _Compiled:
        parts = [self.compile(n) for n in node.nodes]
        fns = [p.fn for p in parts]
        *init, last = fns

        def sequence(env: Mapping[str, Any]) -> Any:
            for f in init:
                f(env)
            return last(env)
        return self._fold(sequence, *parts)

    def c_Let(self, node: ast.Let) -> _Compiled:
        value = self.compile(node.value)
        self.locals.append(node.name)
        try:
            body = self.compile(node.body)
        finally:
            self.locals.pop()
        vf, bf, name = value.fn, body.fn, node.name

        def let(env: Mapping[str, Any]) -> Any:
            scope = dict(env)
            scope[name] = vf(env)
            return bf(scope)
        return _Compiled(let)

    def c_Pointer(self, node: ast.Pointer) -> _Compiled:
        if node.name not in ("", "index", "acc"):
            raise self.error(f"unknown pointer #{node.name}", node)
        key = "#" + node.name

        def pointer(env: Mapping[str, Any]) -> Any:
            return env[key]
        return _Compiled(pointer)

    def c_Predicate(self, node: ast.Predicate) -> _Compiled:
        return self.compile(node.node)

    def c_Builtin(self, node: ast.Builtin) -> _Compiled:
        args = [self.compile(a) for a in node.args]
        make = getattr(predicates, "make_" + node.name)
        fn = make(*[a.fn for a in args])
        # folded when the collection (and other plain arguments) are constants and the
        # predicates read nothing but their own "#": filter([1, 2], # > 1)
        if all(p.const for a, p in zip(node.args, args) if not isinstance(a, ast.Predicate)) and \
                not any(_reads_env(a) for a in node.args if isinstance(a, ast.Predicate)):
            return self._fold(fn, _constant(None))
        return _Compiled(fn)

    # -- operators ---------------------------------------------------------------------
    def c_Unary(self, node: ast.Unary) -> _Compiled:
        operand = self.compile(node.node)
        x = operand.fn
        if node.op in ("not", "!"):
            def not_(env: Mapping[str, Any]) -> Any:
                v = x(env)
                if v is True:
                    return False
                if v is False:
                    return True
                raise ExprRuntimeError(f"invalid operation: {node.op} {go_type(v)} (expected bool)")
            return self._fold(not_, operand)
        op = rt.negate if node.op == "-" else rt.plus
        return self._fold(lambda env: op(x(env)), operand)

    def _logical_chain(self, node: ast.Binary) -> _Compiled:
        """``a || b || …`` (or ``&&``) as one loop: left-deep chains of hundreds of terms
        (sigma-generated scenarios) compile and run without deep recursion."""
        op = node.op
        same = _AND if op in _AND else _OR
        operands: list[ast.Node] = []
        current: ast.Node = node
        while isinstance(current, ast.Binary) and current.op in same:
            operands.append(current.right)
            current = current.left
        operands.append(current)
        parts = [self.compile(o) for o in reversed(operands)]
        head, last = tuple(p.fn for p in parts[:-1]), parts[-1].fn
        stop = same is _OR  # the value that decides the whole chain

        def chain(env: Mapping[str, Any]) -> Any:
            for fn in head:
                v = fn(env)
                if v is stop:
                    return stop
                if v is not (not stop):
                    raise ExprRuntimeError(f"invalid operation: {go_type(v)} {op} (expected bool)")
            return last(env)
        return self._fold(chain, *parts)

    def c_Binary(self, node: ast.Binary) -> _Compiled:
        op = node.op
        if op in _AND or op in _OR:
            return self._logical_chain(node)
        left, right = self.compile(node.left), self.compile(node.right)
        lf, rf = left.fn, right.fn
        if op == "??":
            def coalesce(env: Mapping[str, Any]) -> Any:
                v = lf(env)
                return rf(env) if v is None else v
            return self._fold(coalesce, left, right)
        if op in ("==", "!="):
            return self._equality(op, left, right)
        if op == "in":
            return self._in(left, right)
        if op == "matches":
            return self._matches(node, left, right)
        if op in ("contains", "startsWith", "endsWith"):
            return self._string_op(op, left, right)
        impl = _BINARY[op]
        return self._fold(lambda env: impl(lf(env), rf(env)), left, right)

    def _equality(self, op: str, left: _Compiled, right: _Compiled) -> _Compiled:
        if right.const and not left.const:
            var, const = left.fn, right.value
        elif left.const and not right.const:
            var, const = right.fn, left.value
        else:
            lf, rf = left.fn, right.fn
            if op == "==":
                return self._fold(lambda env: rt.equal(lf(env), rf(env)), left, right)
            return self._fold(lambda env: not rt.equal(lf(env), rf(env)), left, right)
        eq: Fn
        if type(const) is str:
            # str == anything-but-str is False in Go and in Python alike
            eq = (lambda env: var(env) == const) if op == "==" else (lambda env: var(env) != const)
        elif const is None:
            eq = (lambda env: var(env) is None) if op == "==" else (lambda env: var(env) is not None)
        elif op == "==":
            eq = lambda env: rt.equal(var(env), const)  # noqa: E731
        else:
            eq = lambda env: not rt.equal(var(env), const)  # noqa: E731
        return _Compiled(eq)

    def _in(self, left: _Compiled, right: _Compiled) -> _Compiled:
        lf, rf = left.fn, right.fn
        if right.const and type(right.value) is list and right.value and all(
                type(v) is str for v in right.value) and not left.const:
            members = frozenset(right.value)

            def in_strings(env: Mapping[str, Any]) -> bool:
                v = lf(env)
                if type(v) is str:
                    return v in members
                return rt.contains_in(v, right.value)
            return _Compiled(in_strings)
        return self._fold(lambda env: rt.contains_in(lf(env), rf(env)), left, right)

    def _matches(self, node: ast.Binary, left: _Compiled, right: _Compiled) -> _Compiled:
        lf, rf = left.fn, right.fn
        if right.const and type(right.value) is str:
            try:
                rx = re2.compile_re2(right.value)
            except re2.Re2Error as exc:
                raise self.error(str(exc), node.right) from None
            search = rx.search

            def matches_const(env: Mapping[str, Any]) -> bool:
                v = lf(env)
                if type(v) is str:
                    return search(v) is not None
                if v is None:
                    return False
                raise ExprRuntimeError(f"invalid operation: {go_type(v)} matches string")
            return self._fold(matches_const, left, right)
        cache: dict[str, re.Pattern[str]] = {}

        def matches(env: Mapping[str, Any]) -> bool:
            v, pattern = lf(env), rf(env)
            if v is None or pattern is None:
                return False
            if type(v) is not str or type(pattern) is not str:
                raise ExprRuntimeError(f"invalid operation: {go_type(v)} matches {go_type(pattern)}")
            rx = cache.get(pattern)
            if rx is None:
                try:
                    rx = re2.compile_re2(pattern)
                except re2.Re2Error as exc:
                    raise ExprRuntimeError(str(exc)) from None
                if len(cache) < 256:
                    cache[pattern] = rx
            return rx.search(v) is not None
        return _Compiled(matches)

    def _string_op(self, op: str, left: _Compiled, right: _Compiled) -> _Compiled:
        lf, rf = left.fn, right.fn
        method = {"contains": str.__contains__, "startsWith": str.startswith,
                  "endsWith": str.endswith}[op]

        def string_op(env: Mapping[str, Any]) -> bool:
            a, b = lf(env), rf(env)
            if type(a) is str and type(b) is str:
                return method(a, b)
            if a is None or b is None:
                return False
            raise ExprRuntimeError(f"invalid operation: {go_type(a)} {op} {go_type(b)}")
        return self._fold(string_op, left, right)

    def c_Conditional(self, node: ast.Conditional) -> _Compiled:
        cond, then, other = (self.compile(n) for n in (node.cond, node.then, node.otherwise))
        cf, tf, of = cond.fn, then.fn, other.fn

        def conditional(env: Mapping[str, Any]) -> Any:
            c = cf(env)
            if c is True:
                return tf(env)
            if c is False:
                return of(env)
            raise ExprRuntimeError(f"non-bool expression (type {go_type(c)}) used as condition")
        return self._fold(conditional, cond, then, other)

    def c_Array(self, node: ast.Array) -> _Compiled:
        items = [self.compile(n) for n in node.items]
        fns = [i.fn for i in items]
        return self._fold(lambda env: [f(env) for f in fns], *items)

    def c_MapLit(self, node: ast.MapLit) -> _Compiled:
        pairs = [(self.compile(k), self.compile(v)) for k, v in node.pairs]
        fns = [(k.fn, v.fn) for k, v in pairs]
        parts = [p for pair in pairs for p in pair]
        return self._fold(lambda env: {k(env): v(env) for k, v in fns}, *parts)


def _children(node: ast.Node) -> list[ast.Node]:
    out: list[ast.Node] = []
    for name in getattr(node, "__slots__", ()):
        value = getattr(node, name, None)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, ast.Node):
                out.append(item)
            elif isinstance(item, tuple):  # map literal pairs
                out.extend(x for x in item if isinstance(x, ast.Node))
    return out


def _reads_env(node: ast.Node) -> bool:
    """Whether evaluating ``node`` may depend on the environment: identifiers, let bindings
    and calls (functions may be impure) do; constants, operators and ``#`` pointers don't."""
    if isinstance(node, (ast.Ident, ast.Let, ast.Call)):
        return True
    return any(_reads_env(child) for child in _children(node))


def _static_path(node: ast.Node) -> tuple[str, ...] | None:
    """``a.b.c`` (identifier then non-optional constant names) as ("a", "b", "c")."""
    names: list[str] = []
    while isinstance(node, ast.Member):
        if node.optional or not (isinstance(node.prop, ast.Const) and type(node.prop.value) is str):
            return None
        names.append(node.prop.value)
        node = node.obj
    if isinstance(node, ast.Pointer) and node.name == "" and names:
        names.append("#")
        return tuple(reversed(names))
    if not isinstance(node, ast.Ident) or not names:
        return None
    names.append(node.name)
    return tuple(reversed(names))


@lru_cache(maxsize=256)
def _is_mapping(t: type) -> bool:
    """Whether values of type ``t`` are read by key (dict subclasses, other Mappings)."""
    return issubclass(t, Mapping)


def _step(o: Any, name: str) -> Any:
    t = type(o)
    if t is StrMap:
        return o[name]
    if t is dict:
        return o.get(name)
    if t in _NO_ATTRS or name[:1] == "_":
        return rt.fetch(o, name)
    if _is_mapping(t):
        return o[name] if isinstance(o, StrMap) else o.get(name)
    try:
        return getattr(o, name)
    except AttributeError:
        raise ExprRuntimeError(f"cannot fetch {name} from {go_type(o)}") from None


def _path_getter(root: str, names: tuple[str, ...]) -> Fn:
    """One closure for a whole ``root.a.b`` path: the hot shape of content expressions."""
    if len(names) == 1:
        (n1,) = names

        def path1(env: Mapping[str, Any]) -> Any:
            try:
                o = env[root]
            except KeyError:
                raise ExprRuntimeError(f"unknown name {root}") from None
            return _step(o, n1)
        return path1
    if len(names) == 2:
        n1, n2 = names
        objects: set[type] = set()  # types seen to be plain objects (fields by attribute)

        def path2(env: Mapping[str, Any]) -> Any:
            try:
                o = env[root]
            except KeyError:
                raise ExprRuntimeError(f"unknown name {root}") from None
            t = type(o)
            if t in objects:
                try:
                    o = getattr(o, n1)
                except AttributeError:
                    raise ExprRuntimeError(f"cannot fetch {n1} from {go_type(o)}") from None
            else:
                if t not in _NO_ATTRS and n1[:1] != "_" and not _is_mapping(t):
                    objects.add(t)
                o = _step(o, n1)
            if type(o) is StrMap:
                return o[n2]
            return _step(o, n2)
        return path2

    def path(env: Mapping[str, Any]) -> Any:
        try:
            o = env[root]
        except KeyError:
            raise ExprRuntimeError(f"unknown name {root}") from None
        for name in names:
            o = _step(o, name)
        return o
    return path


def _member_const(obj: Fn, name: str, optional: bool) -> Fn:
    """``obj.name``: typed maps first (the hot path of ``evt.Meta.x``), then fields."""
    private = name.startswith("_")
    fetch = rt.fetch

    def member(env: Mapping[str, Any]) -> Any:
        o = obj(env)
        t = type(o)
        if t is StrMap:
            return o[name]
        if t is dict:
            return o.get(name)
        if t in _NO_ATTRS or private or _is_mapping(t):
            if o is None and optional:
                raise _NilChain
            return fetch(o, name)
        try:
            return getattr(o, name)
        except AttributeError:
            raise ExprRuntimeError(f"cannot fetch {name} from {go_type(o)}") from None
    return member


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "<": rt.less, "<=": rt.less_equal, ">": rt.greater, ">=": rt.greater_equal,
    "+": rt.add, "-": rt.subtract, "*": rt.multiply, "/": rt.divide, "%": rt.modulo,
    "**": rt.power, "^": rt.power, "..": rt.make_range,
}
