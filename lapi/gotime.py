"""Times and durations as CrowdSec (Go) writes and reads them.

* :func:`parse_time` — the timestamps real clients send: RFC 3339 with 0-9 fractional digits
  (``2026-11-22T03:55:08.19330076Z``), with ``Z`` or an offset, and Go's default layout
  (``2026-11-22 03:26:03 +0000 UTC``). Fractions beyond microseconds are truncated.
* :func:`parse_duration` — Go's ``time.ParseDuration`` (``4h``, ``1h30m``, ``-1.5s``, ``300ms``)
  plus CrowdSec's ``d`` (days) suffix.
* :func:`format_duration` — Go's ``time.Duration.String()`` (``3h59m58.123s``, ``-992.8ms``).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s*(?:(Z|z)|([+-])(\d{2}):?(\d{2}))?(?:\s+[A-Za-z]{1,6})?"
)

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # µ (micro sign)
    "\u03bcs": 1_000,  # μ (greek mu)
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h|d)")

#: Go's time.Duration is an int64 of nanoseconds
_MAX_NS = 2**63 - 1


class TimeFormatError(ValueError):
    """A time or duration that cannot be read; the message says which and why."""


def parse_time(value: object) -> datetime:
    """An aware UTC datetime from a client timestamp (string, or epoch seconds)."""
    if isinstance(value, bool):
        raise TimeFormatError(f"invalid time {value!r}")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise TimeFormatError(f"invalid epoch time {value!r}") from None
    if not isinstance(value, str):
        raise TimeFormatError(f"invalid time {value!r}: expected a string")
    m = _TIME.fullmatch(value.strip())
    if not m:
        raise TimeFormatError(f"invalid time {value!r}: expected RFC 3339")
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    micro = int((m.group(7) or "").ljust(6, "0")[:6])
    if m.group(9):
        delta = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        tz = timezone(-delta if m.group(9) == "-" else delta)
    else:
        tz = UTC
    try:
        # Go accepts second 60 only in leap-second contexts; clamp like most parsers do.
        if second == 60:
            second = 59
        parsed = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise TimeFormatError(f"invalid time {value!r}: {exc}") from None


def parse_duration_ns(value: object) -> int:
    """Nanoseconds of a Go duration string."""
    if not isinstance(value, str):
        raise TimeFormatError(f"invalid duration {value!r}: expected a string")
    text = value.strip()
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise TimeFormatError(f"invalid duration {value!r}")
    total = Fraction(0)
    pos = 0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += Fraction(m.group(1)) * _UNIT_NS[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise TimeFormatError(f"invalid duration {value!r}")
    ns = int(total)  # truncates toward zero, like Go
    if ns > _MAX_NS:
        raise TimeFormatError(f"invalid duration {value!r}: out of range")
    return sign * ns


def parse_duration(value: object) -> timedelta:
    """A Go duration string as a timedelta (sub-microsecond digits are truncated)."""
    ns = parse_duration_ns(value)
    micro = abs(ns) // 1000
    return timedelta(microseconds=micro if ns >= 0 else -micro)


def _frac(value: int, digits: int) -> str:
    """``value / 10**digits`` with trailing zeros (and a bare dot) removed."""
    whole, rest = divmod(value, 10**digits)
    if not rest:
        return str(whole)
    return f"{whole}.{rest:0{digits}d}".rstrip("0")


def format_duration_ns(ns: int) -> str:
    """Go's ``time.Duration.String()`` of ``ns`` nanoseconds."""
    ns = int(ns)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_frac(u, 3)}\u00b5s"
    if u < 1_000_000_000:
        return f"{sign}{_frac(u, 6)}ms"
    minutes, sec_ns = divmod(u, 60 * 1_000_000_000)
    out = f"{_frac(sec_ns, 9)}s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        out = f"{minutes}m{out}"
        if hours:
            out = f"{hours}h{out}"
    return sign + out


def format_duration(delta: timedelta) -> str:
    """Go's duration string of a timedelta (microsecond precision)."""
    return format_duration_ns((delta // timedelta(microseconds=1)) * 1000)


def format_go_time(moment: datetime) -> str:
    """Go's default ``time.Time.String()`` layout for a UTC time, as 1.4.6 answers
    ``start_at``/``stop_at`` (``2026-11-22 03:26:03 +0000 UTC``)."""
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        base += "." + f"{moment.microsecond:06d}".rstrip("0")
    return base + " +0000 UTC"


def format_rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, fractional seconds only when non-zero (Go's RFC3339Nano
    with trailing zeros trimmed)."""
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        base += "." + f"{moment.microsecond:06d}".rstrip("0")
    return base + "Z"
