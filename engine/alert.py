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


def event_source(scenario: Scenario, event: Mapping[str, Any]) -> dict[str, Any]:
    """The ``models.Source`` of one queued event (CrowdSec ``eventSources``)."""
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
            src = event_source(scenario, event)
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
            "simulated": False,
            "remediation": scenario.remediation,
            "decisions": None,
            "labels": None,
            "events": events,
            "source": dict(sources[value]),
        })
    return alerts
