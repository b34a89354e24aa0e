"""Conditional and counter buckets, ``cancel_on``, ``overflow_filter`` and :func:`expire`."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.bucket import expire, is_idle, pour
from engine.content import Content
from engine.event import Event
from engine.gotime import GoTime
from engine.parser import ParserChain
from engine.scenario import Scenario, load_scenarios

Write = Callable[[str, str], Path]
T0 = 1_795_327_800.0  # 2026-11-22T06:10:00Z
NS = 10**9


def scenario(write: Write, **fields: Any) -> Scenario:
    spec = {"type": "leaky", "name": "t/x", "description": "d", "filter": "true",
            "capacity": 5, "leakspeed": "10s"} | fields
    text = "\n".join(f"{k}: {json.dumps(v)}" for k, v in spec.items() if v is not None)
    return load_scenarios([write("s.yaml", text + "\n")])[0]


def event(offset: float, ip: str = "203.0.113.7", **meta: str) -> dict[str, Any]:
    return {"time": GoTime.from_unix(T0 + offset).marshal_text(), "meta": {"source_ip": ip, **meta}}


def conditional(write: Write, condition: str, **fields: Any) -> Scenario:
    return scenario(write, **({"type": "conditional", "capacity": -1, "leakspeed": "1m",
                               "condition": condition} | fields))


# --- conditional ---------------------------------------------------------------------------

def test_conditional_overflows_when_the_condition_becomes_true(write: Write) -> None:
    sc = conditional(write, 'any(queue.Queue, {.Meta.path == "/"}) and any(queue.Queue, {.Meta.path == "/foo"})')
    state, overflow = pour(sc, None, T0, event(0, path="/x"))
    assert overflow is None
    state, overflow = pour(sc, state, T0 + 1, event(1, path="/"))
    assert overflow is None and state is not None and state["bucket"]["count"] == 2
    state, overflow = pour(sc, state, T0 + 2, event(2, path="/foo"))
    assert overflow is not None
    assert (overflow.scenario, overflow.count) == ("t/x", 3)
    assert (overflow.first_ns, overflow.stop_ns) == (int(T0) * NS, int(T0 + 2) * NS)
    assert (overflow.first_time, overflow.stop_time) == ("2026-11-22T06:10:00Z", "2026-11-22T06:10:02Z")
    assert [e["meta"]["path"] for e in overflow.queue] == ["/x", "/", "/foo"]
    assert state is None  # dead after its overflow, no blackhole


def test_conditional_never_overflows_on_capacity_and_keeps_every_event(write: Write) -> None:
    sc = conditional(write, "len(queue.Queue) >= 50")
    state = None
    for i in range(49):
        state, overflow = pour(sc, state, T0 + i, event(i))
        assert overflow is None
    assert state is not None and len(state["bucket"]["queue"]) == 49
    # capacity other than -1 does not overflow either (CrowdSec only warns)
    capped = conditional(write, "false", capacity=2)
    state = None
    for i in range(5):
        state, overflow = pour(capped, state, T0 + i, event(i))
        assert overflow is None
    assert state is not None and state["bucket"]["count"] == 5 and len(state["bucket"]["queue"]) == 3


def test_conditional_cache_size_bounds_the_queue(write: Write) -> None:
    sc = conditional(write, "len(queue.Queue) > 3", cache_size=2)
    state = None
    for i in range(6):
        state, overflow = pour(sc, state, T0 + i, event(i))
        assert overflow is None
    assert state is not None and len(state["bucket"]["queue"]) == 3


def test_conditional_lifetime_is_leakspeed(write: Write) -> None:
    sc = conditional(write, "len(queue.Queue) >= 2")
    state, _ = pour(sc, None, T0, event(0))
    assert not is_idle(sc, state, T0 + 60)
    assert is_idle(sc, state, T0 + 60.5)
    fresh, overflow = pour(sc, state, T0 + 60.5, event(60.5))
    assert overflow is None and fresh is not None and fresh["bucket"]["count"] == 1
    state, overflow = pour(sc, state, T0 + 60, event(60))
    assert overflow is not None and overflow.count == 2


def test_condition_sees_times_leaky_and_evt(write: Write) -> None:
    sc = conditional(write, 'len(queue.Queue) >= 3 && MedianInterval(map(queue.Queue[-3:], {#.Time})) >= duration("10s")'
                            ' && leaky.Total_count == 3 && evt.GetMeta("source_ip") == "203.0.113.7"'
                            ' && leaky.First_ts.Unix() == 1795327800')
    state, _ = pour(sc, None, T0, event(0))
    state, overflow = pour(sc, state, T0 + 10, event(10))
    assert overflow is None
    state, overflow = pour(sc, state, T0 + 19, event(19))
    assert overflow is None  # median of 10s and 9s is 9.5s
    sc2 = conditional(write, 'len(queue.Queue) >= 3 && MedianInterval(map(queue.Queue, {#.Time})) >= duration("10s")'
                             ' && leaky.Total_count == 3 && evt.GetMeta("source_ip") == "203.0.113.7"')
    state, _ = pour(sc2, None, T0, event(0))
    state, _ = pour(sc2, state, T0 + 10, event(10))
    state, overflow = pour(sc2, state, T0 + 20, event(20))
    assert overflow is not None and overflow.count == 3 and overflow.stop_ns == int(T0 + 20) * NS


def test_condition_errors_and_non_bools_do_not_overflow(write: Write) -> None:
    for condition in ("queue.Queue[5].Meta.x == 'a'", "len(queue.Queue)"):
        sc = conditional(write, condition)
        state, overflow = pour(sc, None, T0, event(0))
        assert overflow is None and state is not None and state["bucket"]["count"] == 1


def test_conditional_with_blackhole_and_distinct(write: Write) -> None:
    sc = conditional(write, "len(queue.Queue) >= 2", blackhole="1m", distinct="evt.Meta.user")

    def ev(offset: float, user: str) -> dict[str, Any]:
        return {**event(offset, user=user), "distinct": {"t/x": user}}
    state, _ = pour(sc, None, T0, ev(0, "a"))
    state, overflow = pour(sc, state, T0 + 1, ev(1, "a"))
    assert overflow is None
    state, overflow = pour(sc, state, T0 + 2, ev(2, "b"))
    assert overflow is not None and overflow.count == 2
    assert state == {"blackhole_until_ns": int(T0 + 62) * NS}
    state, _ = pour(sc, state, T0 + 3, ev(3, "a"))
    state, overflow = pour(sc, state, T0 + 4, ev(4, "b"))
    assert overflow is None and state == {"blackhole_until_ns": int(T0 + 62) * NS}


def test_conditional_state_is_json(write: Write) -> None:
    sc = conditional(write, "len(queue.Queue) >= 3")
    state, _ = pour(sc, None, T0, {**event(0), "enriched": {"Latitude": "48.8"}})
    restored = json.loads(json.dumps(state))
    state, _ = pour(sc, restored, T0 + 1, event(1))
    state, overflow = pour(sc, json.loads(json.dumps(state)), T0 + 2, event(2))
    assert overflow is not None and overflow.queue[0]["enriched"] == {"Latitude": "48.8"}


# --- cancel_on -----------------------------------------------------------------------------

def cancel(e: dict[str, Any], sid: str = "t/x") -> dict[str, Any]:
    return {**e, "cancel": {sid: True}}


def test_cancel_on_kills_the_bucket_and_keeps_the_blackhole(write: Write) -> None:
    sc = scenario(write, capacity=1, blackhole="1m", cancel_on="evt.Meta.ok == 'yes'")
    state, _ = pour(sc, None, T0, event(0))
    state, overflow = pour(sc, state, T0 + 5, cancel(event(5)))
    assert overflow is None and state is None
    state, overflow = pour(sc, state, T0 + 6, event(6))
    assert overflow is None and state is not None and state["bucket"]["count"] == 1
    state, overflow = pour(sc, state, T0 + 7, event(7))
    assert overflow is not None and overflow.count == 2
    state, _ = pour(sc, state, T0 + 8, event(8))
    state, overflow = pour(sc, state, T0 + 9, cancel(event(9)))
    assert overflow is None and state == {"blackhole_until_ns": int(T0 + 67) * NS}


def test_cancel_for_another_scenario_is_ignored_and_trigger_ignores_it(write: Write) -> None:
    sc = scenario(write, capacity=1, cancel_on="true")
    state, _ = pour(sc, None, T0, event(0))
    state, overflow = pour(sc, state, T0 + 1, cancel(event(1), "other"))
    assert overflow is not None and overflow.count == 2
    trig = scenario(write, type="trigger", capacity=0, leakspeed=None, cancel_on="true")
    _, overflow = pour(trig, None, T0, cancel(event(0)))
    assert overflow is not None and overflow.count == 1


def test_distinct_drops_an_event_before_cancel_on(write: Write) -> None:
    sc = scenario(write, capacity=5, distinct="evt.Meta.user", cancel_on="true")
    state, _ = pour(sc, None, T0, {**event(0), "distinct": {"t/x": "a"}})
    state, _ = pour(sc, state, T0 + 1, {**cancel(event(1)), "distinct": {"t/x": "a"}})
    assert state is not None and state["bucket"]["count"] == 1
    state, _ = pour(sc, state, T0 + 2, {**cancel(event(2)), "distinct": {"t/x": "b"}})
    assert state is None


def test_content_computes_cancel_on_when_routing(write: Write) -> None:
    path = write("c.yaml", "\n".join([
        "type: leaky", "name: t/c", "description: d", "filter: \"evt.Meta.source_ip != ''\"",
        "groupby: evt.Meta.source_ip", "capacity: 1", "leakspeed: 10s",
        "cancel_on: evt.Parsed.v == '42'", ""]))
    content = Content(ParserChain([]), load_scenarios([path]))
    states: dict[str, dict[str, Any]] = {}
    alerts = []
    for offset, value in ((0, "41"), (5, "42"), (6, "41"), (7, "41")):
        evt = Event.from_dict({"Meta": {"source_ip": "1.2.3.4"}, "Parsed": {"v": value},
                               "MarshaledTime": GoTime.from_unix(T0 + offset).marshal_text()})
        event_ = content.pour_event(evt)
        assert ("cancel" in event_) == (value == "42")
        for key, names in content.route(evt):
            alerts += [a for o in content.pour(key, names, T0 + offset, event_, states.setdefault(key, {}))
                       for a in o.alerts]
    assert [(a["events_count"], a["start_at"], a["stop_at"]) for a in alerts] == [
        (2, "2026-11-22T06:10:06Z", "2026-11-22T06:10:07Z")]


# --- overflow_filter -----------------------------------------------------------------------

def test_overflow_filter_false_discards_without_arming_the_blackhole(write: Write) -> None:
    sc = scenario(write, capacity=1, blackhole="1m", overflow_filter="any(queue.Queue, {Atof(.Meta.v) > 3})")
    state, _ = pour(sc, None, T0, event(0, v="1"))
    state, overflow = pour(sc, state, T0 + 1, event(1, v="2"))
    assert overflow is None and state is None
    state, _ = pour(sc, state, T0 + 2, event(2, v="1"))
    state, overflow = pour(sc, state, T0 + 3, event(3, v="4"))
    assert overflow is not None and overflow.count == 2
    assert state == {"blackhole_until_ns": int(T0 + 63) * NS}


def test_overflow_filter_sees_signal_and_leaky_and_keeps_on_error(write: Write) -> None:
    sc = scenario(write, capacity=1, overflow_filter=(
        "signal.Alert.GetEventsCount() == 2 && signal.Alert.GetScenario() == 't/x'"
        " && leaky.Ovflw_ts.Unix() == 1795327801 && leaky.Total_count == 2"))
    state, _ = pour(sc, None, T0, event(0))
    _, overflow = pour(sc, state, T0 + 1, event(1))
    assert overflow is not None
    for source in ("evt.Meta.x == 'a'", "len(queue.Queue)"):
        broken = scenario(write, capacity=1, overflow_filter=source)
        state, _ = pour(broken, None, T0, event(0))
        _, overflow = pour(broken, state, T0 + 1, event(1))
        assert overflow is not None  # an error or a non-bool keeps the overflow


# --- counter and expire --------------------------------------------------------------------

def counter(write: Write, **fields: Any) -> Scenario:
    return scenario(write, **({"type": "counter", "capacity": -1, "leakspeed": None,
                               "duration": "10s"} | fields))


def test_counter_overflows_duration_after_its_first_event(write: Write) -> None:
    sc = counter(write)
    state = None
    for offset in (0, 3, 9):
        state, overflow = pour(sc, state, T0 + offset, event(offset))
        assert overflow is None
    assert expire(sc, state, T0 + 9.999) == (state, None)
    assert not is_idle(sc, state, T0 + 100)  # the overflow is still owed
    after, overflow = expire(sc, state, T0 + 10)
    assert after is None and overflow is not None
    assert (overflow.count, overflow.first_ns, overflow.stop_ns) == (3, int(T0) * NS, int(T0 + 10) * NS)
    assert (overflow.first_time, overflow.stop_time) == ("2026-11-22T06:10:00Z", "2026-11-22T06:10:10Z")
    assert len(overflow.queue) == 3


def test_counter_deadline_reached_by_the_next_event(write: Write) -> None:
    sc = counter(write, blackhole="1m")
    state, _ = pour(sc, None, T0, event(0))
    state, _ = pour(sc, state, T0 + 4, event(4))
    state, overflow = pour(sc, state, T0 + 30, event(30))
    assert overflow is not None and overflow.count == 2 and overflow.stop_ns == int(T0 + 10) * NS
    assert state is not None and state["bucket"]["count"] == 1
    assert state["bucket"]["first_ns"] == int(T0 + 30) * NS
    assert state["blackhole_until_ns"] == int(T0 + 70) * NS
    # the next timed overflow (at t=40) is blackholed
    state, overflow = expire(sc, state, T0 + 45)
    assert overflow is None and state == {"blackhole_until_ns": int(T0 + 70) * NS}
    assert expire(sc, state, T0 + 70) == (None, None)


def test_counter_overflow_filter_and_cache_size(write: Write) -> None:
    sc = counter(write, cache_size=2, overflow_filter="any(queue.Queue, {.Meta.source_ip != '1.2.3.4'})")
    state = None
    for i in range(5):
        state, _ = pour(sc, state, T0 + i, event(i, ip="1.2.3.4"))
    assert state is not None and len(state["bucket"]["queue"]) == 3
    assert expire(sc, state, T0 + 10) == (None, None)  # discarded by the filter
    state, _ = pour(sc, None, T0, event(0, ip="5.6.7.8"))
    _, overflow = expire(sc, state, T0 + 10)
    assert overflow is not None and overflow.count == 1


def test_expire_drops_expired_buckets_and_ended_blackholes(write: Write) -> None:
    sc = scenario(write, capacity=1, blackhole="1m")
    state, _ = pour(sc, None, T0, event(0))
    assert expire(sc, state, T0 + 20) == (state, None)  # lifetime (1+1)*10s
    assert expire(sc, state, T0 + 20.5) == (None, None)
    state, _ = pour(sc, state, T0 + 1, event(1))
    assert state == {"blackhole_until_ns": int(T0 + 61) * NS}
    assert expire(sc, state, T0 + 60) == (state, None)
    assert expire(sc, state, T0 + 61) == (None, None)
    assert expire(sc, None, T0) == (None, None)
