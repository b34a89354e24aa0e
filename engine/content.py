"""The facade the pipeline uses: parse lines, route events to scenarios, pour into buckets.

Stage A (stateless): ``parse`` → ``route`` → for each (key, scenarios): ``pour_event`` and
``event_time`` make the ``topics.records.Pour``. Stage B (stateful, keyed by bucket key):
``pour(key, scenarios, ts, event, states)`` updates the states in place and returns the
overflows; ``expire`` advances time without an event and ``deadline`` says when that is next
needed. Each overflow then goes through ``postoverflow`` (see :mod:`engine.overflow`).

The pour event (``Pour.event``) is a compact JSON-able projection of the event::

    {"time": "2026-11-22T06:10:08Z",           # MarshaledTime, else evt.Time (RFC 3339)
     "meta": {"source_ip": "…", …},             # evt.Meta
     "enriched": {"IsoCode": "FR", …},          # only the source fields alerts use, if any
     "sources": [{"scope": "Ip", …}, …],       # an overflow event's sources (reprocess)
     "distinct": {"<scenario id>": "<value>"},  # per-event values of scenario expressions,
     "scope": {"<scenario id>": "<value>"},     # only for scenarios that have them
     "cancel": {"<scenario id>": true}}         # scenarios whose cancel_on is true

Scenario names in routes and states are scenario ids: the name, unless a name repeats.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine import bucket
from engine.alert import make_alerts
from engine.bucket import Overflow
from engine.event import Event
from engine.gotime import TimeParseError, parse_rfc3339
from engine.overflow import BucketOverflow, overflow_event, source_dict
from engine.parser import ParserChain, load_parsers
from engine.parser.chain import Observer
from engine.runtime import Runtime
from engine.scenario import Scenario, load_scenarios
from engine.simulation import Simulation

log = logging.getLogger("crowdstream.engine")

SOURCE_ENRICHMENTS = ("ASNumber", "ASNNumber", "IsoCode", "ASNOrg", "Latitude", "Longitude")


class Content:
    """Loaded parsers and scenarios."""

    def __init__(self, parsers: ParserChain, scenarios: Sequence[Scenario],
                 runtime: Runtime | None = None, postoverflows: ParserChain | None = None) -> None:
        self.parsers = parsers
        #: the postoverflow stages (s00-enrich, s01-whitelist…), None when there are none
        self.postoverflows = postoverflows if postoverflows is not None and postoverflows.stages else None
        #: the runtime the content was loaded with (its stash, data files, options)
        if runtime is None:
            runtime = parsers.runtime if parsers.runtime is not None else Runtime()
        self.runtime = runtime
        self._scenarios = tuple(scenarios)
        # by name; a repeated name gets an id "name#2"… (see engine.scenario.load_scenarios)
        self.scenarios: Mapping[str, Scenario] = {s.id: s for s in self._scenarios}
        if len(self.scenarios) != len(self._scenarios):
            raise ValueError("scenario ids must be unique")
        # CrowdSec keys a bucket by hash(filter, groupby value, name): scenarios with the same
        # name and filter share one bucket, which behaves as the first of them (the one that
        # creates it in load order); the others' events are poured into it
        first: dict[tuple[str, str], Scenario] = {}
        self._bucket_of: Mapping[str, Scenario] = {
            s.id: first.setdefault((s.name, s.filter.source), s) for s in self._scenarios}
        self._per_event = tuple(s for s in self._scenarios if s.distinct is not None
                                or s.scope.expression is not None or s.cancel_on is not None)

    @classmethod
    def load(cls, parser_dirs: Sequence[Path], scenario_paths: Sequence[Path],
             patterns_dir: Path, *, runtime: Runtime | None = None,
             postoverflow_dirs: Sequence[Path] = (),
             simulation: Simulation | None = None) -> Content:
        """Load parser stage files/directories, scenario files/directories, postoverflow stage
        directories and grok patterns with ``runtime`` (a default :class:`Runtime` when
        None); ``simulation`` marks the scenarios in simulation. Raises
        :class:`engine.spec.ContentError` naming the file and key of any problem."""
        if runtime is None:
            runtime = Runtime()
        parsers = load_parsers(parser_dirs, patterns_dir, runtime=runtime)
        scenarios = load_scenarios(scenario_paths, runtime=runtime)
        if simulation is not None:
            scenarios = [replace(s, simulated=True) if simulation.is_simulated(s.name) else s
                         for s in scenarios]
        post = load_parsers(postoverflow_dirs, patterns_dir, runtime=runtime) if postoverflow_dirs else None
        return cls(parsers, scenarios, runtime, post)

    def parse(self, line: str, *, source: str, module: str, labels: Mapping[str, str],
              ingest_ts: float) -> Event | None:
        """Parse one log line; None when the parsers drop it (or it is whitelisted)."""
        evt = Event.from_line(line, source=source, module=module, labels=labels, ingest_ts=ingest_ts)
        parsed = self.parsers.parse(evt)
        if parsed is None or parsed.Whitelisted:
            return None
        return parsed

    def route(self, evt: Event) -> list[tuple[str, list[str]]]:
        """[(bucket key, [scenario names whose filter matched, in load order])], grouped by
        groupby value; a scenario without groupby has key ``""``. As in CrowdSec, a filter
        or groupby that fails stops the routing of this event (earlier matches are kept).
        A whitelisted event is never poured: []."""
        if evt.Whitelisted:
            evt._routed = []
            return []
        line_time = evt.Line.Time
        self.runtime.event_time_ns = (line_time if not line_time.IsZero() else evt.Time).unix_ns
        env = {"evt": evt}
        routes: dict[str, list[str]] = {}
        matched: list[str] = []
        for scenario in self._scenarios:
            try:
                ok = scenario.filter.fn(env)
                if ok is not True:
                    if ok is not False:
                        log.error("scenario %s: filter returned %s, not a bool", scenario.name, type(ok).__name__)
                    continue
                key = scenario.groupby.fn(env) if scenario.groupby is not None else ""
            except Exception as exc:  # noqa: BLE001 - CrowdSec aborts this event's pours
                log.warning("scenario %s: %s", scenario.name, exc)
                break
            if type(key) is not str:
                log.error("scenario %s: groupby returned %s, not a string", scenario.name, type(key).__name__)
                continue
            routes.setdefault(key, []).append(scenario.id)
            matched.append(scenario.id)
        evt._routed = matched
        return list(routes.items())

    def pour_event(self, evt: Event) -> dict[str, Any]:
        """The compact JSON-able event of ``topics.records.Pour.event`` (see module doc)."""
        out: dict[str, Any] = {"time": evt.MarshaledTime or evt.Time.marshal_text(),
                               "meta": dict(evt.Meta)}
        enriched = {k: evt.Enriched[k] for k in SOURCE_ENRICHMENTS if k in evt.Enriched}
        if enriched:
            out["enriched"] = enriched
        if evt.Overflow is not None:
            out["sources"] = [source_dict(src) for src in evt.Overflow.Sources.values()]
        if self._per_event:
            routed = evt._routed
            env = {"evt": evt}
            for scenario in self._per_event:
                if routed is not None and scenario.id not in routed:
                    continue
                for field, expression in (("distinct", scenario.distinct),
                                          ("scope", scenario.scope.expression)):
                    if expression is None:
                        continue
                    try:
                        value = expression.fn(env)
                    except Exception as exc:  # noqa: BLE001 - CrowdSec pours anyway
                        log.debug("scenario %s: %s failed: %s", scenario.name, field, exc)
                        continue
                    if type(value) is not str:
                        if field == "distinct":
                            continue  # CrowdSec: not a string, the event is poured anyway
                        value = ""
                    out.setdefault(field, {})[scenario.id] = value
                if scenario.cancel_on is not None:
                    try:
                        cancel = scenario.cancel_on.fn(env)
                    except Exception as exc:  # noqa: BLE001 - CrowdSec pours anyway
                        log.warning("scenario %s: cancel_on failed: %s", scenario.name, exc)
                        continue
                    if cancel is True:
                        out.setdefault("cancel", {})[scenario.id] = True
                    elif cancel is not False:
                        log.warning("scenario %s: cancel_on returned %s, not a bool",
                                    scenario.name, type(cancel).__name__)
        return out

    def event_time(self, evt: Event) -> float:
        """Event time in epoch seconds: ``MarshaledTime`` (set by date parsing), else
        ``evt.Time`` (the ingest time unless a parser changed it)."""
        if evt.MarshaledTime:
            try:
                return parse_rfc3339(evt.MarshaledTime).timestamp()
            except TimeParseError:
                pass
        return evt.Time.timestamp()

    def pour(self, key: str, scenarios: Sequence[str], ts: float, event: dict[str, Any],
             states: dict[str, dict[str, Any]]) -> list[BucketOverflow]:
        """Pour one event into each named scenario's bucket state in ``states`` (scenario id
        → state, updated or removed in place; scenarios sharing a bucket share a state, see
        ``__init__``); returns the overflows (with their alerts)."""
        alerts: list[BucketOverflow] = []
        for name in scenarios:
            scenario = self._bucket_of.get(name)
            if scenario is None:
                log.warning("pour for unknown scenario %r ignored", name)
                continue
            sid = scenario.id
            alerts.extend(_apply(states, sid, scenario, key,
                                 bucket.pour(scenario, states.get(sid), ts, event)))
        return alerts

    def expire(self, key: str, ts: float, states: dict[str, dict[str, Any]]) -> list[BucketOverflow]:
        """Advance event time to ``ts`` for the states of one bucket key (scenario name →
        state, updated or removed in place): counter buckets whose deadline has come
        overflow, expired buckets and ended blackholes go. Returns the overflows."""
        alerts: list[BucketOverflow] = []
        for name in list(states):
            scenario = self.scenarios.get(name)
            if scenario is None:
                continue
            alerts.extend(_apply(states, name, scenario, key, bucket.expire(scenario, states[name], ts)))
        return alerts

    def deadline(self, states: Mapping[str, Mapping[str, Any]]) -> float | None:
        """The earliest event time (epoch seconds) at which :meth:`expire` would change
        ``states``; None when nothing is pending (the states are empty)."""
        due = None
        for name, state in states.items():
            scenario = self.scenarios.get(name)
            at = bucket.deadline_ns(scenario, state) if scenario is not None else None
            if at is not None and (due is None or at < due):
                due = at
        return None if due is None else due / 1e9

    def postoverflow(self, overflow: BucketOverflow, observer: Observer | None = None) -> Event:
        """The overflow's ``OVFLW`` event after the postoverflow stages;
        ``evt.Overflow.Whitelisted`` is set when a postoverflow whitelist matched."""
        evt = overflow_event(overflow.alerts, overflow.mapkey, overflow.scenario.reprocess)
        if self.postoverflows is not None:
            self.postoverflows.parse(evt, observer)
            if evt.Whitelisted:
                evt.Overflow.Whitelisted = True
        return evt


def _apply(states: dict[str, dict[str, Any]], name: str, scenario: Scenario, key: str,
           result: tuple[dict[str, Any] | None, Overflow | None]) -> list[BucketOverflow]:
    """Store a bucket step's new state (None removes it); its overflow, if it has alerts."""
    state, overflow = result
    if state is None:
        states.pop(name, None)
    else:
        states[name] = state
    if overflow is None:
        return []
    alerts = make_alerts(scenario, key, overflow)
    return [BucketOverflow(scenario, key, alerts)] if alerts else []
