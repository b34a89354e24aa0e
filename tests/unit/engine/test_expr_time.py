"""Go time.Time / time.Duration in expressions: methods, comparisons, arithmetic, duration(),
date(), and now() from an injected clock (the engine never reads the wall clock)."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import (DEFAULT_FUNCTIONS, ExprRuntimeError, clock_functions, compile_expr,
                         function_set)
from engine.gotime import GoDuration, GoTime, Month, Weekday, make_time

# Saturday 2024-03-02 19:04:05.5 UTC
T = make_time(2024, 3, 2, 19, 4, 5, 500_000_000)
T2 = make_time(2024, 3, 2, 20, 0, 0, 0, offset=3600)  # 19:00:00 UTC, shown at +01:00


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source)({"t": T, "t2": T2, **env})


@pytest.mark.parametrize(("source", "expected"), [
    ("t.Hour()", 19),
    ("t.Minute()", 4),
    ("t.Second()", 5),
    ("t.Nanosecond()", 500_000_000),
    ("t.Year()", 2024),
    ("t.Day()", 2),
    ("t.YearDay()", 62),
    ("t.Month().String()", "March"),
    ("t.Weekday().String()", "Saturday"),
    ("t.Weekday().String() == 'Saturday' || t.Weekday().String() == 'Sunday'", True),
    ("t.Hour() >= 18 || t.Hour() < 6", True),
    ("t.Weekday() == 6", False),  # a time.Weekday is not an int
    ("t.Weekday() == t.Weekday()", True),
    ("t.Month() == t.Month()", True),
    ("type(t.Weekday())", "time.Weekday"),
    ("type(t)", "time.Time"),
    ("toJSON(t.Month())", "3"),
    ("toJSON(t)", '"2024-03-02T19:04:05.5Z"'),
    ("string(t.Weekday())", "Saturday"),
    ("t.Unix()", 1709406245),
    ("t.UnixMilli()", 1709406245500),
    ("t.String()", "2024-03-02 19:04:05.5 +0000 UTC"),
    ("t2.String()", "2024-03-02 20:00:00 +0100 +0100"),
    ("t2.Hour()", 20),  # in the time's own zone
    ("t2.UTC().Hour()", 19),
    ("string(t)", "2024-03-02 19:04:05.5 +0000 UTC"),
    ("t > t2", True),
    ("t2 < t", True),
    ("t == t", True),
    ("t2 == date('2024-03-02 19:00:00')", True),  # same instant, other zone: equal
    ("t != t2", True),
    ("t.After(t2)", True),
    ("t.Before(t2)", False),
    ("(t - t2).String()", "4m5.5s"),
    ("t - t2 > duration('4m')", True),
    ("t - t2 < duration('4m')", False),
    ("(t2 - t).String()", "-4m5.5s"),
    ("(t2 + duration('1h')).String()", "2024-03-02 21:00:00 +0100 +0100"),
    ("(duration('1h') + t2).Hour()", 21),
    ("(t - duration('19h')).Hour()", 0),
    ("t.Sub(t2).Seconds()", 245.5),
    ("t.Add(duration('-4m')).Minute()", 0),
])
def test_time_values(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("duration('1h30m').String()", "1h30m0s"),
    ("duration('1h30m').Minutes()", 90.0),
    ("duration('90s').Hours()", 0.025),
    ("duration('1.5s').Seconds()", 1.5),
    ("duration('1500ms').Milliseconds()", 1500),
    ("duration('1us').Nanoseconds()", 1000),
    ("duration('-2s').Abs().String()", "2s"),
    ("duration('1h') > duration('59m')", True),
    ("duration('1h') >= duration('60m')", True),
    ("duration('1h') == duration('60m')", True),
    ("duration('1h') == 3600000000000", False),  # a Duration is not an int
    ("(duration('1h') * 2).String()", "2h0m0s"),
    ("(3 * duration('1m')).String()", "3m0s"),
    ("duration('1h') * 1.5", 5.4e12),  # times a float: a float
    ("(duration('1h') - duration('1m')).String()", "59m0s"),
    ("(duration('1h') + duration('1m')).String()", "1h1m0s"),
    ("string(duration('10m'))", "10m0s"),
    ("sortBy([duration('2s'), duration('1s')], #) | map(string(#))", ["1s", "2s"]),
    ("max(1, 2) > 1", True),
])
def test_durations(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_duration_value_types() -> None:
    assert ev("duration('10m')") == GoDuration(600_000_000_000)
    assert type(ev("t.Weekday()")) is Weekday and ev("t.Weekday()") == 6
    assert type(ev("t.Month()")) is Month and ev("t.Month()") == 3


@pytest.mark.parametrize(("source", "message"), [
    ("duration('10x')", 'time: invalid duration "10x"'),
    ("duration('1h') < 5", "invalid operation: time.Duration < int"),
    ("t < 5", "invalid operation: time.Time < int"),
    ("t + t", "invalid operation: time.Time + time.Time"),
    ("duration('1h') / 2 > 1", "invalid operation: time.Duration / int"),
    ("date('nope')", "invalid date nope"),
    ("date('2024', '2006-01', 'UTC')", 'parsing time "2024" as "2006-01": cannot parse'),
    ("date('2024-01-01', '2006-01-02', 'Europe/Paris')", "unknown time zone Europe/Paris"),
])
def test_time_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError) as info:
        ev(source)
    assert str(info.value) == message


@pytest.mark.parametrize(("source", "expected"), [
    ("date('2024-02-29').String()", "2024-02-29 00:00:00 +0000 UTC"),
    ("date('13:04:05').String()", "0000-01-01 13:04:05 +0000 UTC"),  # Go: year 0 without a year
    ("date('2024-02-29 13:04:05').Hour()", 13),
    ("date('2024-02-29T13:04:05+02:00').Unix()", 1709204645),
    ("date('02 Jan 24 15:04 UTC').Day()", 2),
    ("date('Mon, 02 Jan 2006 15:04:05 MST').Year()", 2006),
    ("date('01/02/2024', '01/02/2006').Month().String()", "January"),
    ("date('2024-03-01') - date('2024-02-29') == duration('24h')", True),
])
def test_date(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_now_comes_from_an_injected_clock() -> None:
    with pytest.raises(ExprRuntimeError, match="^now\\(\\) needs a clock"):
        compile_expr("now()")({})
    calls: list[int] = []

    def clock() -> float:
        calls.append(1)
        return 1709406245.5

    functions = function_set(DEFAULT_FUNCTIONS, clock_functions(clock))
    fn = compile_expr("now().Unix()", functions=functions)
    assert not fn.is_constant  # never folded at compile time
    assert calls == []
    assert fn({}) == 1709406245
    assert compile_expr("now() - t > duration('1s')", functions=functions)({"t": T}) is False
    assert compile_expr("now() == t", functions=functions)({"t": T}) is True
    assert len(calls) == 3
    without = function_set(DEFAULT_FUNCTIONS, clock_functions(None))
    with pytest.raises(ExprRuntimeError, match="^now\\(\\) needs a clock"):
        compile_expr("now()", functions=without)({})


def test_gotime_constructors_still_agree() -> None:
    assert GoTime.from_unix(1709406245.5) == T
    assert T.Weekday().String() == "Saturday"
    assert make_time(1970, 1, 1).Weekday().String() == "Thursday"
    assert make_time(1969, 12, 31, 23).Weekday().String() == "Wednesday"


def test_hub_time_based_bruteforce_condition() -> None:
    """crowdsecurity/ssh-time-based-bf's condition, with a stand-in MedianInterval helper."""
    from engine.expr import Function

    def median_interval(times: list[GoTime]) -> GoDuration:
        gaps = sorted(b.unix_ns - a.unix_ns for a, b in zip(times, times[1:]))
        return GoDuration(gaps[len(gaps) // 2])

    functions = function_set(DEFAULT_FUNCTIONS, [Function("MedianInterval", median_interval, 1, 1)])
    source = ("let failedAuths = filter(queue.Queue, {#.Meta.log_type == 'ssh_failed-auth'});\n"
              "len(failedAuths) >= 4 &&\n"
              "MedianInterval(map(failedAuths[-4:], {#.Time})) > duration(\"10m\")\n")
    cond = compile_expr(source, functions=functions, names={"evt", "queue", "leaky"})

    class Evt:
        def __init__(self, minute: int, kind: str = "ssh_failed-auth") -> None:
            self.Meta = {"log_type": kind}
            self.Time = make_time(2024, 3, 2, 10, minute)

    slow = [Evt(0), Evt(1, "other"), Evt(15), Evt(30), Evt(45)]
    fast = [Evt(0), Evt(5), Evt(10), Evt(15)]
    assert cond({"queue": {"Queue": slow}}) is True
    assert cond({"queue": {"Queue": fast}}) is False
    assert cond({"queue": {"Queue": slow[:3]}}) is False
