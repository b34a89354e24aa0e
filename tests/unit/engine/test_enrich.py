"""The enrichers (static ``method:``), with CrowdSec's GeoLite2 test databases."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.event import LIVE, Event
from engine.gotime import GoTime
from engine.parser.enrich import (ENRICHERS, GeoIP, build_enrichers,
                                  enrich_parse_date, parse_date)
from engine.runtime import RuntimeOptions
from tests.support.shared import FIXTURES as SHARED_FIXTURES

MMDB = SHARED_FIXTURES / "parser"
needs_mmdb = pytest.mark.skipif(not (MMDB / "GeoLite2-City.mmdb").exists(), reason="GeoLite2 test files missing")


def geo() -> dict:
    return dict(build_enrichers(RuntimeOptions(data_dir=MMDB)))


@needs_mmdb
@pytest.mark.parametrize(("ip", "expected"), [
    ("2.125.160.216", {"IsoCode": "GB", "IsInEU": "true", "Latitude": "51.750000", "Longitude": "-1.250000"}),
    ("81.2.69.142", {"IsoCode": "GB", "IsInEU": "true", "Latitude": "51.514200", "Longitude": "-0.093100"}),
    ("2001:218::1", {"IsoCode": "JP", "IsInEU": "false", "Latitude": "35.685360", "Longitude": "139.753090"}),
    ("::ffff:81.2.69.142", {"IsoCode": "GB", "IsInEU": "true", "Latitude": "51.514200", "Longitude": "-0.093100"}),
    # not in the database: geoip2-golang's zero record
    ("1.0.0.1", {"IsoCode": "", "IsInEU": "false", "Latitude": "0.000000", "Longitude": "0.000000"}),
    ("not-an-ip", None),
    ("fe80::1%eth0", None),
])
def test_geoip_city(ip: str, expected: dict | None) -> None:
    assert geo()["GeoIpCity"](ip, Event()) == expected


@needs_mmdb
@pytest.mark.parametrize(("ip", "asn", "source_range"), [
    ("1.0.0.1", {"ASNNumber": "15169", "ASNumber": "15169", "ASNOrg": "Google Inc."}, {"SourceRange": "1.0.0.0/24"}),
    ("1.128.3.4", {"ASNNumber": "1221", "ASNumber": "1221", "ASNOrg": "Telstra Pty Ltd"}, {"SourceRange": "1.128.0.0/11"}),
    ("192.168.0.1", {"ASNNumber": "0", "ASNumber": "0", "ASNOrg": ""}, None),
    ("", None, None),
])
def test_geoip_asn_and_range(ip: str, asn: dict | None, source_range: dict | None) -> None:
    enrichers = geo()
    assert enrichers["GeoIpASN"](ip, Event()) == asn
    assert enrichers["IpToRange"](ip, Event()) == source_range


def test_geoip_without_databases_enriches_nothing(tmp_path: Path) -> None:
    for enrichers in (ENRICHERS, build_enrichers(RuntimeOptions(data_dir=tmp_path))):
        for method in ("GeoIpCity", "GeoIpASN", "IpToRange"):
            assert enrichers[method]("1.0.0.1", Event()) is None


@needs_mmdb
def test_geoip_readers_are_per_instance_and_closable() -> None:
    a, b = GeoIP(MMDB), GeoIP(MMDB)
    assert a.reader(GeoIP.CITY) is not b.reader(GeoIP.CITY)
    assert a.reader(GeoIP.CITY) is a.reader(GeoIP.CITY)
    a.close()
    assert a._readers == {}


def test_reverse_dns_uses_the_injected_resolver() -> None:
    calls: list[str] = []

    def resolver(ip: str) -> str | None:
        calls.append(ip)
        if ip == "9.9.9.9":
            raise OSError("timeout")
        return {"1.1.1.1": "one.one.one.one."}.get(ip)

    rdns = build_enrichers(RuntimeOptions(resolver=resolver))["reverse_dns"]
    assert rdns("1.1.1.1", Event()) == {"reverse_dns": "one.one.one.one."}
    assert rdns("1.2.3.4", Event()) is None
    assert rdns("9.9.9.9", Event()) is None
    assert rdns("not an ip", Event()) is None and rdns("", Event()) is None
    assert calls == ["1.1.1.1", "1.2.3.4", "9.9.9.9"]
    assert ENRICHERS["reverse_dns"]("1.1.1.1", Event()) is None  # no resolver: no lookup


def test_unmarshal_json_decodes_line_raw_like_go() -> None:
    unmarshal = ENRICHERS["UnmarshalJSON"]
    evt = Event()
    evt.Unmarshaled["kept"] = "yes"
    evt.Line.Raw = '{"a": 1, "b": {"c": [1, 2.5, "x", null, true]}, "big": 1e21, "a": 2}\n'
    assert unmarshal("ignored: the value only has to be non-empty", evt) is None
    assert evt.Unmarshaled == {"kept": "yes", "a": 2.0, "b": {"c": [1.0, 2.5, "x", None, True]}, "big": 1e21}
    assert type(evt.Unmarshaled["a"]) is float
    for bad in ("not json", "[1, 2]", '"s"', '{"x": NaN}', '{"x": 1e400}', ""):
        evt = Event()
        evt.Line.Raw = bad
        unmarshal("x", evt)
        assert evt.Unmarshaled == {}, bad
    evt = Event()
    evt.Unmarshaled["x"] = 1.0
    evt.Line.Raw = "null"
    unmarshal("x", evt)
    assert evt.Unmarshaled == {}


def _evt(ingest: float = 1_787_421_834.0) -> Event:  # 2026-08-22T18:03:54Z
    return Event.from_line("x", source="s", module="file", labels={}, ingest_ts=ingest)


@pytest.mark.parametrize(("value", "marshaled"), [
    ("1700000000", "2023-11-14T22:13:20Z"),
    ("1700000000.987", "2023-11-14T22:13:20Z"),
    ("+1700000000", "2023-11-14T22:13:20Z"),
    ("Feb 12 14:10:21", "2026-02-12T14:10:21Z"),            # year-less: the ingest year
    ("Feb 29 14:10:21", "2026-03-01T14:10:21Z"),            # year 0 is leap; AddDate normalizes
    ("2024-02-03T04:05:06.5+02:00", "2024-02-03T04:05:06.5+02:00"),
])
def test_parse_date_epochs_and_years(value: str, marshaled: str) -> None:
    assert enrich_parse_date(value, _evt()) == {"MarshaledTime": marshaled}


@pytest.mark.parametrize("value", ["0", "-5", "12abc", "99999999999999999999"])
def test_parse_date_rejects_non_epochs(value: str) -> None:
    assert parse_date(value, _evt()) is None
    assert enrich_parse_date(value, _evt()) == {"MarshaledTime": "2026-08-22T18:03:54Z"}


def test_parse_date_sets_time_only_in_time_machine_mode() -> None:
    evt = _evt()
    enrich_parse_date("2012/11/01", evt)
    assert evt.Time == GoTime(1_351_728_000 * 1_000_000_000)
    live = _evt()
    live.ExpectMode = LIVE
    enrich_parse_date("2012/11/01", live)
    assert live.Time == live.Line.Time


def test_parse_date_falls_back_to_the_injected_clock_only_without_event_times() -> None:
    parse = build_enrichers(RuntimeOptions(now=lambda: 1_787_421_834.0))["ParseDate"]
    bare = Event()  # no acquisition time, no event time
    assert parse("Feb 12 14:10:21", bare) == {"MarshaledTime": "2026-02-12T14:10:21Z"}
    assert parse("garbage", Event()) == {"MarshaledTime": "2026-08-22T18:03:54Z"}
    assert parse("garbage", _evt(1_700_000_000.0)) == {"MarshaledTime": "2023-11-14T22:13:20Z"}
