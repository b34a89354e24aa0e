"""CrowdSec's expr helpers (``pkg/exprhelpers``) beyond the few in :mod:`engine.expr.functions`.

Split by concept: :mod:`.datafiles` (File, RegexpInFile, FileMap, LookupFile), :mod:`.stash`
(GetFromStash, SetInStash), :mod:`.strings` (Go ``strings``, URL escaping, Match, B64Decode),
:mod:`.jsonkv` (JSON, ParseKV), :mod:`.xmlpath` (XML), :mod:`.ip`, :mod:`.times`, :mod:`.misc`.

Helpers that need state (data files, stash, clock, host name, XML cache) are bound to one
:class:`engine.runtime.Runtime`; :func:`runtime_functions` builds that runtime's function set.
Nothing here is global or mutable.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.expr import DEFAULT_FUNCTIONS, ExprRuntimeError, Function, function_set
from engine.helpers import ip, jsonkv, misc, strings, times, xmlpath
from engine.helpers._args import string

if TYPE_CHECKING:
    from engine.runtime import Runtime

#: helpers that depend only on their arguments
STATELESS_HELPERS: tuple[Function, ...] = (
    strings.HELPERS + jsonkv.HELPERS + ip.HELPERS + times.HELPERS + misc.HELPERS)


def _stash_helpers(runtime: Runtime) -> tuple[Function, ...]:
    stash = runtime.stash

    def now_ns(func: str) -> int:
        t = runtime.event_time_ns
        if t is None:
            raise ExprRuntimeError(f"{func}: no current event time (Runtime.event_time_ns is not set)")
        return t

    def get_from_stash(name: Any, key: Any) -> str:
        name, key = string(name, "GetFromStash"), string(key, "GetFromStash", 1)
        return stash.get(name, key, now_ns=now_ns("GetFromStash"))

    def set_in_stash(name: Any, key: Any, value: Any, expiration: Any = None) -> None:
        name, key = string(name, "SetInStash"), string(key, "SetInStash", 1)
        value = string(value, "SetInStash", 2)
        ttl: int | None
        if expiration is None:
            ttl = None
        elif type(expiration) is int:
            ttl = expiration
        elif hasattr(expiration, "ns") and type(getattr(expiration, "ns")) is int:
            ttl = expiration.ns
        else:
            raise ExprRuntimeError("SetInStash: argument 4 must be a duration or nil")
        stash.set(name, key, value, now_ns=now_ns("SetInStash"), ttl_ns=ttl)
        return None

    return (
        Function("GetFromStash", get_from_stash, 2, 2, pure=False),
        Function("SetInStash", set_in_stash, 3, 4, pure=False),
    )


def _clock_builtins(now: Any) -> tuple[Function, ...]:
    """expr's ``now()`` bound to the injected clock, when the expr package offers it."""
    try:
        from engine.expr.functions import clock_functions
    except ImportError:  # pragma: no cover - older expr package
        return ()
    return tuple(clock_functions(now))


def runtime_functions(runtime: Runtime) -> Mapping[str, Function]:
    """expr builtins (``now()`` on the injected clock), every helper, and the helpers bound to
    ``runtime``."""
    options = runtime.options
    return function_set(
        DEFAULT_FUNCTIONS.values(),
        _clock_builtins(options.now),
        misc.UNAVAILABLE,
        STATELESS_HELPERS,
        xmlpath.helpers(xmlpath.XMLCache()),
        runtime.data.helpers(),
        _stash_helpers(runtime),
        (times.time_now_helper(options.now), misc.hostname_helper(options.hostname)),
    )


__all__ = ["STATELESS_HELPERS", "runtime_functions"]
