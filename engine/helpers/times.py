"""Time helpers. None reads the clock: ``TimeNow`` asks :attr:`RuntimeOptions.now`."""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from engine.expr.errors import ExprRuntimeError
from engine.expr.functions import Function
from engine.gotime import GoDuration, GoTime
from engine.helpers._args import string

_PARSE_INT = re.compile(r"[+-]?[0-9]+\Z")
_INT64_MAX = (1 << 63) - 1


def parse_unix(value: Any) -> str:
    """``ParseUnix("1672531200.123")`` → ``"2023-01-01T00:00:00Z"`` (the integer part, shown
    in UTC — CrowdSec uses the local zone, UTC under hubtest); ``""`` when it is not a positive
    integer."""
    head = string(value, "ParseUnix").split(".")[0]
    if not _PARSE_INT.match(head):
        return ""
    seconds = int(head)
    if seconds <= 0 or seconds > _INT64_MAX:
        return ""
    return GoTime.from_unix(seconds).marshal_text()


def _times(values: Any, func: str) -> list[int]:
    if not isinstance(values, (list, tuple)):
        raise ExprRuntimeError(f"{func} expects a slice of times")
    out = []
    for i, item in enumerate(values):
        if type(item) is not GoTime:
            raise ExprRuntimeError(f"element at index {i} is not a time.Time")
        out.append(item.unix_ns)
    if len(out) < 2:
        raise ExprRuntimeError(f"{func}: need at least two times")
    out.sort()
    return out


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def average_interval(values: Any) -> GoDuration:
    """Mean gap between the (sorted) times, truncated to the nanosecond."""
    ns = _times(values, "AverageInterval")
    return GoDuration(_trunc_div(ns[-1] - ns[0], len(ns) - 1))


def median_interval(values: Any) -> GoDuration:
    """Median gap between the (sorted) times; the mean of the two middle gaps when even."""
    ns = _times(values, "MedianInterval")
    gaps = sorted(b - a for a, b in zip(ns, ns[1:]))
    n = len(gaps)
    if n % 2:
        return GoDuration(gaps[n // 2])
    return GoDuration(_trunc_div(gaps[n // 2 - 1] + gaps[n // 2], 2))


HELPERS: tuple[Function, ...] = (
    Function("ParseUnix", parse_unix, 1, 1),
    Function("AverageInterval", average_interval, 1, 1),
    Function("MedianInterval", median_interval, 1, 1),
)


def time_now_helper(now: Callable[[], float] | None) -> Function:
    """``TimeNow()``: the injected clock as RFC 3339 UTC seconds; an error without one."""
    def time_now() -> str:
        if now is None:
            raise ExprRuntimeError("TimeNow: no clock configured (RuntimeOptions.now is None)")
        seconds = math.floor(now())
        return GoTime.from_unix(int(seconds)).marshal_text()
    return Function("TimeNow", time_now, 0, 0, pure=False)
