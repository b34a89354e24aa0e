"""Collection helpers, ``FloatApproxEqual``, ``LogInfo``, ``Hostname``, and the helpers that
are deliberately unavailable here (they raise a clear error when called)."""
from __future__ import annotations

import logging
from typing import Any

from engine.expr.errors import ExprRuntimeError
from engine.expr.functions import Function
from engine.expr.values import go_sprintf
from engine.helpers._args import number, string

log = logging.getLogger("engine.helpers")


def _flatten(value: Any, out: list[Any]) -> list[Any]:
    if isinstance(value, (list, tuple)):
        for item in value:
            _flatten(item, out)
    else:
        out.append(value)
    return out


def _hash_key(value: Any) -> Any:
    # Go map[any]bool: 1 (int) and 1.0 (float64) and true are different keys
    try:
        hash(value)
    except TypeError:
        raise ExprRuntimeError(f"runtime error: hash of unhashable type {type(value).__name__}") from None
    return (type(value), value)


def distinct(*values: Any) -> list[Any] | None:
    """Distinct items of a list, in first-seen order; nil when the argument is not a list."""
    if not isinstance(values[0], (list, tuple)):
        return None
    seen: set[Any] = set()
    out = []
    for item in values[0]:
        key = _hash_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def flatten(*values: Any) -> list[Any]:
    """All arguments, with nested lists spliced in."""
    return _flatten(list(values), [])


def flatten_distinct(*values: Any) -> list[Any]:
    return distinct(flatten(*values)) or []


def float_approx_equal(a: Any, b: Any) -> bool:
    """``|a - b| < 1e-6``."""
    return abs(number(a, "FloatApproxEqual", 0) - number(b, "FloatApproxEqual", 1)) < 1e-6


def log_info(fmt: Any, *args: Any) -> bool:
    log.info(go_sprintf(string(fmt, "LogInfo"), args))
    return True


HELPERS: tuple[Function, ...] = (
    Function("Distinct", distinct, 1, None),
    Function("Flatten", flatten, 0, None),
    Function("FlattenDistinct", flatten_distinct, 0, None),
    Function("FloatApproxEqual", float_approx_equal, 2, 2),
    Function("LogInfo", log_info, 1, None, pure=False),
)


def hostname_helper(hostname: str | None) -> Function:
    def get_hostname() -> str:
        if hostname is None:
            raise ExprRuntimeError("Hostname: no host name configured (RuntimeOptions.hostname is None)")
        return hostname
    return Function("Hostname", get_hostname, 0, 0, pure=False)


def _unavailable(name: str, min_args: int, max_args: int | None, why: str) -> Function:
    def fail(*args: Any) -> Any:
        raise ExprRuntimeError(f"{name}: {why}")
    return Function(name, fail, min_args, max_args, pure=False)


_LAPI = "LAPI-side helper (profiles), not available to parsers and scenarios"
_NETWORK = "not supported: the engine does no network requests"
_GEOIP = "not supported yet: no GeoLite2 database reader in the engine"

#: CrowdSec helpers that are deliberately left out; calling one is a runtime error that says why.
UNAVAILABLE: tuple[Function, ...] = (
    _unavailable("GetDecisionsCount", 1, 1, _LAPI),
    _unavailable("GetDecisionsSinceCount", 2, 2, _LAPI),
    _unavailable("GetActiveDecisionsCount", 1, 1, _LAPI),
    _unavailable("GetActiveDecisionsTimeLeft", 1, 1, _LAPI),
    _unavailable("LibInjectionIsSQLI", 1, 1, "not supported yet: no maintained libinjection binding"),
    _unavailable("LibInjectionIsXSS", 1, 1, "not supported yet: no maintained libinjection binding"),
    _unavailable("GeoIPEnrich", 1, 1, _GEOIP),
    _unavailable("GeoIPASNEnrich", 1, 1, _GEOIP),
    _unavailable("GeoIPRangeEnrich", 1, 1, _GEOIP),
    _unavailable("IPToCountry", 1, 1, _GEOIP),
    _unavailable("LookupHost", 1, 1, _NETWORK),
    _unavailable("HTTPGet", 1, 1, _NETWORK),
    _unavailable("HTTPHead", 1, 1, _NETWORK),
    _unavailable("HTTPPost", 3, 3, _NETWORK),
    _unavailable("HTTPRequest", 4, 4, _NETWORK),
    _unavailable("CrowdsecCTI", 1, 1, _NETWORK),
    _unavailable("JA4H", 1, 1, "AppSec-only helper (needs an HTTP request object)"),
    _unavailable("MatchKnownBot", 3, None, "not supported yet: 'bots' data files are not loaded"),
)

__all__ = ["HELPERS", "UNAVAILABLE", "hostname_helper"]
