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
* the queue keeps the last ``capacity + 1`` events (``cache_size`` can lower it; capacity -1
  keeps them all unless ``cache_size`` is set);
* conditional: never overflows on capacity; its ``condition`` (env ``evt``, ``queue``,
  ``leaky``) is evaluated after each pour and, when true, overflows at the event's time; its
  lifetime is ``leakspeed``. ``condition`` on other types (not trigger) works the same way;
* ``cancel_on``: an event for which it was true (computed when routing, ``event["cancel"]``)
  kills the bucket without overflow (after ``distinct``, which may drop the event first);
* ``overflow_filter`` (env ``queue``, ``signal``, ``leaky``): false discards the overflow
  (the bucket is dead, the blackhole is not armed); an error or non-bool keeps it;
* counter: capacity -1, never overflows on pour; it overflows ``duration`` after its first
  event. Time only advances with data, so that timed overflow is emitted by :func:`expire`
  (called by whoever knows that time has advanced) or, for the same key, by the next
  :func:`pour` at or after the deadline (the old bucket overflows, the event starts a new one);
* bayesian: never overflows on capacity (capacity -1). After each pour the posterior starts
  again from ``bayesian_prior`` and goes through every ``bayesian_conditions`` entry in order
  (env ``evt``, ``queue``, ``leaky``): a true condition applies Bayes' rule with
  (``prob_given_evil``, ``prob_given_benign``), a false one with their complements, a failing
  or non-bool one is skipped (logged). The arithmetic is float32, like CrowdSec's. A
  ``guillotine`` condition that has been true once in this bucket is no longer evaluated and
  counts as true (the bucket keeps the indexes, ``"guillotined": [0, …]``). A posterior
  above ``bayesian_threshold`` overflows at the event's time; the lifetime is ``leakspeed``.

Queued events keep what alerts and expressions use (time, meta, source enrichment, scope);
expressions see them as :class:`engine.event.Event` (``Meta``, ``Enriched``, ``Time``,
``MarshaledTime``, ``GetMeta``), rebuilt from the state.

Bucket types are a registry (:data:`BUCKET_TYPES`) of :class:`BucketType` implementations.
"""
from __future__ import annotations

import logging
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from engine.event import Event
from engine.gotime import GoDuration, GoTime, TimeParseError, parse_rfc3339

if TYPE_CHECKING:
    from engine.scenario import Scenario

_NS = 1_000_000_000
log = logging.getLogger("crowdstream.engine")


def float32(value: float) -> float:
    """``value`` rounded to the nearest float32 (Go's ``float32(x)``)."""
    return struct.unpack("f", struct.pack("f", value))[0]  # type: ignore[no-any-return]


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

    def validate(self, scenario: Scenario) -> str | tuple[str, str] | None:
        """A problem when the scenario's settings do not fit this type: a message, or
        (key, message) when one key is at fault."""

    def lifetime_ns(self, scenario: Scenario) -> int:
        """How long after its last event a bucket stays alive (0: no expiry)."""

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        """Pour into ``bucket`` (None: a new one); returns (bucket, overflowed)."""


def _queue_entry(scenario: Scenario, event: Mapping[str, Any]) -> dict[str, Any]:
    """What a queued event keeps: time, meta, source enrichment, an overflow's sources, this
    scenario's scope value."""
    entry = {"time": event.get("time", ""), "meta": event.get("meta", {})}
    for key in ("enriched", "sources"):
        if key in event:
            entry[key] = event[key]
    scope = (event.get("scope") or {}).get(scenario.id)
    if scope is not None:
        entry["scope"] = scope
    return entry


def _add_to_queue(queue: list[dict[str, Any]], entry: dict[str, Any],
                  size: int | None) -> list[dict[str, Any]]:
    """CrowdSec ``Queue.Add``: drop the oldest while longer than ``size`` (None: unbounded),
    then append."""
    keep = queue[len(queue) - size :] if size is not None and len(queue) > size else queue
    return [*keep, entry]


def _add_event(scenario: Scenario, b: dict[str, Any], t_ns: int, event: Mapping[str, Any]) -> None:
    """Count the event, move ``last`` and queue it (``b`` is a fresh copy)."""
    b["count"] += 1
    b["last_ns"] = t_ns
    b["queue"] = _add_to_queue(b["queue"], _queue_entry(scenario, event), scenario.queue_size)


def _new_bucket(t_ns: int, event: Mapping[str, Any]) -> dict[str, Any]:
    return {"count": 0, "first_ns": t_ns, "first_time": event.get("time", ""), "last_ns": t_ns,
            "queue": []}


def _poured(scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
            event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``bucket`` (a new one when None) with the event added."""
    b = dict(bucket) if bucket is not None else _new_bucket(t_ns, event)
    _add_event(scenario, b, t_ns, event)
    return b


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
        _add_event(scenario, b, t_ns, event)
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


class ConditionalType:
    """Overflows when its ``condition`` is true after a pour (see :func:`pour`), never on
    capacity; lives ``leakspeed`` after its last event."""

    name = "conditional"

    def validate(self, scenario: Scenario) -> str | None:
        if scenario.condition is None:
            return "a condition is required"
        if scenario.leakspeed_ns <= 0:
            return "leakspeed is required and must be > 0"
        return None  # CrowdSec only warns when capacity is not -1

    def lifetime_ns(self, scenario: Scenario) -> int:
        return scenario.leakspeed_ns

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        return _poured(scenario, bucket, t_ns, event), False


class CounterType:
    """Counts every event; overflows ``duration`` after its first one (:func:`expire`)."""

    name = "counter"

    def validate(self, scenario: Scenario) -> str | None:
        if scenario.capacity != -1:
            return f"invalid capacity '{scenario.capacity}': must be -1"
        if scenario.duration_ns <= 0:
            return "duration is required and must be > 0"
        return None

    def lifetime_ns(self, scenario: Scenario) -> int:
        return scenario.duration_ns

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        return _poured(scenario, bucket, t_ns, event), False


def bayes_update(prior: float, given_evil: float, given_benign: float) -> float:
    """Bayes' rule in float32 (every operation rounded, as Go computes on float32)."""
    numerator = float32(given_evil * prior)
    denominator = float32(numerator + float32(given_benign * float32(1.0 - prior)))
    if denominator == 0.0:  # then the numerator is 0 too: Go's 0/0
        return math.nan
    return float32(numerator / denominator)


class BayesianType:
    """Overflows when the posterior of its ``bayesian_conditions`` (recomputed from the prior
    after each pour) is above ``bayesian_threshold``; lives ``leakspeed`` after its last
    event. Problems of the bayesian keys themselves are reported by the scenario loader."""

    name = "bayesian"

    def validate(self, scenario: Scenario) -> str | tuple[str, str] | None:
        if not scenario.bayesian_conditions:
            return "bayesian_conditions", "is required"
        if scenario.bayesian_prior == 0.0:
            return "bayesian_prior", "is required"
        if scenario.bayesian_threshold == 0.0:
            return "bayesian_threshold", "is required"
        if scenario.capacity != -1:
            return f"invalid capacity '{scenario.capacity}': must be -1"
        if scenario.leakspeed_ns <= 0:
            return "leakspeed is required and must be > 0"
        return None

    def lifetime_ns(self, scenario: Scenario) -> int:
        return scenario.leakspeed_ns

    def pour(self, scenario: Scenario, bucket: dict[str, Any] | None, t_ns: int,
             event: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        b = _poured(scenario, bucket, t_ns, event)
        posterior, guillotined = self.posterior(scenario, b, event)
        if guillotined != b.get("guillotined", []):
            b["guillotined"] = guillotined
        return b, posterior > scenario.bayesian_threshold

    @staticmethod
    def posterior(scenario: Scenario, b: Mapping[str, Any],
                  event: Mapping[str, Any]) -> tuple[float, list[int]]:
        """The posterior after ``event`` (already in ``b``), and the guillotined indexes."""
        posterior = scenario.bayesian_prior
        guillotined: list[int] = list(b.get("guillotined", []))
        env: dict[str, Any] | None = None
        for index, cond in enumerate(scenario.bayesian_conditions):
            if index in guillotined:
                posterior = bayes_update(posterior, cond.prob_given_evil, cond.prob_given_benign)
                continue
            if env is None:
                env = _condition_env(scenario, b, event)
            value = _run_bool(scenario, f"bayesian_conditions[{index}]", cond.condition, env)
            if value is True:
                posterior = bayes_update(posterior, cond.prob_given_evil, cond.prob_given_benign)
                if cond.guillotine:
                    guillotined.append(index)
            elif value is False:
                posterior = bayes_update(posterior, float32(1.0 - cond.prob_given_evil),
                                         float32(1.0 - cond.prob_given_benign))
        return posterior, sorted(guillotined)


BUCKET_TYPES: Mapping[str, BucketType] = MappingProxyType({
    "leaky": LeakyType(),
    "trigger": TriggerType(),
    "conditional": ConditionalType(),
    "counter": CounterType(),
    "bayesian": BayesianType(),
})
_TRIGGER = BUCKET_TYPES["trigger"]
_COUNTER = BUCKET_TYPES["counter"]


# --- what expressions see ------------------------------------------------------------------

def _as_event(entry: Mapping[str, Any]) -> Event:
    """A queued (or poured) event as the ``pipeline.Event`` expressions read."""
    evt = Event()
    text = entry.get("time", "")
    evt.MarshaledTime = text
    if text:
        try:
            evt.Time = parse_rfc3339(text)
        except TimeParseError:
            pass
    evt.Meta.update(entry.get("meta") or {})
    evt.Enriched.update(entry.get("enriched") or {})
    return evt


class QueueView:
    """``pipeline.Queue``: ``Queue`` (the events, oldest first), ``L`` and ``GetQueue()``."""

    __slots__ = ("Queue", "L")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, entries: list[dict[str, Any]], size: int | None) -> None:
        self.Queue = [_as_event(e) for e in entries]
        self.L = size if size is not None else (1 << 63) - 1

    def GetQueue(self) -> list[Event]:  # noqa: N802 - Go method name
        return self.Queue


class LeakyView:
    """The ``leaky`` of expressions: the bucket's counters and times (read only)."""

    __slots__ = ("Name", "Total_count", "First_ts", "Last_ts", "Ovflw_ts", "Duration", "Capacity")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, scenario: Scenario, b: Mapping[str, Any], ovflw_ns: int | None) -> None:
        self.Name = scenario.name
        self.Total_count = b["count"]
        self.First_ts = GoTime(b["first_ns"])
        self.Last_ts = GoTime(b["last_ns"])
        self.Ovflw_ts = GoTime(ovflw_ns) if ovflw_ns is not None else GoTime.zero()
        self.Duration = GoDuration(scenario.kind.lifetime_ns(scenario))
        self.Capacity = scenario.capacity


class SignalView:
    """The ``signal`` of ``overflow_filter``: a small ``RuntimeAlert`` (its ``Alert``)."""

    __slots__ = ("Alert", "Mapkey")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, overflow: Overflow, scenario: Scenario) -> None:
        self.Alert = AlertView(overflow, scenario)
        self.Mapkey = ""


class AlertView:
    __slots__ = ("Scenario", "EventsCount", "StartAt", "StopAt", "Capacity", "Leakspeed")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, overflow: Overflow, scenario: Scenario) -> None:
        self.Scenario = overflow.scenario
        self.EventsCount = overflow.count
        self.StartAt = overflow.first_time or GoTime(overflow.first_ns).marshal_text()
        self.StopAt = overflow.stop_time or GoTime(overflow.stop_ns).marshal_text()
        self.Capacity = scenario.capacity
        self.Leakspeed = scenario.leakspeed

    def GetScenario(self) -> str:  # noqa: N802
        return self.Scenario

    def GetEventsCount(self) -> int:  # noqa: N802
        return self.EventsCount


def _run_bool(scenario: Scenario, what: str, expr: Any, env: dict[str, Any]) -> bool | None:
    """Run ``expr``; None (logged) when it fails or does not give a bool."""
    try:
        value = expr.fn(env)
    except Exception as exc:  # noqa: BLE001 - CrowdSec logs and goes on
        log.warning("scenario %s: %s failed: %s", scenario.name, what, exc)
        return None
    if type(value) is not bool:
        log.warning("scenario %s: %s returned %s, not a bool", scenario.name, what, type(value).__name__)
        return None
    return value


def _condition_env(scenario: Scenario, b: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """What ``condition`` and bayesian conditions see: ``evt``, ``queue``, ``leaky``."""
    return {"evt": _as_event(event), "queue": QueueView(b["queue"], scenario.queue_size),
            "leaky": LeakyView(scenario, b, None)}


def _condition(scenario: Scenario, b: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    return _run_bool(scenario, "condition", scenario.condition, _condition_env(scenario, b, event)) is True


def pour(scenario: Scenario, state: Mapping[str, Any] | None, ts: float,
         event: dict[str, Any]) -> tuple[dict[str, Any] | None, Overflow | None]:
    """Pour one event (time ``ts``, epoch seconds) into a scenario's bucket state.

    Returns the new state (None when nothing needs keeping) and the overflow, if any. A
    blackholed or filtered-out overflow returns no overflow. A counter bucket whose deadline
    has come by ``ts`` first overflows (that is the overflow returned), then the event starts
    a new bucket.
    """
    t_ns = to_ns(ts)
    kind = scenario.kind
    bucket = state.get("bucket") if state else None
    blackhole = state.get("blackhole_until_ns") if state else None
    timed: Overflow | None = None
    if kind is _COUNTER and bucket is not None and t_ns >= bucket["first_ns"] + scenario.duration_ns:
        timed, blackhole = _timed_overflow(scenario, bucket, blackhole)
        bucket = None
    lifetime = kind.lifetime_ns(scenario)
    if bucket is not None and t_ns > bucket["last_ns"] + lifetime:
        bucket = None  # expired on event time: start afresh
    if kind is not _TRIGGER:
        if scenario.distinct is not None:
            value = (event.get("distinct") or {}).get(scenario.id)
            if value is not None:
                seen = bucket.get("seen", []) if bucket is not None else []
                if value in seen:
                    return _state(bucket, blackhole), timed
                bucket = dict(bucket) if bucket is not None else _new_bucket(t_ns, event)
                bucket["seen"] = [*seen, value]
        if scenario.cancel_on is not None and (event.get("cancel") or {}).get(scenario.id) is True:
            return _state(None, blackhole), timed  # cancel_on: the bucket dies, no overflow
    bucket, overflowed = kind.pour(scenario, bucket, t_ns, event)
    if (not overflowed and bucket is not None and scenario.condition is not None
            and kind is not _TRIGGER and _condition(scenario, bucket, event)):
        overflowed = True
    if blackhole is not None and blackhole <= t_ns and not overflowed:
        blackhole = None
    if not overflowed or bucket is None:
        return _state(bucket, blackhole), timed
    overflow = Overflow(scenario.name, bucket["count"], bucket["first_ns"], t_ns,
                        bucket["first_time"], event.get("time", ""), tuple(bucket["queue"]))
    overflow, blackhole = _on_overflow(scenario, bucket, overflow, t_ns, blackhole)
    return _state(None, blackhole), overflow if overflow is not None else timed


def _on_overflow(scenario: Scenario, bucket: Mapping[str, Any], overflow: Overflow, t_ns: int,
                 blackhole: int | None) -> tuple[Overflow | None, int | None]:
    """The overflow processors, in CrowdSec's order: ``overflow_filter``, then ``blackhole``.
    Returns the overflow (None: discarded) and the new blackhole deadline."""
    if scenario.overflow_filter is not None:
        env = {"evt": None, "queue": QueueView(list(overflow.queue), scenario.queue_size),
               "signal": SignalView(overflow, scenario), "leaky": LeakyView(scenario, bucket, t_ns)}
        if _run_bool(scenario, "overflow_filter", scenario.overflow_filter, env) is False:
            return None, blackhole
    if scenario.blackhole_ns:
        if blackhole is not None and blackhole > t_ns:
            return None, blackhole
        blackhole = t_ns + scenario.blackhole_ns
    return overflow, blackhole


def _timed_overflow(scenario: Scenario, bucket: Mapping[str, Any],
                    blackhole: int | None) -> tuple[Overflow | None, int | None]:
    """A counter bucket reaching its deadline (``first + duration``): it overflows then."""
    at = bucket["first_ns"] + scenario.duration_ns
    overflow = Overflow(scenario.name, bucket["count"], bucket["first_ns"], at,
                        bucket["first_time"], GoTime(at).marshal_text(), tuple(bucket["queue"]))
    return _on_overflow(scenario, bucket, overflow, at, blackhole)


def expire(scenario: Scenario, state: Mapping[str, Any] | None,
           now_ts: float) -> tuple[dict[str, Any] | None, Overflow | None]:
    """Let event time advance to ``now_ts`` (epoch seconds) without an event.

    A counter bucket whose deadline (first event + ``duration``) is at or before ``now_ts``
    overflows (the overflow is returned, through ``overflow_filter`` and ``blackhole``); a
    bucket of another type that has outlived its lifetime is dropped (no overflow); an
    ended blackhole is forgotten. Returns the new state (None: nothing left) and the overflow.
    """
    if not state:
        return None, None
    t_ns = to_ns(now_ts)
    bucket = state.get("bucket")
    blackhole = state.get("blackhole_until_ns")
    overflow: Overflow | None = None
    if bucket is not None:
        if scenario.kind is _COUNTER:
            if t_ns >= bucket["first_ns"] + scenario.duration_ns:
                overflow, blackhole = _timed_overflow(scenario, bucket, blackhole)
                bucket = None
        elif t_ns > bucket["last_ns"] + scenario.kind.lifetime_ns(scenario):
            bucket = None
    if blackhole is not None and blackhole <= t_ns:
        blackhole = None
    return _state(bucket, blackhole), overflow


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
    its blackhole is over (for garbage collection of idle keys). A counter bucket is never
    idle: its overflow is owed, call :func:`expire` first."""
    if not state:
        return True
    t_ns = to_ns(ts)
    bucket = state.get("bucket")
    if bucket is not None and scenario.kind is _COUNTER:
        return False  # its overflow is still to come: expire() first
    if bucket is not None and t_ns <= bucket["last_ns"] + scenario.kind.lifetime_ns(scenario):
        return False
    blackhole = state.get("blackhole_until_ns")
    return blackhole is None or blackhole <= t_ns


def deadline_ns(scenario: Scenario, state: Mapping[str, Any] | None) -> int | None:
    """The earliest event time (ns) at which :func:`expire` would change ``state``: a counter's
    timed overflow, a bucket's end of life, a blackhole's end; None when nothing is pending."""
    if not state:
        return None
    due: list[int] = []
    bucket = state.get("bucket")
    if bucket is not None:
        if scenario.kind is _COUNTER:
            due.append(bucket["first_ns"] + scenario.duration_ns)
        else:
            due.append(bucket["last_ns"] + scenario.kind.lifetime_ns(scenario) + 1)
    blackhole = state.get("blackhole_until_ns")
    if blackhole is not None:
        due.append(blackhole)
    return min(due) if due else None
