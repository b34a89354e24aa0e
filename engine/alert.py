"""Overflow → alerts in the CrowdSec LAPI ``POST /v1/alerts`` shape (``models.Alert``).

One alert per distinct source of the overflow's queue (CrowdSec sends one ``APIAlert`` per
source). Each alert carries a deterministic ``uuid`` derived from (scenario id, bucket key,
start, stop, source value), so a redelivered overflow yields the same uuid.
"""
from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from engine.bucket import Overflow
from engine.durations import format_duration
from engine.expr.functions import go_parse_ip
from engine.gotime import GoTime, TimeParseError, parse_rfc3339
from engine.scenario import Scenario

log = logging.getLogger("crowdstream.engine.alert")

ALERT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://crowdstream/alerts")


class SourceError(ValueError):
    """The queue's events do not give a valid source for the scenario's scope."""


def _time(text: str, fallback_ns: int) -> GoTime:
    if text:
        try:
            return parse_rfc3339(text)
        except TimeParseError:
            pass
    return GoTime(fallback_ns)


def _float32(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def event_sources(scenario: Scenario, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``models.Source`` of one queued event (CrowdSec ``SourceFromEvent``): an
    overflow's sources when the event is a re-poured overflow, else its own source."""
    if "sources" in event:
        return _overflow_sources(scenario, event)
    return [_event_source(scenario, event)]


def _overflow_sources(scenario: Scenario, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A re-poured overflow's sources in this scenario's scope: kept when the scope is the
    same; an Ip source becomes a Range one (its range, or the scope expression's value) for a
    Range scenario; other combinations are skipped with a warning."""
    wanted = scenario.scope.type
    out = []
    for src in event["sources"]:
        if src.get("scope") == wanted:
            out.append(src)
            continue
        if wanted != "Range" or src.get("scope") != "Ip":
            log.warning("scenario %s requires scope %s, but can't extrapolate from %s (%s)",
                        scenario.name, wanted, src.get("scope"), src.get("value"))
            continue
        value = src.get("range", "")
        if scenario.scope.expression is not None:
            value = str(event.get("scope", ""))
        if not value:
            log.warning("scenario %s requires scope Range, but %s has no range",
                        scenario.name, src.get("value"))
            continue
        ranged = {k: v for k, v in src.items() if k not in ("ip", "scope", "value")}
        out.append({**ranged, "scope": wanted, "value": value})
    return out


def _event_source(scenario: Scenario, event: Mapping[str, Any]) -> dict[str, Any]:
    """The source of one log event (CrowdSec ``eventSources``)."""
    scope = scenario.scope.type
    if scope not in ("Ip", "Range"):
        return {"scope": scope, "value": str(event.get("scope", ""))}
    meta = event.get("meta") or {}
    ip = meta.get("source_ip")
    if ip is None:
        raise SourceError(f"scope is {scope} but Meta[source_ip] doesn't exist")
    if go_parse_ip(ip) is None:
        raise SourceError(f"scope is {scope} but '{ip}' isn't a valid ip")
    src: dict[str, Any] = {"ip": ip, "scope": scope}
    enriched = event.get("enriched") or {}
    as_number = enriched.get("ASNumber", enriched.get("ASNNumber"))
    if as_number:
        src["as_number"] = as_number
    if enriched.get("IsoCode"):
        src["cn"] = enriched["IsoCode"]
    if enriched.get("ASNOrg"):
        src["as_name"] = enriched["ASNOrg"]
    for key, name in (("Latitude", "latitude"), ("Longitude", "longitude")):
        value = _float32(enriched[key]) if key in enriched else None
        if value:
            src[name] = value
    source_range = meta.get("SourceRange", "")
    if source_range:
        try:
            src["range"] = str(ipaddress.ip_network(source_range, strict=False))
        except ValueError:
            raise SourceError(f"declared range {source_range} of {ip} can't be parsed") from None
    if scope == "Ip":
        src["value"] = ip
    else:
        src["value"] = str(event["scope"]) if "scope" in event else src.get("range", "")
    return src


def make_alerts(scenario: Scenario, key: str, overflow: Overflow) -> list[dict[str, Any]]:
    """The alerts of an overflow ([] when its events carry no valid source)."""
    sources: dict[str, dict[str, Any]] = {}
    try:
        for event in overflow.queue:
            for src in event_sources(scenario, event):
                sources[src["value"]] = src
    except SourceError as exc:
        log.warning("scenario %s: overflow of %r dropped: %s", scenario.name, key, exc)
        return []
    if not sources:
        return []
    first = _time(overflow.first_time, overflow.first_ns)
    stop = _time(overflow.stop_time, overflow.stop_ns)
    start_at, stop_at = first.marshal_text(), stop.marshal_text()
    scope = next(iter(sources.values()))["scope"]
    shown = next(iter(sources)) if len(sources) == 1 else f"{len(sources)} sources"
    message = (f"{scope} {shown} performed '{scenario.name}' ({overflow.count} events over "
               f"{format_duration(stop.unix_ns - first.unix_ns)}) at {stop.String()}")
    events = [{"meta": [{"key": k, "value": v} for k, v in sorted((e.get("meta") or {}).items())],
               "timestamp": e.get("time", "")} for e in overflow.queue]
    alerts = []
    for value in sorted(sources):
        alerts.append({
            "uuid": str(uuid.uuid5(ALERT_NAMESPACE, "\x00".join(
                (scenario.id, key, start_at, stop_at, value)))),
            "scenario": scenario.name,
            "scenario_hash": scenario.hash,
            "scenario_version": scenario.version,
            "message": message,
            "events_count": overflow.count,
            "start_at": start_at,
            "stop_at": stop_at,
            "capacity": scenario.capacity,
            "leakspeed": scenario.leakspeed,
            "simulated": scenario.simulated,
            "remediation": scenario.remediation,
            "decisions": None,
            "labels": None,
            "events": events,
            "source": dict(sources[value]),
        })
    return alerts
