"""Functions callable from expressions: expr's builtins and CrowdSec's helpers.

A :class:`Function` declares its arity so calls are checked when an expression is compiled.
The sets are immutable mappings; a later issue adds helpers by defining them in a module and
merging them into :data:`DEFAULT_FUNCTIONS` (or by passing its own mapping to
:func:`engine.expr.compile_expr`).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.expr.errors import ExprRuntimeError
from engine.expr.values import format_value, go_sprintf, go_type


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


def function_set(*groups: Iterable[Function]) -> Mapping[str, Function]:
    """An immutable name → Function mapping; later groups override earlier ones."""
    table: dict[str, Function] = {}
    for group in groups:
        for func in group:
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


EXPR_BUILTINS: tuple[Function, ...] = (
    Function("len", _len, 1, 1),
    Function("lower", lambda s: _str_arg(s, "lower").lower(), 1, 1),
    Function("upper", lambda s: _str_arg(s, "upper").upper(), 1, 1),
    Function("trim", _trim, 1, 2),
    Function("int", _int, 1, 1),
    Function("float", _float, 1, 1),
    Function("string", format_value, 1, 1),
)

# Every builtin of expr v1.17; those not implemented above are compile errors for now.
EXPR_BUILTIN_NAMES = frozenset("""
all none any one filter map find findIndex findLast findLastIndex count sum groupBy sortBy
reduce len type abs ceil floor round int float string trim trimPrefix trimSuffix upper lower
split splitAfter replace repeat join indexOf lastIndexOf hasPrefix hasSuffix max min mean
median toJSON fromJSON toBase64 fromBase64 now duration date timezone first last get take
keys values toPairs fromPairs reverse uniq concat flatten sort bitnot""".split())


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
