"""Pure bucket logic on event time."""
from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.bucket import Overflow, is_idle, pour
from engine.gotime import GoTime
from engine.scenario import Scenario, load_scenarios

Write = Callable[[str, str], Path]
T0 = 1_795_327_800.0  # 2026-11-22T06:10:00Z


def scenario(write: Write, **fields: Any) -> Scenario:
    spec = {"type": "leaky", "name": "t/bf", "description": "d", "filter": "true",
            "capacity": 5, "leakspeed": "10s", "blackhole": "1m"} | fields
    text = "\n".join(f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}" for k, v in spec.items() if v is not None)
    return load_scenarios([write("s.yaml", text + "\n")])[0]


def event(offset: float, ip: str = "203.0.113.7", **meta: str) -> dict[str, Any]:
    return {"time": GoTime.from_unix(T0 + offset).marshal_text(), "meta": {"source_ip": ip, **meta}}


def run(sc: Scenario, offsets: list[float], state: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any] | None, list[Overflow | None]]:
    results = []
    for i, offset in enumerate(offsets):
        state, overflow = pour(sc, state, T0 + offset, events[i] if events else event(offset))
        results.append(overflow)
    return state, results


def test_capacity_plus_one_events_overflow(write: Write) -> None:
    sc = scenario(write)
    state, results = run(sc, [0, 1, 2, 3, 4])
    assert results == [None] * 5
    assert state is not None and state["bucket"]["count"] == 5
    state, overflow = pour(sc, state, T0 + 5, event(5))
    assert overflow is not None
    assert (overflow.scenario, overflow.count) == ("t/bf", 6)
    assert (overflow.first_ns, overflow.stop_ns) == (int(T0) * 10**9, int(T0 + 5) * 10**9)
    assert (overflow.first_time, overflow.stop_time) == ("2026-11-22T06:10:00Z", "2026-11-22T06:10:05Z")
    assert [e["time"][-3:] for e in overflow.queue] == ["00Z", "01Z", "02Z", "03Z", "04Z", "05Z"]
    # the bucket is dead; only the blackhole is kept
    assert state == {"blackhole_until_ns": int(T0 + 65) * 10**9}


def test_tokens_leak_one_per_leakspeed(write: Write) -> None:
    sc = scenario(write)
    # 5 at t=0 empty the bucket; one token comes back every 10s
    state, results = run(sc, [0, 0, 0, 0, 0, 10])
    assert results == [None] * 6
    state, overflow = pour(sc, state, T0 + 10, event(10))
    assert overflow is not None and overflow.count == 7
    state, results = run(sc, [0, 0, 0, 0, 0, 9.999])
    assert results[-1] is not None  # the token was not back yet


def test_bucket_expires_after_capacity_plus_one_leaks(write: Write) -> None:
    sc = scenario(write)
    state, _ = run(sc, [0, 1, 2, 3])
    # lifetime = (5+1)*10s after the last event (t=3): still alive at t=63
    alive, _ = pour(sc, state, T0 + 63, event(63))
    assert alive is not None and alive["bucket"]["count"] == 5
    assert alive["bucket"]["first_ns"] == int(T0) * 10**9
    fresh, _ = pour(sc, state, T0 + 63.5, event(63.5))
    assert fresh is not None and fresh["bucket"]["count"] == 1
    assert fresh["bucket"]["first_time"] == "2026-11-22T06:11:03.5Z"


def test_blackhole_suppresses_overflows_for_its_duration(write: Write) -> None:
    sc = scenario(write, capacity=1, leakspeed="10s", blackhole="1m")
    state, results = run(sc, [0, 4])
    assert results[1] is not None
    # a new bucket overflows at t=16: blackholed until t=64
    state, results = run(sc, [15, 16], state)
    assert results == [None, None]
    assert state == {"blackhole_until_ns": int(T0 + 64) * 10**9}
    # after the blackhole the next overflow goes through
    state, results = run(sc, [75, 76], state)
    assert results[0] is None and results[1] is not None and results[1].count == 2
    assert state == {"blackhole_until_ns": int(T0 + 136) * 10**9}


def test_without_blackhole_nothing_is_kept_after_an_overflow(write: Write) -> None:
    sc = scenario(write, capacity=1, blackhole=None)
    state, results = run(sc, [0, 1])
    assert results[1] is not None and state is None


def test_trigger_overflows_on_every_event(write: Write) -> None:
    sc = scenario(write, type="trigger", capacity=0, leakspeed=None, blackhole=None)
    state, results = run(sc, [0, 0, 1])
    assert state is None
    assert [r.count for r in results if r] == [1, 1, 1]
    assert results[2] is not None and results[2].first_ns == results[2].stop_ns == int(T0 + 1) * 10**9
    blackholed = scenario(write, type="trigger", capacity=0, leakspeed=None, blackhole="10s")
    state, results = run(blackholed, [0, 5, 10, 11])
    assert [r is not None for r in results] == [True, False, True, False]


def test_distinct_ignores_repeated_values(write: Write) -> None:
    sc = scenario(write, capacity=1, blackhole=None, distinct="evt.Meta.user")

    def ev(offset: float, user: str) -> dict[str, Any]:
        return {**event(offset), "distinct": {"t/bf": user}}
    state, overflow = pour(sc, None, T0, ev(0, "a"))
    state, overflow = pour(sc, state, T0 + 1, ev(1, "a"))
    assert overflow is None and state is not None and state["bucket"]["count"] == 1
    state, overflow = pour(sc, state, T0 + 2, ev(2, "b"))
    assert overflow is not None and overflow.count == 2
    # an event without a distinct value is poured anyway
    state, _ = pour(sc, None, T0, ev(0, "a"))
    state, overflow = pour(sc, state, T0 + 1, event(1))
    assert overflow is not None


def test_queue_keeps_capacity_plus_one_events_and_cache_size(write: Write) -> None:
    sc = scenario(write, capacity=2, leakspeed="1s", blackhole=None)
    state, results = run(sc, [0, 1, 2, 3, 3.5, 3.6])
    overflow = results[-1]
    assert results[:-1] == [None] * 5
    assert overflow is not None and overflow.count == 6
    assert [e["time"][17:] for e in overflow.queue] == ["03Z", "03.5Z", "03.6Z"]
    small = scenario(write, capacity=5, cache_size=2, blackhole=None)
    _, results = run(small, [0, 0, 0, 0, 0, 0])
    assert results[-1] is not None and len(results[-1].queue) == 3 and results[-1].count == 6


def test_state_is_json_and_input_is_not_mutated(write: Write) -> None:
    sc = scenario(write)
    state, _ = run(sc, [0, 1, 2])
    snapshot = copy.deepcopy(state)
    new_state, _ = pour(sc, state, T0 + 3, event(3))
    assert state == snapshot
    assert orjson.loads(orjson.dumps(new_state)) == new_state
    # pouring from a JSON round trip gives the same result
    again, _ = pour(sc, orjson.loads(orjson.dumps(state)), T0 + 3, event(3))
    assert again == new_state


def test_out_of_order_event_does_not_refill(write: Write) -> None:
    sc = scenario(write, capacity=2, blackhole=None)
    state, results = run(sc, [10, 10, 5])
    assert results[-1] is not None and results[-1].count == 3


def test_idle_states(write: Write) -> None:
    sc = scenario(write)
    state, _ = run(sc, [0])
    assert not is_idle(sc, state, T0 + 60)
    assert is_idle(sc, state, T0 + 61)
    bh = {"blackhole_until_ns": int(T0 + 60) * 10**9}
    assert not is_idle(sc, bh, T0 + 59) and is_idle(sc, bh, T0 + 60)
    assert is_idle(sc, None, T0)


@pytest.mark.parametrize("capacity", [1, 3, 5])
def test_overflow_count_matches_capacity(write: Write, capacity: int) -> None:
    sc = scenario(write, capacity=capacity)
    _, results = run(sc, [0.1 * i for i in range(capacity + 1)])
    assert [r is not None for r in results] == [False] * capacity + [True]
