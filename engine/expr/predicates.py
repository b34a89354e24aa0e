"""expr's predicate builtins (``all``, ``filter``, ``map``, ``reduce``…), as closure factories.

``make_<name>(collection, predicate, ...)`` takes the compiled argument closures and returns
the closure of the call. A predicate runs in a copy of the environment where ``#`` is the
current element, ``#index`` its index and (for ``reduce``) ``#acc`` the accumulator; the copy
is made once per call, not once per element.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.expr import runtime as rt
from engine.expr.errors import ExprRuntimeError
from engine.expr.values import go_type

Fn = Callable[[Mapping[str, Any]], Any]


def _items(value: Any, name: str) -> list[Any] | tuple[Any, ...]:
    """The elements a predicate runs over: arrays only (maps, strings and nil are errors)."""
    if isinstance(value, (list, tuple)):
        return value
    raise ExprRuntimeError(f"invalid argument for {name} (type {go_type(value)})")


def _bool(value: Any, name: str) -> bool:
    if value is True or value is False:
        return value
    raise ExprRuntimeError(f"predicate of {name} must return bool, not {go_type(value)}")


def _scope(env: Mapping[str, Any]) -> dict[str, Any]:
    return dict(env)


def make_all(coll: Fn, pred: Fn) -> Fn:
    def all_(env: Mapping[str, Any]) -> bool:
        items = _items(coll(env), "all")
        scope = _scope(env)
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            if not _bool(pred(scope), "all"):
                return False
        return True
    return all_


def make_any(coll: Fn, pred: Fn) -> Fn:
    def any_(env: Mapping[str, Any]) -> bool:
        items = _items(coll(env), "any")
        scope = _scope(env)
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            if _bool(pred(scope), "any"):
                return True
        return False
    return any_


def make_none(coll: Fn, pred: Fn) -> Fn:
    any_ = make_any(coll, pred)
    return lambda env: not any_(env)


def make_one(coll: Fn, pred: Fn) -> Fn:
    def one(env: Mapping[str, Any]) -> bool:
        items = _items(coll(env), "one")
        scope = _scope(env)
        found = 0
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            if _bool(pred(scope), "one"):
                found += 1
                if found > 1:
                    return False
        return found == 1
    return one


def make_filter(coll: Fn, pred: Fn) -> Fn:
    def filter_(env: Mapping[str, Any]) -> list[Any]:
        items = _items(coll(env), "filter")
        scope = _scope(env)
        out = []
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            if _bool(pred(scope), "filter"):
                out.append(item)
        return out
    return filter_


def make_map(coll: Fn, pred: Fn) -> Fn:
    def map_(env: Mapping[str, Any]) -> list[Any]:
        items = _items(coll(env), "map")
        scope = _scope(env)
        out = []
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            out.append(pred(scope))
        return out
    return map_


def make_count(coll: Fn, pred: Fn | None = None) -> Fn:
    def count(env: Mapping[str, Any]) -> int:
        items = _items(coll(env), "count")
        if pred is None:
            return sum(1 for item in items if _bool(item, "count"))
        scope = _scope(env)
        n = 0
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            if _bool(pred(scope), "count"):
                n += 1
        return n
    return count


def make_sum(coll: Fn, pred: Fn | None = None) -> Fn:
    def sum_(env: Mapping[str, Any]) -> Any:
        items = _items(coll(env), "sum")
        values: Any = items
        if pred is not None:
            scope = _scope(env)
            values = []
            for i, item in enumerate(items):
                scope["#"] = item
                scope["#index"] = i
                values.append(pred(scope))
        total: Any = 0
        for v in values:
            if not rt.is_number(v):
                raise ExprRuntimeError(f"invalid operation: sum of {go_type(v)}")
            total = rt.add(total, v)
        return total
    return sum_


def _finder(name: str, reverse: bool, want_index: bool) -> Callable[[Fn, Fn], Fn]:
    def make(coll: Fn, pred: Fn) -> Fn:
        def find(env: Mapping[str, Any]) -> Any:
            items = _items(coll(env), name)
            scope = _scope(env)
            indexes = range(len(items) - 1, -1, -1) if reverse else range(len(items))
            for i in indexes:
                scope["#"] = items[i]
                scope["#index"] = i
                if _bool(pred(scope), name):
                    return i if want_index else items[i]
            return -1 if want_index else None
        return find
    return make


make_find = _finder("find", False, False)
make_findIndex = _finder("findIndex", False, True)  # noqa: N816 - expr's name
make_findLast = _finder("findLast", True, False)  # noqa: N816
make_findLastIndex = _finder("findLastIndex", True, True)  # noqa: N816


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def make_groupBy(coll: Fn, pred: Fn) -> Fn:  # noqa: N802
    def group_by(env: Mapping[str, Any]) -> dict[Any, list[Any]]:
        items = _items(coll(env), "groupBy")
        scope = _scope(env)
        groups: dict[Any, list[Any]] = {}
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            groups.setdefault(_hashable(pred(scope)), []).append(item)
        return groups
    return group_by


def sorted_values(values: list[Any], keys: list[Any], order: Any, name: str) -> list[Any]:
    """Stable sort of ``values`` by ``keys`` with expr's ordering (numbers, strings, times,
    durations; keys of mixed kinds are an error)."""
    if order not in ("asc", "desc"):
        raise ExprRuntimeError(f"unknown order, use asc or desc (got {rt.go_repr(order)})")
    if not keys:
        return []
    for k in keys:  # every key must be comparable with the first one
        rt.less(keys[0], k)
    pairs = sorted(zip(keys, range(len(values))), key=lambda kv: kv[0], reverse=(order == "desc"))
    return [values[i] for _, i in pairs]


def make_sortBy(coll: Fn, pred: Fn, order: Fn | None = None) -> Fn:  # noqa: N802
    def sort_by(env: Mapping[str, Any]) -> list[Any]:
        items = list(_items(coll(env), "sortBy"))
        scope = _scope(env)
        keys = []
        for i, item in enumerate(items):
            scope["#"] = item
            scope["#index"] = i
            keys.append(pred(scope))
        direction = "asc" if order is None else order(env)
        return sorted_values(items, keys, direction, "sortBy")
    return sort_by


def make_reduce(coll: Fn, pred: Fn, initial: Fn | None = None) -> Fn:
    def reduce_(env: Mapping[str, Any]) -> Any:
        items = _items(coll(env), "reduce")
        scope = _scope(env)
        if initial is not None:
            acc = initial(env)
            start = 0
        else:
            if not items:
                raise ExprRuntimeError("reduce of empty array with no initial value")
            acc = items[0]
            start = 1
        for i in range(start, len(items)):
            scope["#"] = items[i]
            scope["#index"] = i
            scope["#acc"] = acc
            acc = pred(scope)
        return acc
    return reduce_
