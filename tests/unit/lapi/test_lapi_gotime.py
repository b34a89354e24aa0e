"""Go time and duration formats, as CrowdSec clients write and read them."""
from datetime import UTC, datetime, timedelta

import pytest

from lapi.gotime import (
    TimeFormatError,
    format_duration,
    format_duration_ns,
    format_go_time,
    format_rfc3339,
    parse_duration,
    parse_duration_ns,
    parse_time,
)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (14_400 * 10**9, "4h0m0s"),
        (60 * 10**9, "1m0s"),
        (59 * 10**9, "59s"),
        (3 * 3600 * 10**9 + 59 * 60 * 10**9 + 59_580_483_985, "3h59m59.580483985s"),
        (-85_906_523, "-85.906523ms"),
        (-992_800_000, "-992.8ms"),
        (-72_814_150_632, "-1m12.814150632s"),
        (1_500, "1.5\u00b5s"),
        (999, "999ns"),
        (3_600 * 10**9 + 500_000_000, "1h0m0.5s"),
    ],
)
def test_format_duration_is_go_duration_string(ns: int, text: str) -> None:
    assert format_duration_ns(ns) == text


def test_format_duration_of_timedelta() -> None:
    assert format_duration(timedelta(hours=3, minutes=59, seconds=58, microseconds=123_000)) == \
        "3h59m58.123s"
    assert format_duration(-timedelta(seconds=1, microseconds=85_348)) == "-1.085348s"


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("4h", 14_400 * 10**9),
        ("1h30m", 5_400 * 10**9),
        ("1.5h", 5_400 * 10**9),
        ("-1.5s", -1_500_000_000),
        ("300ms", 300_000_000),
        ("2h45m30.5s", 9_930_500_000_000),
        ("0", 0),
        ("1us", 1_000),
        ("1\u00b5s", 1_000),
        ("7d", 7 * 86_400 * 10**9),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "4", "h", "4x", "1h 2m", "--1s", "1.2.3s", "4hh"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T03:54:37Z", datetime(2026, 11, 22, 3, 54, 37, tzinfo=UTC)),
        ("2026-11-22T03:55:08.19330076Z", datetime(2026, 11, 22, 3, 55, 8, 193300, tzinfo=UTC)),
        ("2026-11-22T03:55:09.194095781Z", datetime(2026, 11, 22, 3, 55, 9, 194095, tzinfo=UTC)),
        ("2026-11-22T04:08:45.000Z", datetime(2026, 11, 22, 4, 8, 45, tzinfo=UTC)),
        ("2026-11-22T06:08:45+02:00", datetime(2026, 11, 22, 4, 8, 45, tzinfo=UTC)),
        ("2026-11-22 03:26:03 +0000 UTC", datetime(2026, 11, 22, 3, 26, 3, tzinfo=UTC)),
    ],
)
def test_parse_time_accepts_client_formats(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-22", None, True])
def test_parse_time_rejects(text: object) -> None:
    with pytest.raises(TimeFormatError):
        parse_time(text)


def test_time_output_layouts() -> None:
    moment = datetime(2026, 11, 22, 4, 7, 32, tzinfo=UTC)
    assert format_go_time(moment) == "2026-11-22 04:07:32 +0000 UTC"
    assert format_rfc3339(moment) == "2026-11-22T04:07:32Z"
    assert format_rfc3339(moment.replace(microsecond=250_000)) == "2026-11-22T04:07:32.25Z"
