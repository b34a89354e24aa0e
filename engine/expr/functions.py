"""Functions callable from expressions: expr's builtins and CrowdSec's helpers.

A :class:`Function` declares its arity so calls are checked when an expression is compiled.
The sets are immutable mappings; a later issue adds helpers by defining them in a module and
merging them into :data:`DEFAULT_FUNCTIONS` (or by passing its own mapping to
:func:`engine.expr.compile_expr`).
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.durations import DurationError, parse_duration
from engine import gojson
from engine.expr.errors import ExprRuntimeError
from engine.expr.runtime import NO_ATTRIBUTES as _PLAIN
from engine.expr.runtime import equal, wrap_int
from engine.expr.values import format_value, go_sprintf, go_type
from engine.gotime import GoDuration, GoTime, Layout, Month, Weekday


@dataclass(frozen=True, slots=True)
class Function:
    """A callable with an arity (``max_args`` None: variadic). ``pure`` functions depend only
    on their arguments, so calls with constant arguments are folded at compile time."""

    name: str
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None
    pure: bool = True

    def check_arity(self, count: int) -> str | None:
        """An error message when ``count`` arguments do not fit, else None."""
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            if self.max_args == self.min_args:
                expected = str(self.min_args)
            elif self.max_args is None:
                expected = f"at least {self.min_args}"
            else:
                expected = f"{self.min_args} to {self.max_args}"
            return f"invalid number of arguments for {self.name} (expected {expected}, got {count})"
        return None


def function_set(*groups: Iterable[Function] | Mapping[str, Function]) -> Mapping[str, Function]:
    """An immutable name → Function mapping; later groups override earlier ones. A group is
    an iterable of Functions or a mapping such as :data:`DEFAULT_FUNCTIONS`."""
    table: dict[str, Function] = {}
    for group in groups:
        funcs = group.values() if isinstance(group, Mapping) else group
        for func in funcs:
            table[func.name] = func
    return MappingProxyType(table)


def _str_arg(value: Any, func: str, index: int = 0) -> str:
    if type(value) is not str:
        raise ExprRuntimeError(f"{func}: argument {index + 1} must be string, not {go_type(value)}")
    return value


# --- expr builtins --------------------------------------------------------------------

def _len(value: Any) -> int:
    if type(value) is str:
        # Go's len counts bytes
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    raise ExprRuntimeError(f"invalid argument for len (type {go_type(value)})")


_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _trim(value: Any, cutset: Any = None) -> str:
    s = _str_arg(value, "trim")
    if cutset is None:
        return s.strip(_GO_SPACE)
    return s.strip(_str_arg(cutset, "trim", 1))


_ATOI = re.compile(r"[+-]?[0-9]+\Z")
_PARSE_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)\Z", re.I)


def _int(value: Any) -> int:
    t = type(value)
    if t is int:
        return value
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):
            return -(1 << 63)  # what Go's int(NaN/Inf) conversion yields on amd64
        return int(value)
    if t is str:
        if not _ATOI.match(value):
            raise ExprRuntimeError(f"invalid operation: int({value})")
        return int(value)
    raise ExprRuntimeError(f"invalid operation: int({go_type(value)})")


def parse_go_float(text: str) -> float:
    """Go ``strconv.ParseFloat(text, 64)``; raises ValueError on syntax errors."""
    if not _PARSE_FLOAT.match(text):
        raise ValueError(f"invalid syntax: {text!r}")
    return float(text)


def _float(value: Any) -> float:
    t = type(value)
    if t is float:
        return value
    if t is int:
        return float(value)
    if t is str:
        try:
            return parse_go_float(value)
        except ValueError:
            raise ExprRuntimeError(f"invalid operation: float({value})") from None
    raise ExprRuntimeError(f"invalid operation: float({go_type(value)})")


def _num_arg(value: Any, func: str) -> int | float:
    t = type(value)
    if t is int or t is float:
        return value
    raise ExprRuntimeError(f"invalid argument for {func} (type {go_type(value)})")


def _abs(value: Any) -> Any:
    v = _num_arg(value, "abs")
    return -v if v < 0 else v


def _rounder(name: str, op: Callable[[float], float]) -> Callable[[Any], float]:
    def rounder(value: Any) -> float:
        v = _num_arg(value, name)
        if type(v) is int:
            return float(v)
        if v != v or v in (math.inf, -math.inf):
            return v
        return float(op(v))
    return rounder


def _go_round(x: float) -> float:
    """Go ``math.Round``: half away from zero."""
    r = math.floor(abs(x) + 0.5)
    return math.copysign(r, x)


def _type(value: Any) -> str:
    if value is None:
        return "nil"
    t = type(value)
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float"
    if t is str:
        return "string"
    if t is GoTime or t is GoDuration or t is Weekday or t is Month:
        return go_type(value)
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "map"
    if callable(value):
        return "func"
    return "struct"


def _trim_prefix(s: Any, prefix: Any = " ") -> str:
    s, prefix = _str_arg(s, "trimPrefix"), _str_arg(prefix, "trimPrefix", 1)
    return s[len(prefix):] if prefix and s.startswith(prefix) else s


def _trim_suffix(s: Any, suffix: Any = " ") -> str:
    s, suffix = _str_arg(s, "trimSuffix"), _str_arg(suffix, "trimSuffix", 1)
    return s[: len(s) - len(suffix)] if suffix and s.endswith(suffix) else s


def go_split(s: str, sep: str, n: int = -1, after: bool = False) -> list[str]:
    """Go ``strings.SplitN`` / ``SplitAfterN`` (``n < 0``: all; ``n == 0``: none)."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            chars = chars[: n - 1] + ["".join(chars[n - 1:])]
        return chars
    parts = s.split(sep) if n < 0 else s.split(sep, n - 1)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return parts


def _split(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return go_split(_str_arg(s, "split"), _str_arg(sep, "split", 1), _int(n))


def _split_after(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return go_split(_str_arg(s, "splitAfter"), _str_arg(sep, "splitAfter", 1), _int(n), after=True)


def go_replace(s: str, old: str, new: str, n: int = -1) -> str:
    """Go ``strings.Replace``: an empty ``old`` inserts ``new`` around every rune."""
    if old == "":
        if n == 0:
            return s
        out = [new]
        count = 1
        for ch in s:
            out.append(ch)
            if n < 0 or count < n:
                out.append(new)
                count += 1
        return "".join(out)
    return s.replace(old, new) if n < 0 else s.replace(old, new, n)


def _replace(s: Any, old: Any, new: Any) -> str:
    return go_replace(_str_arg(s, "replace"), _str_arg(old, "replace", 1), _str_arg(new, "replace", 2))


def _repeat(s: Any, n: Any) -> str:
    s, count = _str_arg(s, "repeat"), _int(n)
    if count < 0:
        raise ExprRuntimeError(f"invalid argument for repeat (expected positive integer, got {count})")
    if count > 1_000_000:
        raise ExprRuntimeError("memory budget exceeded")
    return s * count


def byte_index(s: str, char_index: int) -> int:
    """A character offset of ``s`` as Go's byte offset (UTF-8)."""
    if char_index < 0 or s.isascii():
        return char_index
    return len(s[:char_index].encode("utf-8"))


def _index_of(s: Any, sub: Any) -> int:
    s = _str_arg(s, "indexOf")
    return byte_index(s, s.find(_str_arg(sub, "indexOf", 1)))


def _last_index_of(s: Any, sub: Any) -> int:
    s = _str_arg(s, "lastIndexOf")
    return byte_index(s, s.rfind(_str_arg(sub, "lastIndexOf", 1)))


def _join(items: Any, glue: Any = "") -> str:
    glue = _str_arg(glue, "join", 1)
    if not isinstance(items, (list, tuple)):
        raise ExprRuntimeError(f"invalid argument for join (type {go_type(items)})")
    out = []
    for item in items:
        if type(item) is not str:
            raise ExprRuntimeError(f"invalid argument for join (element of type {go_type(item)})")
        out.append(item)
    return glue.join(out)


def _get(obj: Any, key: Any) -> Any:
    """expr ``get``: like ``obj[key]`` but nil instead of an error (or a zero value)."""
    if obj is None:
        return None
    if isinstance(obj, (list, tuple, str)):
        if not (type(key) is int or type(key) is float):
            return None
        index = int(key)
        if index < 0:
            index += len(obj)
        return obj[index] if 0 <= index < len(obj) else None
    if isinstance(obj, Mapping):
        try:
            return obj[key] if key in obj else None
        except TypeError:
            return None
    if type(key) is str and not key.startswith("_") and type(obj) not in _PLAIN:
        return getattr(obj, key, None)
    return None


def _map_arg(value: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ExprRuntimeError(f"cannot get {what} from {go_type(value)}")
    return value


def _list_arg(value: Any, func: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise ExprRuntimeError(f"invalid argument for {func} (type {go_type(value)})")
    return value


def _numbers(func: str, args: tuple[Any, ...]) -> list[Any]:
    """The numbers of expr's aggregate functions: arguments, or elements of array arguments."""
    out: list[Any] = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            out.extend(_numbers(func, tuple(arg)))
        elif type(arg) is int or type(arg) is float:
            out.append(arg)
        else:
            raise ExprRuntimeError(f"invalid argument for {func} (type {go_type(arg)})")
    return out


def _max(*args: Any) -> Any:
    values = _numbers("max", args)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        if v > best:
            best = v
    return best


def _min(*args: Any) -> Any:
    values = _numbers("min", args)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        if v < best:
            best = v
    return best


def _mean(*args: Any) -> float:
    values = _numbers("mean", args)
    return math.fsum(values) / len(values) if values else 0.0


def _median(*args: Any) -> float:
    values = sorted(float(v) for v in _numbers("median", args))
    n = len(values)
    if not n:
        return 0.0
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def _to_json(value: Any) -> str:
    try:
        return gojson.dumps(value, "  ")
    except ValueError as exc:
        raise ExprRuntimeError(str(exc)) from None


def _from_json(text: Any) -> Any:
    try:
        return gojson.loads(_str_arg(text, "fromJSON"))
    except ValueError as exc:
        raise ExprRuntimeError(f"invalid JSON: {exc}") from None


def _to_base64(s: Any) -> str:
    return base64.b64encode(_str_arg(s, "toBase64").encode("utf-8")).decode("ascii")


def _from_base64(s: Any) -> str:
    try:
        raw = base64.b64decode(_str_arg(s, "fromBase64"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ExprRuntimeError(f"illegal base64 data: {exc}") from None
    return raw.decode("utf-8", errors="replace")


def _duration(text: Any) -> GoDuration:
    try:
        return GoDuration(parse_duration(_str_arg(text, "duration")))
    except DurationError as exc:
        raise ExprRuntimeError(f'time: invalid duration "{text}"') from exc


_DATE_LAYOUTS = tuple(Layout(t) for t in (
    "2006-01-02", "15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00",
    "02 Jan 06 15:04 MST", "Monday, 02-Jan-06 15:04:05 MST", "Mon, 02 Jan 2006 15:04:05 MST"))


def _date(text: Any, layout: Any = None, zone: Any = None) -> GoTime:
    """expr ``date``: parse with a Go layout, or try expr's list of layouts (UTC)."""
    value = _str_arg(text, "date")
    if zone is not None and _str_arg(zone, "date", 2) not in ("UTC", ""):
        raise ExprRuntimeError(f"unknown time zone {zone}")
    if layout is not None:
        parsed = Layout(_str_arg(layout, "date", 1)).try_parse(value, ref_year=0)
        if parsed is None:
            raise ExprRuntimeError(f'parsing time "{value}" as "{layout}": cannot parse')
        return parsed
    for candidate in _DATE_LAYOUTS:
        parsed = candidate.try_parse(value, ref_year=0)
        if parsed is not None:
            return parsed
    raise ExprRuntimeError(f"invalid date {value}")


def _no_clock() -> GoTime:
    raise ExprRuntimeError("now() needs a clock: none was given to the expression engine")


def clock_functions(now: Callable[[], float] | None) -> tuple[Function, ...]:
    """``now()`` bound to an injected clock (epoch seconds, e.g. ``RuntimeOptions.now``);
    merge with ``function_set(DEFAULT_FUNCTIONS, clock_functions(clock))``. Without a clock
    (None), ``now()`` stays an error at run time."""
    if now is None:
        return (Function("now", _no_clock, 0, 0, pure=False),)

    def now_() -> GoTime:
        return GoTime.from_unix(now())
    return (Function("now", now_, 0, 0, pure=False),)


def _first(items: Any) -> Any:
    return _get(_list_arg(items, "first"), 0) if items is not None else None


def _last(items: Any) -> Any:
    return _get(_list_arg(items, "last"), -1) if items is not None else None


def _take(items: Any, n: Any) -> list[Any]:
    items = _list_arg(items, "take")
    if type(n) is not int:
        raise ExprRuntimeError(f"cannot take {go_type(n)} elements")
    return list(items[: max(n, 0)])


def _keys(m: Any) -> list[Any]:
    return list(_map_arg(m, "keys"))


def _values(m: Any) -> list[Any]:
    return list(_map_arg(m, "values").values())


def _to_pairs(m: Any) -> list[list[Any]]:
    return [[k, v] for k, v in _map_arg(m, "pairs").items()]


def _from_pairs(pairs: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for pair in _list_arg(pairs, "fromPairs"):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ExprRuntimeError(f"invalid pair {format_value(pair)}")
        try:
            out[pair[0]] = pair[1]
        except TypeError:
            raise ExprRuntimeError(f"invalid map key type {go_type(pair[0])}") from None
    return out


def _concat(*arrays: Any) -> list[Any]:
    out: list[Any] = []
    for a in arrays:
        if not isinstance(a, (list, tuple)):
            raise ExprRuntimeError(f"cannot concat {go_type(a)}")
        out.extend(a)
    return out


def _flatten(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in _list_arg(items, "flatten"):
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _uniq(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in _list_arg(items, "uniq"):
        if not any(equal(item, seen) for seen in out):
            out.append(item)
    return out


def _reverse(items: Any) -> list[Any]:
    return list(reversed(_list_arg(items, "reverse")))


def _sort(items: Any, order: Any = "asc") -> list[Any]:
    from engine.expr.predicates import sorted_values
    items = list(_list_arg(items, "sort"))
    return sorted_values(items, items, order, "sort")


def _bit(name: str, op: Callable[[int, int], int]) -> Function:
    def bit(a: Any, b: Any) -> int:
        if type(a) is not int or type(b) is not int:
            raise ExprRuntimeError(f"invalid argument for {name} (types {go_type(a)}, {go_type(b)})")
        return wrap_int(op(a, b))
    return Function(name, bit, 2, 2)


def _shift_check(b: int) -> int:
    if b < 0:
        raise ExprRuntimeError(f"invalid operation: negative shift count {b}")
    return b


def _bitnot(a: Any) -> int:
    if type(a) is not int:
        raise ExprRuntimeError(f"invalid argument for bitnot (type {go_type(a)})")
    return ~a


EXPR_BUILTINS: tuple[Function, ...] = (
    Function("len", _len, 1, 1),
    Function("lower", lambda s: _str_arg(s, "lower").lower(), 1, 1),
    Function("upper", lambda s: _str_arg(s, "upper").upper(), 1, 1),
    Function("trim", _trim, 1, 2),
    Function("trimPrefix", _trim_prefix, 1, 2),
    Function("trimSuffix", _trim_suffix, 1, 2),
    Function("int", _int, 1, 1),
    Function("float", _float, 1, 1),
    Function("string", format_value, 1, 1),
    Function("type", _type, 1, 1),
    Function("abs", _abs, 1, 1),
    Function("ceil", _rounder("ceil", math.ceil), 1, 1),
    Function("floor", _rounder("floor", math.floor), 1, 1),
    Function("round", _rounder("round", _go_round), 1, 1),
    Function("split", _split, 2, 3),
    Function("splitAfter", _split_after, 2, 3),
    Function("replace", _replace, 3, 3),
    Function("repeat", _repeat, 2, 2),
    Function("join", _join, 1, 2),
    Function("indexOf", _index_of, 2, 2),
    Function("lastIndexOf", _last_index_of, 2, 2),
    Function("hasPrefix", lambda s, p: _str_arg(s, "hasPrefix").startswith(_str_arg(p, "hasPrefix", 1)), 2, 2),
    Function("hasSuffix", lambda s, p: _str_arg(s, "hasSuffix").endswith(_str_arg(p, "hasSuffix", 1)), 2, 2),
    Function("max", _max, 1, None),
    Function("min", _min, 1, None),
    Function("mean", _mean, 1, None),
    Function("median", _median, 1, None),
    Function("toJSON", _to_json, 1, 1),
    Function("fromJSON", _from_json, 1, 1),
    Function("toBase64", _to_base64, 1, 1),
    Function("fromBase64", _from_base64, 1, 1),
    Function("duration", _duration, 1, 1),
    Function("date", _date, 1, 3),
    Function("now", _no_clock, 0, 0, pure=False),
    Function("first", _first, 1, 1),
    Function("last", _last, 1, 1),
    Function("get", _get, 2, 2),
    Function("take", _take, 2, 2),
    Function("keys", _keys, 1, 1),
    Function("values", _values, 1, 1),
    Function("toPairs", _to_pairs, 1, 1),
    Function("fromPairs", _from_pairs, 1, 1),
    Function("concat", _concat, 1, None),
    Function("flatten", _flatten, 1, 1),
    Function("uniq", _uniq, 1, 1),
    Function("reverse", _reverse, 1, 1),
    Function("sort", _sort, 1, 2),
    _bit("bitand", lambda a, b: a & b),
    _bit("bitor", lambda a, b: a | b),
    _bit("bitxor", lambda a, b: a ^ b),
    _bit("bitnand", lambda a, b: a & ~b),
    _bit("bitshl", lambda a, b: a << _shift_check(b) if b < 64 else 0),
    _bit("bitshr", lambda a, b: a >> _shift_check(b) if b < 64 else (-1 if a < 0 else 0)),
    _bit("bitushr", lambda a, b: ((a & 0xFFFF_FFFF_FFFF_FFFF) >> _shift_check(b)) if b < 64 else 0),
    Function("bitnot", _bitnot, 1, 1),
)

# Every builtin of expr v1.17; those not implemented above are compile errors for now.
EXPR_BUILTIN_NAMES = frozenset("""
all none any one filter map find findIndex findLast findLastIndex count sum groupBy sortBy
reduce len type abs ceil floor round int float string trim trimPrefix trimSuffix upper lower
split splitAfter replace repeat join indexOf lastIndexOf hasPrefix hasSuffix max min mean
median toJSON fromJSON toBase64 fromBase64 now duration date timezone first last get take
keys values toPairs fromPairs reverse uniq concat flatten sort bitand bitor bitxor bitnand
bitnot bitshl bitshr bitushr""".split())


# --- CrowdSec helpers (pkg/exprhelpers) ------------------------------------------------

def go_parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go ``net.ParseIP``: IPv4-mapped IPv6 counts as IPv4; zones are rejected."""
    if not isinstance(text, str) or "%" in text:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _ip_in_range(ip: Any, cidr: Any) -> bool:
    addr = go_parse_ip(_str_arg(ip, "IpInRange"))
    text = _str_arg(cidr, "IpInRange", 1)
    if addr is None or "/" not in text or "%" in text:
        return False
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return addr.version == net.version and addr in net


def _is_ipv4(ip: Any) -> bool:
    addr = go_parse_ip(_str_arg(ip, "IsIPV4"))
    return addr is not None and addr.version == 4


def _is_ipv6(ip: Any) -> bool:
    addr = go_parse_ip(_str_arg(ip, "IsIPV6"))
    return addr is not None and addr.version == 6


def _atof(text: Any) -> float:
    """CrowdSec ``Atof``: ParseFloat, 0 on a syntax error (Go logs a warning)."""
    try:
        return parse_go_float(_str_arg(text, "Atof"))
    except ValueError:
        return 0.0


def _sprintf(fmt: Any, *args: Any) -> str:
    return go_sprintf(_str_arg(fmt, "Sprintf"), args)


CROWDSEC_HELPERS: tuple[Function, ...] = (
    Function("Upper", lambda s: _str_arg(s, "Upper").upper(), 1, 1),
    Function("Lower", lambda s: _str_arg(s, "Lower").lower(), 1, 1),
    Function("TrimSpace", lambda s: _str_arg(s, "TrimSpace").strip(_GO_SPACE), 1, 1),
    Function("IpInRange", _ip_in_range, 2, 2),
    Function("IsIPV4", _is_ipv4, 1, 1),
    Function("IsIPV6", _is_ipv6, 1, 1),
    Function("Atof", _atof, 1, 1),
    Function("Sprintf", _sprintf, 1, None),
)

# Every helper of CrowdSec's exprhelpers (expr_lib.go); those not implemented above are
# compile errors that say so.
CROWDSEC_HELPER_NAMES = frozenset("""
CrowdsecCTI Flatten Distinct FlattenDistinct Distance GetFromStash Atof JsonExtract
JsonExtractUnescape JsonExtractLib JsonExtractSlice JsonExtractObject ToJsonString File
RegexpInFile FileMap LookupFile MatchKnownBot Upper Lower IpInRange TimeNow ParseUri
ParseQuery ExtractQueryParam PathUnescape QueryUnescape PathEscape QueryEscape
XMLGetAttributeValue XMLGetNodeValue IpToRange IsIPV6 IsIPV4 IsIP LookupHost
GetDecisionsCount GetActiveDecisionsCount GetActiveDecisionsTimeLeft GetDecisionsSinceCount
Sprintf ParseUnix SetInStash Fields Index IndexAny Join Split SplitAfter SplitAfterN SplitN
Replace ReplaceAll Trim TrimLeft TrimRight TrimSpace TrimPrefix TrimSuffix Get ToString Match
KeyExists LogInfo B64Decode UnmarshalJSON ParseKV ParseKVLax Hostname FloatApproxEqual
LibInjectionIsSQLI LibInjectionIsXSS GeoIPEnrich GeoIPASNEnrich GeoIPRangeEnrich IPToCountry
JA4H AverageInterval MedianInterval HTTPGet HTTPHead HTTPPost HTTPRequest""".split())

DEFAULT_FUNCTIONS: Mapping[str, Function] = function_set(EXPR_BUILTINS, CROWDSEC_HELPERS)
