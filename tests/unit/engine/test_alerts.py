"""Overflow → LAPI alerts: sources, scopes, message and uuid."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.alert import make_alerts
from engine.bucket import Overflow
from engine.content import Content
from engine.event import Event
from engine.parser import ParserChain
from engine.scenario import Scenario, load_scenarios

Write = Callable[[str, str], Path]


def scenario(write: Write, extra: str = "") -> Scenario:
    return load_scenarios([write("s.yaml", "type: leaky\nname: t/s\ndescription: d\nfilter: 'true'\n"
                                 "groupby: evt.Meta.user\ncapacity: 1\nleakspeed: 10s\n" + extra)])[0]


def overflow(queue: list[dict[str, Any]], first: str = "2026-01-01T00:00:00Z",
             stop: str = "2026-01-01T00:00:01.5Z") -> Overflow:
    return Overflow("t/s", len(queue) + 3, 0, 0, first, stop, tuple(queue))


def test_one_alert_per_source_sorted_with_distinct_uuids(write: Write) -> None:
    sc = scenario(write)
    ov = overflow([{"time": "t1", "meta": {"source_ip": "10.0.0.2"}},
                   {"time": "t2", "meta": {"source_ip": "10.0.0.1"}},
                   {"time": "t3", "meta": {"source_ip": "10.0.0.2"}}])
    alerts = make_alerts(sc, "bob", ov)
    assert [a["source"]["value"] for a in alerts] == ["10.0.0.1", "10.0.0.2"]
    assert alerts[0]["uuid"] != alerts[1]["uuid"]
    assert alerts[0]["message"] == ("Ip 2 sources performed 't/s' (6 events over 1.5s) at "
                                    "2026-01-01 00:00:01.5 +0000 UTC")
    assert alerts[0]["events_count"] == 6 and alerts[0]["remediation"] is False
    assert [e["timestamp"] for e in alerts[0]["events"]] == ["t1", "t2", "t3"]
    assert make_alerts(sc, "bob", ov) == alerts  # deterministic
    assert make_alerts(sc, "alice", ov)[0]["uuid"] != alerts[0]["uuid"]


def test_invalid_or_missing_source_ip_gives_no_alert(write: Write) -> None:
    sc = scenario(write)
    assert make_alerts(sc, "k", overflow([{"time": "t", "meta": {"source_ip": "not-an-ip"}}])) == []
    assert make_alerts(sc, "k", overflow([{"time": "t", "meta": {}}])) == []


def test_source_enrichment_and_range(write: Write) -> None:
    sc = scenario(write)
    ov = overflow([{"time": "t", "meta": {"source_ip": "192.0.2.7", "SourceRange": "192.0.2.0/24"},
                    "enriched": {"IsoCode": "FR", "ASNumber": "64500", "ASNOrg": "Example",
                                 "Latitude": "48.85", "Longitude": "2.35"}}])
    (alert,) = make_alerts(sc, "k", ov)
    assert alert["source"] == {"ip": "192.0.2.7", "scope": "Ip", "value": "192.0.2.7", "range": "192.0.2.0/24",
                               "cn": "FR", "as_number": "64500", "as_name": "Example",
                               "latitude": 48.85, "longitude": 2.35}
    ranged = scenario(write, "scope:\n  type: Range\n")
    (alert,) = make_alerts(ranged, "k", ov)
    assert (alert["source"]["scope"], alert["source"]["value"]) == ("Range", "192.0.2.0/24")
    assert alert["message"].startswith("Range 192.0.2.0/24 performed")


def test_times_keep_their_instant_and_zone_in_the_message(write: Write) -> None:
    sc = scenario(write, "labels:\n  remediation: true\n")
    ov = overflow([{"time": "2026-01-01T02:00:00+02:00", "meta": {"source_ip": "::1"}}],
                  first="2026-01-01T01:59:59.75+02:00", stop="2026-01-01T02:00:00+02:00")
    (alert,) = make_alerts(sc, "k", ov)
    assert (alert["start_at"], alert["stop_at"]) == ("2026-01-01T01:59:59.75+02:00", "2026-01-01T02:00:00+02:00")
    assert alert["message"] == "Ip ::1 performed 't/s' (4 events over 250ms) at 2026-01-01 02:00:00 +0200 +0200"
    assert alert["remediation"] is True


def test_custom_scope_and_distinct_values_travel_in_the_pour_event(write: Write) -> None:
    sc = scenario(write, "distinct: evt.Meta.target\nscope:\n  type: username\n  expression: evt.Meta.user\n")
    content = Content(ParserChain([]), [sc])
    evt = Event()
    evt.Meta.update({"user": "bob", "target": "/login", "source_ip": "10.0.0.1"})
    evt.MarshaledTime = "2026-01-01T00:00:00Z"
    assert content.route(evt) == [("bob", ["t/s"])]
    pour_event = content.pour_event(evt)
    assert pour_event == {"time": "2026-01-01T00:00:00Z", "meta": dict(evt.Meta),
                          "distinct": {"t/s": "/login"}, "scope": {"t/s": "bob"}}
    states: dict[str, Any] = {}
    assert content.pour("bob", ["t/s"], 1767225600.0, pour_event, states) == []
    # the same distinct value again is ignored; a new one overflows
    assert content.pour("bob", ["t/s"], 1767225600.0, pour_event, states) == []
    evt.Meta["target"] = "/admin"
    overflows = content.pour("bob", ["t/s"], 1767225600.0, content.pour_event(evt), states)
    assert [o.key for o in overflows] == ["bob"]
    alerts = overflows[0].alerts
    assert len(alerts) == 1
    assert alerts[0]["source"] == {"scope": "username", "value": "bob"}
    assert alerts[0]["message"] == "username bob performed 't/s' (2 events over 0s) at 2026-01-01 00:00:00 +0000 UTC"
    assert states == {}


def test_route_stops_at_a_failing_filter_and_skips_non_string_groupby(write: Write) -> None:
    a, b, c = (load_scenarios([write(f"{n}.yaml", f"type: trigger\nname: t/{n}\ndescription: d\n"
                                                  f"filter: {flt!r}\n{extra}")])[0]
               for n, flt, extra in (("a", "true", "groupby: 'len(evt.Meta)'\n"),
                                     ("b", "true", ""),
                                     ("c", "evt.Unmarshaled.x.y == 1", "")))
    content = Content(ParserChain([]), [b, a, c, replace(b, name="t/d", id="t/d")])
    evt = Event()
    # a: groupby is an int → skipped; c fails → routing stops, t/d is never reached
    assert content.route(evt) == [("", ["t/b"])]


def test_scenarios_with_one_name_and_filter_share_one_bucket(write: Write) -> None:
    """CrowdSec keys buckets by hash(filter, groupby value, name): the second scenario's
    events go into the first one's bucket, which keeps the first one's settings (here:
    capacity 1, no distinct), so each event counts twice (hub: lourys/pterodactyl-wings-bf)."""
    doc = ("type: leaky\nname: t/x\ndescription: d\nfilter: 'true'\ncapacity: 1\n"
           "leakspeed: 10s\ngroupby: evt.Meta.source_ip\n")
    content = Content(ParserChain([]), load_scenarios([write("x.yaml", doc + "---\n" + doc.replace(
        "capacity: 1", "capacity: 9\ndistinct: evt.Meta.user"))]))
    evt = Event()
    evt.Meta["source_ip"] = "10.0.0.1"
    evt.MarshaledTime = "2026-01-01T00:00:00Z"
    routes = content.route(evt)
    assert routes == [("10.0.0.1", ["t/x", "t/x#2"])]
    states: dict[str, Any] = {}
    overflows = content.pour("10.0.0.1", routes[0][1], 1767225600.0, content.pour_event(evt), states)
    assert [(o.scenario.id, o.alerts[0]["events_count"]) for o in overflows] == [("t/x", 2)]
    assert states == {}  # the overflow killed the one shared bucket
