"""Go semantics of expr's operators on the Python value model (see :mod:`engine.expr.values`).

Numbers are ``int``/``float`` but never ``bool``; ``==`` between mismatched types is false,
ordering them is an error; ``/`` always gives a float (Go float division: ``1/0`` is +Inf);
``%`` is integer-only with Go's truncated sign; ``**`` is ``math.Pow``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.expr.errors import ExprRuntimeError
from engine.expr.values import StrMap, go_type
from engine.gotime import GoDuration, GoTime, Month, Weekday

_NUM = (int, float)
_NAMED_INTS = frozenset({Weekday, Month})
# Types whose Python attributes must never be reachable from an expression.
NO_ATTRIBUTES = frozenset({type(None), bool, int, float, str, bytes, list, tuple, dict, StrMap, set,
                           frozenset})


def is_number(value: Any) -> bool:
    t = type(value)
    return t is int or t is float


def equal(a: Any, b: Any) -> bool:
    """expr ``==``."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is str or ta is int):
        return a == b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if ta is GoTime and tb is GoTime:
        return a.unix_ns == b.unix_ns
    if ta in _NAMED_INTS or tb in _NAMED_INTS:  # time.Weekday(6) != 6 in Go
        return ta is tb and int(a) == int(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ta is str or tb is str:
        return False
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an exotic __eq__ is simply "not equal"
        return False


def _order(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a, b
    if ta is str and tb is str:
        return a, b
    if ta is GoTime and tb is GoTime:
        return a.unix_ns, b.unix_ns
    if ta is GoDuration and tb is GoDuration:
        return a.ns, b.ns
    raise ExprRuntimeError(f"invalid operation: {go_type(a)} {op} {go_type(b)}")


def less(a: Any, b: Any) -> bool:
    x, y = _order(a, b, "<")
    return x < y


def less_equal(a: Any, b: Any) -> bool:
    x, y = _order(a, b, "<=")
    return x <= y


def greater(a: Any, b: Any) -> bool:
    x, y = _order(a, b, ">")
    return x > y


def greater_equal(a: Any, b: Any) -> bool:
    x, y = _order(a, b, ">=")
    return x >= y


_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


def wrap_int(value: int) -> int:
    """Go's int64 overflow: wrap around (two's complement)."""
    if _INT_MIN <= value <= _INT_MAX:
        return value
    return ((value - _INT_MIN) & 0xFFFF_FFFF_FFFF_FFFF) + _INT_MIN


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        return a + b
    if ta is int and tb is int:
        r = a + b
        return r if _INT_MIN <= r <= _INT_MAX else wrap_int(r)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) + float(b)
    if ta is GoTime and tb is GoDuration:
        return a.Add(b)
    if ta is GoDuration and tb is GoTime:
        return b.Add(a)
    if ta is GoDuration and tb is GoDuration:
        return GoDuration(wrap_int(a.ns + b.ns))
    raise ExprRuntimeError(f"invalid operation: {go_type(a)} + {go_type(b)}")


def subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a - b
        return r if _INT_MIN <= r <= _INT_MAX else wrap_int(r)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) - float(b)
    if ta is GoTime and tb is GoTime:
        return a.Sub(b)
    if ta is GoTime and tb is GoDuration:
        return GoTime(a.unix_ns - b.ns, a.offset)
    if ta is GoDuration and tb is GoDuration:
        return GoDuration(wrap_int(a.ns - b.ns))
    raise ExprRuntimeError(f"invalid operation: {go_type(a)} - {go_type(b)}")


def multiply(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a * b
        return r if _INT_MIN <= r <= _INT_MAX else wrap_int(r)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) * float(b)
    if ta is GoDuration or tb is GoDuration:
        x = a.ns if ta is GoDuration else a
        y = b.ns if tb is GoDuration else b
        tx, ty = type(x), type(y)
        if tx is int and ty is int:
            return GoDuration(wrap_int(x * y))
        if (tx is int or tx is float) and (ty is int or ty is float):
            return float(x) * float(y)
    raise ExprRuntimeError(f"invalid operation: {go_type(a)} * {go_type(b)}")


def divide(a: Any, b: Any) -> float:
    if not (is_number(a) and is_number(b)):
        raise ExprRuntimeError(f"invalid operation: {go_type(a)} / {go_type(b)}")
    x, y = float(a), float(b)
    if y == 0.0:
        if x == 0.0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def modulo(a: Any, b: Any) -> int:
    if type(a) is not int or type(b) is not int:
        raise ExprRuntimeError(f"invalid operation: {go_type(a)} % {go_type(b)}")
    if b == 0:
        raise ExprRuntimeError("integer divide by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def power(a: Any, b: Any) -> float:
    if not (is_number(a) and is_number(b)):
        raise ExprRuntimeError(f"invalid operation: {go_type(a)} ** {go_type(b)}")
    try:
        return math.pow(float(a), float(b))
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def negate(a: Any) -> Any:
    if not is_number(a):
        raise ExprRuntimeError(f"invalid operation: - {go_type(a)}")
    return wrap_int(-a) if type(a) is int else -a


def plus(a: Any) -> Any:
    if not is_number(a):
        raise ExprRuntimeError(f"invalid operation: + {go_type(a)}")
    return a


def not_(a: Any) -> bool:
    if type(a) is not bool:
        raise ExprRuntimeError(f"invalid operation: ! {go_type(a)} (expected bool)")
    return not a


def make_range(a: Any, b: Any) -> list[int]:
    if type(a) is not int or type(b) is not int:
        raise ExprRuntimeError(f"invalid operation: {go_type(a)} .. {go_type(b)}")
    return list(range(a, b + 1))


def contains_in(needle: Any, haystack: Any) -> bool:
    """expr ``needle in haystack``: list membership (with ``==``), map key presence."""
    if haystack is None:
        return False
    t = type(haystack)
    if t is list or t is tuple:
        tn = type(needle)
        if tn is str:
            for item in haystack:
                if type(item) is str and item == needle:
                    return True
            return False
        return any(equal(item, needle) for item in haystack)
    if isinstance(haystack, Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    if t in NO_ATTRIBUTES:
        raise ExprRuntimeError(f'operator "in" not defined on {go_type(haystack)}')
    if type(needle) is not str:
        raise ExprRuntimeError(f"cannot use {go_type(needle)} as field name of {go_type(haystack)}")
    return not needle.startswith("_") and hasattr(haystack, needle)


def fetch(obj: Any, key: Any) -> Any:
    """expr member/index access: ``obj.key`` and ``obj[key]``."""
    t = type(obj)
    if t is StrMap:
        return obj[key] if type(key) is str else ""
    if t is dict:
        try:
            return obj.get(key)
        except TypeError:
            return None
    if t is list or t is tuple or t is str:
        if not is_number(key):
            raise ExprRuntimeError(f"invalid operation: int({go_type(key)})")
        if t is str:  # Go indexes a string's bytes and gives a byte (uint8)
            obj = obj.encode("utf-8")
        index = int(key)
        size = len(obj)
        if index < 0:
            index += size
        if index < 0 or index >= size:
            raise ExprRuntimeError(f"index out of range: {index} (array length is {size})")
        return obj[index]
    if isinstance(obj, Mapping):
        if isinstance(obj, StrMap):
            return obj[key] if type(key) is str else ""
        try:
            return obj.get(key)
        except TypeError:
            return None
    return get_attribute(obj, key)


def get_attribute(obj: Any, name: Any) -> Any:
    """A public field or method of an object (``evt.Meta``, ``evt.GetMeta``)."""
    if obj is None:
        raise ExprRuntimeError(f"cannot fetch {name} from <nil>")
    if type(obj) in NO_ATTRIBUTES or type(name) is not str or name.startswith("_"):
        raise ExprRuntimeError(f"cannot fetch {name} from {go_type(obj)}")
    try:
        return getattr(obj, name)
    except AttributeError:
        raise ExprRuntimeError(f"cannot fetch {name} from {go_type(obj)}") from None


def slice_(obj: Any, lo: Any, hi: Any) -> Any:
    """expr ``obj[lo:hi]`` on lists and strings, with Go's clamping."""
    if not isinstance(obj, (list, tuple, str, bytes)):
        raise ExprRuntimeError(f"cannot slice {go_type(obj)}")
    if type(obj) is str and not obj.isascii():  # Go slices a string's bytes
        raw = obj.encode("utf-8", "surrogateescape")
        return slice_(raw, lo, hi).decode("utf-8", "surrogateescape")
    size = len(obj)
    a = 0 if lo is None else _to_int(lo)
    b = size if hi is None else _to_int(hi)
    if a < 0:
        a = max(size + a, 0)
    if b < 0:
        b = max(size + b, 0)
    b = min(b, size)
    a = min(a, b)
    return obj[a:b]


def _to_int(value: Any) -> int:
    if not is_number(value):
        raise ExprRuntimeError(f"invalid operation: int({go_type(value)})")
    return int(value)


def as_bool(value: Any, what: str) -> bool:
    """A value used as a condition must be a bool."""
    if type(value) is not bool:
        raise ExprRuntimeError(f"{what} must be bool, not {go_type(value)}")
    return value


def go_repr(value: Any) -> str:
    """A value in an error message (strings quoted, as Go's %q/%v would show them)."""
    return repr(value) if type(value) is str else str(value)
