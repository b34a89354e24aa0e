"""IP, time and miscellaneous helpers, and the helpers left out on purpose."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import ExprRuntimeError, compile_expr
from engine.gotime import GoDuration, GoTime
from engine.runtime import Runtime, RuntimeOptions

RUNTIME = Runtime()


def ev(source: str, runtime: Runtime = RUNTIME, **env: Any) -> Any:
    return compile_expr(source, functions=runtime.functions)(env)


@pytest.mark.parametrize(("source", "expected"), [
    ("IsIP('1.2.3.4')", True),
    ("IsIP('::1')", True),
    ("IsIP('::ffff:1.2.3.4')", True),
    ("IsIP('1.2.3')", False),
    ("IsIP('01.2.3.4')", False),
    ("IsIP('fe80::1%eth0')", False),
    ("IsIP('')", False),
    ("IpToRange('192.168.1.77', '/24')", "192.168.1.0/24"),
    ("IpToRange('192.168.1.77', '24')", "192.168.1.0/24"),
    ("IpToRange('192.168.1.77', '/0')", "0.0.0.0/0"),
    ("IpToRange('192.168.1.77', '/32')", "192.168.1.77/32"),
    ("IpToRange('2001:db8:1:2:3::1', '/64')", "2001:db8:1:2::/64"),
    ("IpToRange('fe80::1%eth0', '/64')", "fe80::/64"),  # netip keeps zones, Prefix drops them
    ("IpToRange('::ffff:1.2.3.4', '/120')", "::ffff:1.2.3.0/120"),
    ("IpToRange('1.2.3.4', '/33')", ""),
    ("IpToRange('1.2.3.4', '/-1')", ""),
    ("IpToRange('1.2.3.4', 'x')", ""),
    ("IpToRange('1.2.3.4', '')", ""),
    ("IpToRange('nope', '/24')", ""),
])
def test_ip_helpers(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_distance() -> None:
    paris_london = ev("Distance('48.8566', '2.3522', '51.5074', '-0.1278')")
    assert paris_london == pytest.approx(343.556060341, abs=1e-6)
    assert ev("Distance('10', '20', '10', '20')") == 0.0
    assert ev("Distance('0', '0', '51.5074', '-0.1278')") == 0.0  # 0,0 means unknown
    assert ev("Distance('51.5074', '-0.1278', '0.0', '0')") == 0.0
    with pytest.raises(ExprRuntimeError, match="lat2 is not a float"):
        ev("Distance('1', '1', '', '1')")  # a missing geolocation is an error


@pytest.mark.parametrize(("source", "expected"), [
    ("ParseUnix('1672531200')", "2023-01-01T00:00:00Z"),
    ("ParseUnix('1672531200.987')", "2023-01-01T00:00:00Z"),
    ("ParseUnix('+1672531200')", "2023-01-01T00:00:00Z"),
    ("ParseUnix('0')", ""),
    ("ParseUnix('-5')", ""),
    ("ParseUnix('abc')", ""),
    ("ParseUnix(' 1')", ""),
    ("ParseUnix('')", ""),
])
def test_parse_unix(source: str, expected: str) -> None:
    assert ev(source) == expected


def _times(*seconds: int) -> list[GoTime]:
    return [GoTime.from_unix(s) for s in seconds]


def test_median_and_average_interval() -> None:
    # unsorted input; gaps 60, 600, 1200 s
    times = _times(1860, 0, 660, 60)
    assert ev("MedianInterval(t)", t=times) == GoDuration(600 * 10**9)
    assert ev("AverageInterval(t)", t=times) == GoDuration(620 * 10**9)
    # even number of gaps: mean of the two middle ones
    assert ev("MedianInterval(t)", t=_times(0, 10, 30, 60, 100)) == GoDuration(25 * 10**9)
    odd = [GoTime(0), GoTime(1), GoTime(4)]  # gaps 1 ns and 3 ns: mean 2, median (1+3)/2
    assert ev("AverageInterval(t)", t=odd) == GoDuration(2)
    assert ev("MedianInterval(t)", t=odd) == GoDuration(2)
    assert ev("AverageInterval(t)", t=[GoTime(0), GoTime(1), GoTime(2), GoTime(4)]) == GoDuration(1)


@pytest.mark.parametrize(("value", "message"), [
    ([GoTime(0)], "need at least two times"),
    ([], "need at least two times"),
    ([GoTime(0), "x"], "element at index 1 is not a time.Time"),
    ("x", "expects a slice of times"),
])
def test_interval_errors(value: Any, message: str) -> None:
    with pytest.raises(ExprRuntimeError, match=message):
        ev("MedianInterval(t)", t=value)


def test_time_now_uses_the_injected_clock() -> None:
    runtime = Runtime(RuntimeOptions(now=lambda: 1672531200.9))
    assert ev("TimeNow()", runtime) == "2023-01-01T00:00:00Z"
    with pytest.raises(ExprRuntimeError, match="no clock configured"):
        ev("TimeNow()")


def test_hostname_is_an_option() -> None:
    assert ev("Hostname()", Runtime(RuntimeOptions(hostname="sensor-1"))) == "sensor-1"
    with pytest.raises(ExprRuntimeError, match="no host name configured"):
        ev("Hostname()")


@pytest.mark.parametrize(("source", "expected"), [
    ("FloatApproxEqual(0.1 + 0.2, 0.3)", True),
    ("FloatApproxEqual(0.000180, 0.00018)", True),
    ("FloatApproxEqual(1.0, 1.0000011)", False),  # |diff| must be below 1e-6
    ("FloatApproxEqual(1.0, 1.0000009)", True),
    ("FloatApproxEqual(2361360, 2361360.000000)", True),
    ("Flatten(1, [2, [3, [4]]], 'a')", [1, 2, 3, 4, "a"]),
    ("Flatten()", []),
    ("Distinct([1, 1.0, 'a', 'a', true, 1])", [1, 1.0, "a", True]),
    ("Distinct('x')", None),
    ("FlattenDistinct([1, [1, 2]], 2, [[3]])", [1, 2, 3]),
    ("LogInfo('hello %s', 'x')", True),
])
def test_misc(source: str, expected: Any) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


def test_float_approx_equal_rejects_strings() -> None:
    with pytest.raises(ExprRuntimeError, match="float64"):
        ev("FloatApproxEqual('1', 1.0)")


@pytest.mark.parametrize(("source", "message"), [
    ("GetActiveDecisionsCount('1.2.3.4')", "LAPI-side"),
    ("GetDecisionsCount('1.2.3.4')", "LAPI-side"),
    ("GetDecisionsSinceCount('1.2.3.4', '1h')", "LAPI-side"),
    ("GetActiveDecisionsTimeLeft('1.2.3.4')", "LAPI-side"),
    ("LibInjectionIsSQLI('1 OR 1=1')", "libinjection"),
    ("LibInjectionIsXSS('<script>')", "libinjection"),
    ("GeoIPEnrich('1.2.3.4')", "GeoLite2"),
    ("IPToCountry('1.2.3.4')", "GeoLite2"),
    ("LookupHost('example.com')", "network"),
    ("HTTPGet('http://x')", "network"),
    ("CrowdsecCTI('1.2.3.4')", "network"),
    ("MatchKnownBot('a', 'b', 'c')", "bots"),
])
def test_unavailable_helpers_compile_and_fail_clearly(source: str, message: str) -> None:
    compiled = compile_expr(source, functions=RUNTIME.functions)
    with pytest.raises(ExprRuntimeError, match=message):
        compiled({})
