"""Go ``time.Time`` as the content sees it: an instant in nanoseconds plus a fixed UTC offset.

Covers what events and alerts need: ``MarshalText`` (RFC 3339 with nanoseconds, ``Z`` for
UTC), ``String()`` (``2006-01-02 15:04:05.999999999 -0700 MST``), and ``time.Parse`` for the
layouts CrowdSec's date parser tries. No function here reads the clock: a year-less date
takes its year from an explicit reference time.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from engine.durations import format_duration

_NS = 1_000_000_000
_DAYS_0001_TO_1970 = 719162  # date(1970, 1, 1).toordinal() - date(1, 1, 1).toordinal()
_ZERO_UNIX = -_DAYS_0001_TO_1970 * 86400  # Go's zero Time: 0001-01-01T00:00:00Z

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class TimeParseError(ValueError):
    """A value that does not match a Go layout."""


@dataclass(frozen=True, slots=True)
class GoTime:
    """An instant (``unix_ns``) shown in a fixed zone (``offset`` seconds east of UTC).

    Methods use Go's names so that expressions can call them (``evt.Time.Unix()``).
    """

    unix_ns: int
    offset: int = 0

    @classmethod
    def from_unix(cls, seconds: float, offset: int = 0) -> GoTime:
        """From epoch seconds; float input is rounded to the microsecond."""
        if isinstance(seconds, int):
            return cls(seconds * _NS, offset)
        return cls(round(seconds * 1_000_000) * 1000, offset)

    @classmethod
    def zero(cls) -> GoTime:
        """Go's zero ``time.Time`` (year 1, UTC)."""
        return cls(_ZERO_UNIX * _NS, 0)

    def IsZero(self) -> bool:  # noqa: N802 - Go method name
        return self.unix_ns == _ZERO_UNIX * _NS

    def Unix(self) -> int:  # noqa: N802
        return self.unix_ns // _NS

    def UnixNano(self) -> int:  # noqa: N802
        return self.unix_ns

    def year(self) -> int:
        return self.fields()[0]

    def timestamp(self) -> float:
        """Epoch seconds as a float."""
        return self.unix_ns / _NS

    def fields(self) -> tuple[int, int, int, int, int, int, int]:
        """(year, month, day, hour, minute, second, nanosecond) in this time's zone."""
        local_ns = self.unix_ns + self.offset * _NS
        secs, nsec = divmod(local_ns, _NS)
        days, rem = divmod(secs, 86400)
        year, month, day = _civil_from_days(days)
        hour, rem = divmod(rem, 3600)
        minute, second = divmod(rem, 60)
        return year, month, day, hour, minute, second, nsec

    def marshal_text(self) -> str:
        """Go ``MarshalText``: RFC 3339 with trailing-zero-trimmed nanoseconds."""
        year, month, day, hour, minute, second, nsec = self.fields()
        frac = f".{nsec:09d}".rstrip("0") if nsec else ""
        return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{frac}{self._zone(':', 'Z')}"

    def String(self) -> str:  # noqa: N802
        """Go ``Time.String()``, e.g. ``2026-11-22 04:07:12 +0000 UTC``."""
        year, month, day, hour, minute, second, nsec = self.fields()
        frac = f".{nsec:09d}".rstrip("0") if nsec else ""
        num = self._zone("", None)
        name = "UTC" if self.offset == 0 else num
        return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}{frac} {num} {name}"

    def _zone(self, sep: str, utc: str | None) -> str:
        if self.offset == 0 and utc is not None:
            return utc
        sign = "-" if self.offset < 0 else "+"
        hours, minutes = divmod(abs(self.offset) // 60, 60)
        return f"{sign}{hours:02d}{sep}{minutes:02d}"

    def __str__(self) -> str:
        return self.String()

    # -- Go accessors (what expressions call: ``evt.Time.Hour()``) ----------------------
    def Year(self) -> int:  # noqa: N802
        return self.fields()[0]

    def Month(self) -> Month:  # noqa: N802
        return Month(self.fields()[1])

    def Day(self) -> int:  # noqa: N802
        return self.fields()[2]

    def Hour(self) -> int:  # noqa: N802
        return self.fields()[3]

    def Minute(self) -> int:  # noqa: N802
        return self.fields()[4]

    def Second(self) -> int:  # noqa: N802
        return self.fields()[5]

    def Nanosecond(self) -> int:  # noqa: N802
        return self.fields()[6]

    def Weekday(self) -> Weekday:  # noqa: N802
        days = (self.unix_ns + self.offset * _NS) // _NS // 86400
        return Weekday((days + 4) % 7)  # 1970-01-01 was a Thursday (Sunday = 0)

    def YearDay(self) -> int:  # noqa: N802
        year, month, day = self.fields()[:3]
        return _days_from_civil(year, month, day) - _days_from_civil(year, 1, 1) + 1

    def UnixMilli(self) -> int:  # noqa: N802
        return self.unix_ns // 1_000_000

    def UTC(self) -> GoTime:  # noqa: N802
        return GoTime(self.unix_ns, 0)

    def Add(self, d: GoDuration) -> GoTime:  # noqa: N802
        return GoTime(self.unix_ns + _duration_ns(d), self.offset)

    def Sub(self, other: GoTime) -> GoDuration:  # noqa: N802
        return GoDuration(_clamp(self.unix_ns - other.unix_ns))

    def After(self, other: GoTime) -> bool:  # noqa: N802
        return self.unix_ns > other.unix_ns

    def Before(self, other: GoTime) -> bool:  # noqa: N802
        return self.unix_ns < other.unix_ns

    def Equal(self, other: GoTime) -> bool:  # noqa: N802
        return self.unix_ns == other.unix_ns


_MIN_NS, _MAX_NS = -(1 << 63), (1 << 63) - 1


def _clamp(ns: int) -> int:
    """Go's ``Time.Sub`` saturates at the int64 bounds."""
    return _MAX_NS if ns > _MAX_NS else _MIN_NS if ns < _MIN_NS else ns


def _duration_ns(d: object) -> int:
    if type(d) is GoDuration:
        return d.ns
    if type(d) is int:
        return d
    raise TypeError(f"expected time.Duration, not {type(d).__name__}")


@dataclass(frozen=True, slots=True, order=True)
class GoDuration:
    """Go ``time.Duration``: integer nanoseconds, a type of its own (``duration("1h") == 3600``
    is false in expr; ``duration("1h") > duration("30m")`` is true)."""

    ns: int

    def Nanoseconds(self) -> int:  # noqa: N802
        return self.ns

    def Microseconds(self) -> int:  # noqa: N802
        return int(self.ns / 1000)

    def Milliseconds(self) -> int:  # noqa: N802
        return int(self.ns / 1_000_000)

    def Seconds(self) -> float:  # noqa: N802
        sec, nsec = divmod(abs(self.ns), _NS)
        value = sec + nsec / 1e9
        return -value if self.ns < 0 else value

    def Minutes(self) -> float:  # noqa: N802
        m, nsec = divmod(abs(self.ns), 60 * _NS)
        value = m + nsec / (60e9)
        return -value if self.ns < 0 else value

    def Hours(self) -> float:  # noqa: N802
        h, nsec = divmod(abs(self.ns), 3600 * _NS)
        value = h + nsec / (3600e9)
        return -value if self.ns < 0 else value

    def Abs(self) -> GoDuration:  # noqa: N802
        return GoDuration(_MAX_NS if self.ns == _MIN_NS else abs(self.ns))

    def String(self) -> str:  # noqa: N802
        return format_duration(self.ns)

    def __str__(self) -> str:
        return self.String()


class Weekday(int):
    """Go ``time.Weekday`` (Sunday = 0); ``String()`` gives the English name."""

    __slots__ = ()

    def String(self) -> str:  # noqa: N802
        return _DAYS[(int(self) + 6) % 7] if 0 <= self <= 6 else f"%!Weekday({int(self)})"

    def __str__(self) -> str:
        return self.String()

    __repr__ = int.__repr__


class Month(int):
    """Go ``time.Month`` (January = 1); ``String()`` gives the English name."""

    __slots__ = ()

    def String(self) -> str:  # noqa: N802
        return _MONTHS[self - 1] if 1 <= self <= 12 else f"%!Month({int(self)})"

    def __str__(self) -> str:
        return self.String()

    __repr__ = int.__repr__


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, including 0)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def make_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
              nsec: int = 0, offset: int = 0) -> GoTime:
    """The instant of a wall-clock reading in a fixed zone (Go's ``time.Date``, normalizing)."""
    days = _days_from_civil(year, month, day)
    local = ((days * 24 + hour) * 60 + minute) * 60 + second
    return GoTime((local - offset) * _NS + nsec, offset)


def add_years(t: GoTime, years: int) -> GoTime:
    """Go ``AddDate(years, 0, 0)``: Feb 29 of a non-leap target year becomes Mar 1."""
    year, month, day, hour, minute, second, nsec = t.fields()
    return make_time(year + years, month, day, hour, minute, second, nsec, t.offset)


# --- Go layouts -------------------------------------------------------------------------

def _names(table: tuple[str, ...]) -> str:
    return "|".join(table)


_MONTH_ABBR = tuple(m[:3] for m in _MONTHS)
_MONTH_NUMBER = {m[:3].lower(): i for i, m in enumerate(_MONTHS, 1)}
_DAY_ABBR = tuple(d[:3] for d in _DAYS)

# Go layout chunks (longest first) and the regex each one parses; the value of a field is
# validated after the match. Quantifiers are possessive, as Go's parser never backtracks.
_CHUNKS: tuple[tuple[str, str], ...] = (
    ("January", f"(?P<monthname>(?i:{_names(_MONTHS)}))"),
    ("Monday", f"(?i:{_names(_DAYS)})"),
    ("Jan", f"(?P<monthname>(?i:{_names(_MONTH_ABBR)}))"),
    ("Mon", f"(?i:{_names(_DAY_ABBR)})"),
    ("2006", r"(?P<year>[0-9]{4})"),
    ("Z07:00", r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})"),
    ("-07:00", r"(?P<tz>[+-][0-9]{2}:[0-9]{2})"),
    ("-0700", r"(?P<tz>[+-][0-9]{4})"),
    ("MST", r"(?:[A-Z]{3,5}|GMT[+-][0-9]{1,2})"),
    (".000000000", r"[.,](?P<frac>[0-9]{9})"),
    (".000000", r"[.,](?P<frac>[0-9]{6})"),
    (".000", r"[.,](?P<frac>[0-9]{3})"),
    (".999999999", r"(?:[.,](?P<frac>[0-9]++))?"),
    (".999999", r"(?:[.,](?P<frac>[0-9]++))?"),
    (".999", r"(?:[.,](?P<frac>[0-9]++))?"),
    ("PM", r"(?P<ampm>AM|PM)"),
    ("pm", r"(?P<ampm>am|pm)"),
    ("01", r"(?P<month>[0-9]{2})"),
    ("02", r"(?P<day>[0-9]{2})"),
    ("_2", r" ?(?P<day>[0-9]{1,2}+)"),
    ("15", r"(?P<hour>[0-9]{1,2}+)"),
    ("03", r"(?P<hour12>[0-9]{2})"),
    ("04", r"(?P<minute>[0-9]{2})"),
    ("05", r"(?P<second>[0-9]{2})(?:[.,](?P<frac>[0-9]++))?"),  # Go accepts an unlisted fraction
    ("06", r"(?P<year2>[0-9]{2})"),
    ("1", r"(?P<month>[0-9]{1,2}+)"),
    ("2", r"(?P<day>[0-9]{1,2}+)"),
    ("3", r"(?P<hour12>[0-9]{1,2}+)"),
    ("4", r"(?P<minute>[0-9]{1,2}+)"),
    ("5", r"(?P<second>[0-9]{1,2}+)(?:[.,](?P<frac>[0-9]++))?"),
)
_BARE_SECONDS = r"(?P<second>[0-9]{2})"


def _literal(text: str) -> str:
    """Go ``skip``: a run of spaces in the layout matches a run of spaces in the value."""
    out = []
    for part in re.split(r"( +)", text):
        out.append(" +" if part.startswith(" ") else re.escape(part))
    return "".join(out)


class Layout:
    """A Go reference-time layout (``"Jan _2 15:04:05"``), compiled once into a regex."""

    __slots__ = ("text", "_match")

    def __init__(self, text: str) -> None:
        self.text = text
        chunks: list[tuple[str, str | None]] = []
        literal: list[str] = []
        i = 0
        while i < len(text):
            for token, regex in _CHUNKS:
                if text.startswith(token, i) and not _inside_word(text, i, token):
                    if literal:
                        chunks.append(("".join(literal), None))
                        literal = []
                    chunks.append((token, regex))
                    i += len(token)
                    break
            else:
                literal.append(text[i])
                i += 1
        if literal:
            chunks.append(("".join(literal), None))
        parts = []
        for idx, (token, regex) in enumerate(chunks):
            if regex is None:
                parts.append(_literal(token))
            elif token in ("05", "5") and idx + 1 < len(chunks) and chunks[idx + 1][0].startswith((".0", ".9")):
                # the fraction chunk that follows takes the fraction
                parts.append(_BARE_SECONDS if token == "05" else r"(?P<second>[0-9]{1,2}+)")
            else:
                parts.append(regex)
        self._match = re.compile("".join(parts)).fullmatch

    def parse(self, value: str, *, ref_year: int) -> GoTime:
        """Go ``time.Parse`` in a UTC location; a layout without a year gives year 0, and
        then (as CrowdSec's date parser does) ``ref_year`` is added."""
        t = self.try_parse(value, ref_year=ref_year)
        if t is None:
            raise TimeParseError(f"{value!r} does not match layout {self.text!r}")
        return t

    def try_parse(self, value: str, *, ref_year: int) -> GoTime | None:
        """:meth:`parse`, with None instead of an error."""
        m = self._match(value)
        if m is None:
            return None
        groups = m.groupdict()
        year = int(groups["year"]) if groups.get("year") else 0
        if groups.get("year2"):
            year = int(groups["year2"])
            year += 1900 if year >= 69 else 2000
        if groups.get("monthname"):
            month = _MONTH_NUMBER[groups["monthname"][:3].lower()]
        else:
            month = int(groups["month"]) if groups.get("month") else 1
        day = int(groups["day"]) if groups.get("day") else 1
        hour = int(groups["hour"]) if groups.get("hour") else 0
        if groups.get("hour12"):
            hour = int(groups["hour12"])
            if hour > 12:
                return None
        ampm = (groups.get("ampm") or "").upper()
        if ampm == "PM" and hour < 12:
            hour += 12
        elif ampm == "AM" and hour == 12:
            hour = 0
        minute = int(groups["minute"]) if groups.get("minute") else 0
        second = int(groups["second"]) if groups.get("second") else 0
        nsec = int((groups["frac"] + "000000000")[:9]) if groups.get("frac") else 0
        offset = 0
        tz = groups.get("tz")
        if tz and tz != "Z":
            digits = tz[1:].replace(":", "")
            offset = int(digits[:2]) * 3600 + int(digits[2:4]) * 60
            if tz[0] == "-":
                offset = -offset
        if not (1 <= month <= 12) or hour > 23 or minute > 59 or second > 59:
            return None
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        if not (1 <= day <= (29 if (month == 2 and leap) else calendar.mdays[month])):
            return None
        t = make_time(year, month, day, hour, minute, second, nsec, offset)
        if t.IsZero():
            return None
        if year == 0:
            t = add_years(t, ref_year)
        return t


def _inside_word(text: str, i: int, token: str) -> bool:
    """Go refuses ``Jan``/``Mon`` when followed by a lower-case letter (``Janet``)."""
    if token in ("Jan", "Mon", "January", "Monday", "MST"):
        nxt = text[i + len(token) : i + len(token) + 1]
        return bool(nxt) and nxt.islower()
    return False


RFC3339 = Layout("2006-01-02T15:04:05Z07:00")


_RFC3339_FAST = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})")


def parse_rfc3339(value: str) -> GoTime:
    """Parse an RFC 3339 timestamp (fractional seconds allowed, as Go does)."""
    m = _RFC3339_FAST.fullmatch(value)
    if m is not None:
        year, month, day, hour, minute, second, frac, tz = m.groups()
        mo, d, h, mi, sec = int(month), int(day), int(hour), int(minute), int(second)
        if 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(int(year), mo)[1] and h < 24 and mi < 60 and sec < 60:
            offset = 0
            if tz != "Z":
                offset = int(tz[1:3]) * 3600 + int(tz[4:6]) * 60
                if tz[0] == "-":
                    offset = -offset
            nsec = int((frac + "00000000")[:9]) if frac else 0
            return make_time(int(year), mo, d, h, mi, sec, nsec, offset)
    return RFC3339.parse(value, ref_year=0)
