"""engine.hubtest.results and gosort: what the dumps look like to asserts (A.5, A.6)."""
from __future__ import annotations

import random

from engine.event import Event
from engine.expr import compile_expr
from engine.hubtest.asserts import assert_functions
from engine.hubtest.gosort import go_sort
from engine.gomap import GoMap
from engine.hubtest.results import (ParserCollector, snapshot, sort_overflows, yaml_float,
                                    yaml_round_trip)
from engine.overflow import overflow_event


def run(source: str, results: object) -> object:
    return compile_expr(source, functions=assert_functions(), names=("results",))({"results": results})


def test_yaml_round_trip_of_floats() -> None:
    assert yaml_float(200.0) == 200 and type(yaml_float(200.0)) is int
    assert type(yaml_float(123456.0)) is int
    assert type(yaml_float(1e6)) is float  # Go prints 1e+06
    assert type(yaml_float(1e21)) is float
    assert yaml_float(1.5) == 1.5
    assert yaml_round_trip({"n": 2000000, "m": 7}) == {"n": 2e6, "m": 7}
    assert type(yaml_round_trip({"n": 2000000})["n"]) is float
    assert yaml_round_trip({"a": [1.0, {"b": 2.5, "c": True, "d": None}], "e": "x"}) == \
        {"a": [1, {"b": 2.5, "c": True, "d": None}], "e": "x"}


def test_snapshot_is_a_deep_copy_with_round_trip() -> None:
    evt = Event.from_line("x", source="/a/b.log", module="file", labels={"type": "t"}, ingest_ts=0)
    evt.Parsed["k"] = "v"
    evt.Unmarshaled = {"status": 200.0}
    copy = snapshot(evt)
    evt.Parsed["k"] = "changed"
    evt.Line.Labels["type"] = "changed"
    assert copy.Parsed["k"] == "v" and copy.Line.Labels["type"] == "t"
    assert type(copy.Unmarshaled["status"]) is int


def test_parser_results_zero_values() -> None:
    collector = ParserCollector()
    evt = Event()
    collector.observe("s00-raw", "a/b", evt, False)
    results = collector.results
    assert run("len(results)", results) == 2
    assert run('len(results["success"][""])', results) == 0
    assert run('len(results["nope"]["x"])', results) == 0
    assert run('results["s00-raw"]["a/b"][0].Success', results) is False
    assert run('results["s00-raw"]["a/b"][0].Evt.Parsed["missing"]', results) == ""
    assert run('"s00-raw" in results', results) is True


def _alert(scenario: str, ips: list[str]) -> list[dict]:
    return [{"scenario": scenario, "events_count": 3, "remediation": True, "stop_at": "2026-01-01T00:00:00Z",
             "source": {"ip": ip, "scope": "Ip", "value": ip, "range": ""},
             "events": [{"meta": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}],
                         "timestamp": "2026-01-01T00:00:00Z"}]} for ip in ips]


def test_overflow_objects() -> None:
    evt = overflow_event(_alert("s/x", ["1.2.3.4", "5.6.7.8"]), "key", False)
    results = [evt]
    assert run('results[0].Overflow.GetSources()', results) == ["1.2.3.4", "5.6.7.8"]
    assert run('results[0].Overflow.Sources["5.6.7.8"].GetValue()', results) == "5.6.7.8"
    assert run('results[0].Overflow.Alert.GetScenario()', results) == "s/x"
    assert run('results[0].Overflow.Alert.GetEventsCount()', results) == 3
    assert run('results[0].Overflow.Alert.Events[0].GetMeta("b")', results) == "2"
    assert run('results[0].Overflow.Alert.Events[0].GetMeta("zz")', results) == ""
    assert run('results[0].Overflow.Alert.Source.IP', results) == "1.2.3.4"
    assert run("results[0].Overflow.Whitelisted", results) is False
    assert evt.MarshaledTime == "2026-01-01T00:00:00Z"


def test_sort_is_descending_and_stable_up_to_12() -> None:
    events = [overflow_event(_alert(name, [ip]), str(i), False)
              for i, (name, ip) in enumerate([("a", "1.1.1.1"), ("b", "1.1.1.1"), ("a", "1.1.1.1"),
                                              ("b", "2.2.2.2"), ("a", "1.1.1.1")])]
    ordered = sort_overflows(events)
    assert [e.Overflow.Mapkey for e in ordered] == ["3", "1", "0", "2", "4"]


def test_go_sort_sorts_any_size_deterministically() -> None:
    rng = random.Random(7)
    for n in (0, 1, 5, 12, 13, 28, 60, 200):
        data = [rng.randrange(6) for _ in range(n)]
        first = go_sort(list(enumerate(data)), lambda x, y: x[1] > y[1])
        assert [v for _, v in first] == sorted(data, reverse=True)
        assert go_sort(list(enumerate(data)), lambda x, y: x[1] > y[1]) == first


def test_gomap_get_and_missing() -> None:
    m = GoMap({"a": 1}, zero=list)
    assert m.get("a") == 1 and m.get("b") == [] and m["c"] == [] and "c" not in m
