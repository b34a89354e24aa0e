"""Pure bucket logic on event time: ``pour(scenario, state, ts, event) -> (state, overflow)``.

The state of one (scenario, bucket key) is a small JSON-able dict, never mutated in place::

    {"bucket": {"count": 3, "first_ns": …, "first_time": "…", "last_ns": …,
                "tokens": 2.0, "limiter_ns": …, "queue": [event, …], "seen": [...]},
     "blackhole_until_ns": …}

Semantics are CrowdSec's time-machine buckets (pkg/leakybucket):

* leaky: a token bucket (``golang.org/x/time/rate``) with burst = capacity, starting full and
  refilling one token per ``leakspeed``; the event that finds no token overflows;
* a bucket whose ``last + (capacity+1)·leakspeed`` is before the event is replaced by a new one;
* an overflow kills the bucket (the next event starts a new one);
* ``blackhole``: after an overflow, further overflows of the key are dropped until
  ``overflow time + blackhole`` (this outlives the bucket);
* ``distinct``: an event whose distinct value this bucket has already seen is ignored;
* trigger: every event overflows at once (and ``distinct`` does not apply);
* the queue keeps the last ``capacity + 1`` events (``cache_size`` can lower it).

Bucket types are a registry (:data:`BUCKET_TYPES`); counter, conditional and bayesian buckets
plug in later as further :class:`BucketType` implementations.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.scenario import Scenario

_NS = 1_000_000_000


def to_ns(ts: float) -> int:
    """Event time in integer nanoseconds (float seconds are rounded to the microsecond)."""
    if isinstance(ts, int):
        return ts * _NS
    return round(ts * 1_000_000) * 1000


@dataclass(frozen=True, slots=True)
class Overflow:
    """A bucket overflow: what the alert is built from."""

    scenario: str
    count: int
    first_ns: int
    stop_ns: int
    first_time: str
    stop_time: str
    queue: tuple[dict[str, Any], ...]


class BucketType(Protocol):
    """One kind of bucket (``type:`` of a scenario)."""

    name: str

    def validate(self, scenario: Scenario) -> str | None:
        """An error message when the scenario's settings do not fit this type."""

    def lifetime_ns(self, scenario: Scenario) -> int:
        """How long after its last event a bucket stays alive (0: no expiry)."""

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        """Pour into ``bucket`` (None: a new one); returns (bucket, overflowed)."""


def _queue_entry(scenario: Scenario, event: Mapping[str, Any]) -> dict[str, Any]:
    """What a queued event keeps: time, meta, source enrichment, this scenario's scope value."""
    entry = {"time": event.get("time", ""), "meta": event.get("meta", {})}
    if "enriched" in event:
        entry["enriched"] = event["enriched"]
    scope = (event.get("scope") or {}).get(scenario.id)
    if scope is not None:
        entry["scope"] = scope
    return entry


def _add_to_queue(queue: list[dict[str, Any]], entry: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """CrowdSec ``Queue.Add``: drop the oldest while longer than ``size``, then append."""
    keep = queue[len(queue) - size :] if len(queue) > size else queue
    return [*keep, entry]


def _new_bucket(t_ns: int, event: Mapping[str, Any]) -> dict[str, Any]:
    return {"count": 0, "first_ns": t_ns, "first_time": event.get("time", ""), "last_ns": t_ns,
            "queue": []}


class LeakyType:
    name = "leaky"

    def validate(self, scenario: Scenario) -> str | None:
        if scenario.capacity <= 0:
            return f"invalid capacity '{scenario.capacity}': must be > 0"
        if scenario.leakspeed_ns <= 0:
            return "leakspeed is required and must be > 0"
        return None

    def lifetime_ns(self, scenario: Scenario) -> int:
        return (scenario.capacity + 1) * scenario.leakspeed_ns

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        b = dict(bucket) if bucket is not None else _new_bucket(t_ns, event)
        capacity = scenario.capacity
        # x/time/rate: advance to t (never backwards), refill, then take one token
        if "limiter_ns" not in b:
            tokens = float(capacity)
        else:
            last = min(b["limiter_ns"], t_ns)
            sec, nsec = divmod(t_ns - last, _NS)
            tokens = min(float(capacity), b["tokens"] + (float(sec) + nsec / 1e9) * scenario.rate)
        tokens -= 1.0
        allowed = tokens >= 0 or int((-tokens / scenario.rate) * 1e9) <= 0
        b["count"] += 1
        b["last_ns"] = t_ns
        b["queue"] = _add_to_queue(b["queue"], _queue_entry(scenario, event), scenario.queue_size)
        if allowed:
            b["tokens"], b["limiter_ns"] = tokens, t_ns
        return b, not allowed


class TriggerType:
    name = "trigger"

    def validate(self, scenario: Scenario) -> str | None:
        if scenario.capacity != 0:
            return f"invalid capacity '{scenario.capacity}': must be 0"
        return None

    def lifetime_ns(self, scenario: Scenario) -> int:
        return 0

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        b = _new_bucket(t_ns, event)
        b["count"] = 1
        b["queue"] = [_queue_entry(scenario, event)]
        return b, True


BUCKET_TYPES: Mapping[str, BucketType] = MappingProxyType({
    "leaky": LeakyType(),
    "trigger": TriggerType(),
})
# Types CrowdSec has that are not implemented yet (a clear error instead of "unknown type").
PLANNED_TYPES = frozenset({"counter", "conditional", "bayesian"})


def pour(scenario: Scenario, state: Mapping[str, Any] | None, ts: float,
         event: dict[str, Any]) -> tuple[dict[str, Any] | None, Overflow | None]:
    """Pour one event (time ``ts``, epoch seconds) into a scenario's bucket state.

    Returns the new state (None when nothing needs keeping) and the overflow, if any. A
    blackholed overflow returns no overflow.
    """
    t_ns = to_ns(ts)
    kind = scenario.kind
    bucket = state.get("bucket") if state else None
    blackhole = state.get("blackhole_until_ns") if state else None
    lifetime = kind.lifetime_ns(scenario)
    if bucket is not None and t_ns > bucket["last_ns"] + lifetime:
        bucket = None  # expired on event time: start afresh
    if scenario.distinct is not None and kind is not BUCKET_TYPES["trigger"]:
        value = (event.get("distinct") or {}).get(scenario.id)
        if value is not None:
            seen = bucket.get("seen", []) if bucket is not None else []
            if value in seen:
                return _state(bucket, blackhole), None
            bucket = dict(bucket) if bucket is not None else _new_bucket(t_ns, event)
            bucket["seen"] = [*seen, value]
    bucket, overflowed = kind.pour(scenario, bucket, t_ns, event)
    if blackhole is not None and blackhole <= t_ns and not overflowed:
        blackhole = None
    if not overflowed or bucket is None:
        return _state(bucket, blackhole), None
    overflow = Overflow(scenario.name, bucket["count"], bucket["first_ns"], t_ns,
                        bucket["first_time"], event.get("time", ""), tuple(bucket["queue"]))
    if scenario.blackhole_ns:
        if blackhole is not None and blackhole > t_ns:
            return _state(None, blackhole), None
        blackhole = t_ns + scenario.blackhole_ns
    return _state(None, blackhole), overflow


def _state(bucket: dict[str, Any] | None, blackhole: int | None) -> dict[str, Any] | None:
    if bucket is None and blackhole is None:
        return None
    out: dict[str, Any] = {}
    if bucket is not None:
        out["bucket"] = bucket
    if blackhole is not None:
        out["blackhole_until_ns"] = blackhole
    return out


def is_idle(scenario: Scenario, state: Mapping[str, Any] | None, ts: float) -> bool:
    """True when the state can be dropped at event time ``ts``: its bucket has expired and
    its blackhole is over (for garbage collection of idle keys)."""
    if not state:
        return True
    t_ns = to_ns(ts)
    bucket = state.get("bucket")
    if bucket is not None and t_ns <= bucket["last_ns"] + scenario.kind.lifetime_ns(scenario):
        return False
    blackhole = state.get("blackhole_until_ns")
    return blackhole is None or blackhole <= t_ns
