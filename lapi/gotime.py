"""Times and durations as CrowdSec (Go) writes and reads them.

* :func:`parse_time` — the timestamps real clients send: RFC 3339 with 0-9 fractional digits
  (``2026-11-22T03:55:08.19330076Z``), with ``Z`` or an offset, and Go's default layout
  (``2026-11-22 03:26:03 +0000 UTC``). Fractions beyond microseconds are truncated.
* :func:`parse_duration` / :func:`format_duration` — Go durations as timedeltas, through
  :mod:`engine.durations` (plus CrowdSec's ``d`` unit for decisions).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from engine.durations import DurationError
from engine.durations import format_duration as format_duration_ns
from engine.durations import parse_duration as parse_go_duration

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s*(?:(Z|z)|([+-])(\d{2}):?(\d{2}))?(?:\s+[A-Za-z]{1,6})?"
)

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
    """Nanoseconds of a Go duration string (CrowdSec's ``d`` unit allowed)."""
    if not isinstance(value, str):
        raise TimeFormatError(f"invalid duration {value!r}: expected a string")
    try:
        return parse_go_duration(value.strip(), days=True)
    except DurationError as exc:
        raise TimeFormatError(str(exc)) from None


def parse_duration(value: object) -> timedelta:
    """A Go duration string as a timedelta (sub-microsecond digits are truncated)."""
    ns = parse_duration_ns(value)
    micro = abs(ns) // 1000
    return timedelta(microseconds=micro if ns >= 0 else -micro)


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
