"""Go time rendering, date parsing (ParseDate) and the Event model."""
from __future__ import annotations

import calendar

import orjson
import pytest

from engine.event import LOG, OVFLW, Event
from engine.gotime import GoTime, Layout, parse_rfc3339
from engine.parser.enrich import enrich_parse_date, parse_date

INGEST_2026 = float(calendar.timegm((2026, 8, 22, 18, 3, 54)))


def test_go_time_text() -> None:
    t = GoTime.from_unix(1_795_327_808.5)
    assert t.marshal_text() == "2026-11-22T06:10:08.5Z"
    assert t.String() == "2026-11-22 06:10:08.5 +0000 UTC"
    shifted = parse_rfc3339("2022-01-19T14:23:55.120+02:00")
    assert shifted.marshal_text() == "2022-01-19T14:23:55.12+02:00"
    assert shifted.String() == "2022-01-19 14:23:55.12 +0200 +0200"
    assert shifted.Unix() == calendar.timegm((2022, 1, 19, 12, 23, 55))
    assert parse_rfc3339("2022-01-19T14:23:55+00:00").marshal_text() == "2022-01-19T14:23:55Z"
    assert GoTime.zero().IsZero() and GoTime.zero().marshal_text() == "0001-01-01T00:00:00Z"


def _evt(ingest: float = INGEST_2026) -> Event:
    return Event.from_line("x", source="s", module="file", labels={}, ingest_ts=ingest)


@pytest.mark.parametrize(("value", "marshaled"), [
    ("Feb 12 14:10:21", "2026-02-12T14:10:21Z"),  # year of the ingest time
    ("Feb  2 14:10:21", "2026-02-02T14:10:21Z"),
    ("Dec 31 23:59:59", "2026-12-31T23:59:59Z"),  # no roll-back to the previous year (as CrowdSec)
    ("Feb 29 10:00:00", "2026-03-01T10:00:00Z"),  # Go's AddDate normalisation
    ("Feb 12 14:10:21.25", "2026-02-12T14:10:21.25Z"),
    ("2022-01-19T14:23:55+00:00", "2022-01-19T14:23:55Z"),
    ("2022-01-19T14:23:55.5-05:00", "2022-01-19T14:23:55.5-05:00"),
    ("10/Oct/2000:13:55:36 -0700", "2000-10-10T13:55:36-07:00"),
    ("Mon Jan 2 15:04:05 2006", "2006-01-02T15:04:05Z"),
    ("11/02/2012 13:37:05", "2012-11-02T13:37:05Z"),
    ("2012/11/01", "2012-11-01T00:00:00Z"),
    ("2026-11-22 04:07:12.5 +0000 UTC", "2026-11-22T04:07:12.5Z"),
    ("2012-11-01 10:11", "2012-11-01T10:11:00Z"),
    ("1700000000", "2023-11-14T22:13:20Z"),  # unix epoch
    ("1700000000.123", "2023-11-14T22:13:20Z"),
])
def test_parse_date(value: str, marshaled: str) -> None:
    evt = _evt()
    out = enrich_parse_date(value, evt)
    assert out == {"MarshaledTime": marshaled}
    assert evt.Time.marshal_text() == marshaled  # time-machine: evt.Time is the log's time


@pytest.mark.parametrize("value", ["", "not a date", "Feb 30 10:00:00", "2026-13-01", "Feb 12 25:00:00"])
def test_unparsable_dates_use_the_ingest_time(value: str) -> None:
    evt = _evt()
    assert parse_date(value, evt) is None
    assert enrich_parse_date(value, evt) == {"MarshaledTime": "2026-08-22T18:03:54Z"}
    assert evt.Time.marshal_text() == "2026-08-22T18:03:54Z"


def test_str_time_format_is_tried_first() -> None:
    evt = _evt()
    evt.StrTimeFormat = "02.01.2006 15:04"
    assert enrich_parse_date("12.11.2025 08:30", evt) == {"MarshaledTime": "2025-11-12T08:30:00Z"}


def test_layout_rejects_extra_text() -> None:
    assert Layout("Jan  2 15:04:05").try_parse("Feb 12 14:10:21 trailing", ref_year=2026) is None


def test_event_fields_and_methods() -> None:
    evt = Event.from_line("raw line", source="/var/log/auth.log", module="file", labels={"type": "syslog"},
                          ingest_ts=INGEST_2026)
    assert (evt.Line.Raw, evt.Line.Src, evt.Line.Module, dict(evt.Line.Labels)) == (
        "raw line", "/var/log/auth.log", "file", {"type": "syslog"})
    assert evt.Line.Time == evt.Time == GoTime.from_unix(INGEST_2026)
    assert evt.Type == LOG and evt.GetType() == "log"
    assert evt.Meta["missing"] == "" and evt.Parsed["missing"] == "" and evt.Enriched["x"] == ""
    assert evt.Unmarshaled == {} and evt.Whitelisted is False and evt.Process is True
    assert evt.SetMeta("k", "v") is True and evt.GetMeta("k") == "v" and evt.GetMeta("nope") == ""
    evt.Type = OVFLW
    assert evt.GetType() == "overflow" and evt.GetMeta("k") == ""


def test_set_target_by_name() -> None:
    evt = _evt()
    assert evt.set_target("evt.StrTime", "a") and evt.StrTime == "a"
    assert evt.set_target("MarshaledTime", "b") and evt.MarshaledTime == "b"
    assert evt.set_target("evt.Parsed.x", "c") and evt.Parsed["x"] == "c"
    assert evt.set_target("Line.Labels.k", "d") and evt.Line.Labels["k"] == "d"
    assert evt.set_target("Line.Raw", "e") and evt.Line.Raw == "e"
    assert not evt.set_target("evt.Time", "f")  # not a string field
    assert not evt.set_target("evt.Nope", "g")
    assert not evt.set_target("evt._routed", "h")


def test_event_dict_round_trip() -> None:
    evt = Event.from_line("raw", source="src", module="file", labels={"type": "syslog"}, ingest_ts=INGEST_2026)
    evt.Parsed["a"] = "1"
    evt.Meta["source_ip"] = "1.2.3.4"
    evt.Enriched["MarshaledTime"] = "2026-02-12T14:10:21Z"
    evt.Unmarshaled["j"] = {"n": 1}
    evt.StrTime = "Feb 12 14:10:21"
    evt.MarshaledTime = "2026-02-12T14:10:21Z"
    evt.Stage = "s02-enrich"
    data = evt.to_dict()
    assert data == {
        "ExpectMode": 1, "Stage": "s02-enrich",
        "Line": {"Raw": "raw", "Src": "src", "Module": "file", "Labels": {"type": "syslog"},
                 "Time": "2026-08-22T18:03:54Z", "Process": True},
        "Parsed": {"a": "1"}, "Enriched": {"MarshaledTime": "2026-02-12T14:10:21Z"},
        "Meta": {"source_ip": "1.2.3.4"}, "Unmarshaled": {"j": {"n": 1}},
        "Time": "2026-08-22T18:03:54Z", "StrTime": "Feb 12 14:10:21",
        "MarshaledTime": "2026-02-12T14:10:21Z", "Process": True,
    }
    back = Event.from_dict(orjson.loads(orjson.dumps(data)))
    assert back.to_dict() == data
    assert back.Meta["nope"] == ""  # typed maps survive the round trip
    assert Event().to_dict() == {"ExpectMode": 1, "Process": True}


@pytest.mark.parametrize(("layout", "value", "marshaled"), [
    ("01/02/2006, 3:04:05 PM", "08/02/2023, 7:32:47 PM", "2023-08-02T19:32:47Z"),
    ("01/02/2006, 3:04:05 PM", "08/02/2023, 12:05:00 AM", "2023-08-02T00:05:00Z"),
    ("01/02/2006, 03:04:05 pm", "08/02/2023, 12:05:00 pm", "2023-08-02T12:05:00Z"),
    ("060102 15:04:05", "221128 14:49:17", "2022-11-28T14:49:17Z"),
    ("060102 15:04:05", "690101 00:00:00", "1969-01-01T00:00:00Z"),
    ("2006-01-02 15:04:05", "2021-11-09  5:13:12", "2021-11-09T05:13:12Z"),
    ("Jan _2 15:04:05.000", "Feb  2 14:10:21.250", "2026-02-02T14:10:21.25Z"),
])
def test_more_go_layouts(layout: str, value: str, marshaled: str) -> None:
    assert Layout(layout).parse(value, ref_year=2026).marshal_text() == marshaled


def test_twelve_hour_clock_range() -> None:
    assert Layout("3:04 PM").try_parse("13:04 PM", ref_year=2026) is None
