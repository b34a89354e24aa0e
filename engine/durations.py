"""Go ``time.Duration`` text: parse (``time.ParseDuration``) and format (``Duration.String``).

Durations are integer nanoseconds, as in Go, so ``"3h59m59.580483985s"`` round-trips
exactly. Used by scenarios (``leakspeed``, ``blackhole``), alerts and the LAPI.
"""
from __future__ import annotations

import re

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_MAX = (1 << 63) - 1

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # µ MICRO SIGN
    "\u03bcs": MICROSECOND,  # μ GREEK SMALL LETTER MU
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
DAY = 24 * HOUR

_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


class DurationError(ValueError):
    """Text that Go's ``time.ParseDuration`` would reject."""


def parse_duration(text: str, *, days: bool = False) -> int:
    """Nanoseconds of a Go duration string such as ``"1h30m"`` or ``"-85.906523ms"``.
    ``days=True`` also accepts CrowdSec's ``d`` unit (decision durations, ``7d``)."""
    if not isinstance(text, str):
        raise DurationError(f"invalid duration {text!r}")
    s = text
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise DurationError(f"invalid duration {text!r}")
    total = 0
    pos = 0
    while pos < len(s):
        m = _COMPONENT.match(s, pos)
        assert m is not None  # the pattern can match the empty string
        whole, frac, unit_name = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            raise DurationError(f"invalid duration {text!r}")
        if not unit_name:
            raise DurationError(f"missing unit in duration {text!r}")
        unit = DAY if days and unit_name == "d" else _UNITS.get(unit_name)
        if unit is None:
            raise DurationError(f"unknown unit {unit_name!r} in duration {text!r}")
        value = int(whole) if whole else 0
        if value > _MAX // unit:
            raise DurationError(f"invalid duration {text!r}")
        value *= unit
        if frac:
            # Go keeps at most the digits that fit an int64, then scales through float64.
            digits = frac
            f, scale = 0, 1.0
            for ch in digits:
                if f > _MAX // 10:
                    break
                f = f * 10 + int(ch)
                scale *= 10
            value += int(float(f) * (float(unit) / scale))
            if value > _MAX:
                raise DurationError(f"invalid duration {text!r}")
        total += value
        if total > _MAX:
            raise DurationError(f"invalid duration {text!r}")
        pos = m.end()
    return -total if neg else total


def format_duration(ns: int) -> str:
    """Go's ``Duration.String()``: ``"1h30m0s"``, ``"1.5s"``, ``"85.906523ms"``, ``"0s"``."""
    ns = int(ns)
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u < MICROSECOND:
            body = f"{u}ns"
        elif u < MILLISECOND:
            body = _frac(u, 3) + "\u00b5s"
        else:
            body = _frac(u, 6) + "ms"
    else:
        secs_text = _frac(u % MINUTE, 9) + "s"
        u //= MINUTE
        if u:
            body = f"{u % 60}m" + secs_text
            u //= 60
            if u:
                body = f"{u}h" + body
        else:
            body = secs_text
    return "-" + body if neg else body


def _frac(value: int, prec: int) -> str:
    """``value / 10**prec`` printed with trailing fractional zeros removed (Go's fmtFrac)."""
    whole, frac = divmod(value, 10**prec)
    if not frac:
        return str(whole)
    digits = f"{frac:0{prec}d}".rstrip("0")
    return f"{whole}.{digits}"
