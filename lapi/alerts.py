"""Reading alerts back: ``GET /v1/alerts`` filters and the alert's API shape (as cscli 1.4.6
reads it: ``start_at``/``stop_at`` in Go's default time layout, ``created_at`` RFC 3339,
decisions with the time they have left, events with their meta, empty fields omitted)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from lapi.db.models import Alert, Decision
from lapi.decisions import active_clauses, decision_json, parse_bool, parse_int
from lapi.errors import InvalidFilter
from lapi.gotime import format_go_time, format_rfc3339, parse_duration
from lapi.iprange import parse_ip_range
from lapi.scopes import normalize_scope

Query = Mapping[str, Sequence[str]]

#: what ``GET /v1/alerts`` answers without ``limit`` (CrowdSec's default page)
DEFAULT_LIMIT = 100
PARAMETERS = frozenset({
    "scope", "value", "scenario", "ip", "range", "contains", "since", "until", "simulated",
    "has_active_decision", "decision_type", "origin", "include_capi", "limit", "sort",
})


def _first(query: Query, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _ago(name: str, text: str, now: datetime) -> datetime:
    try:
        return now - parse_duration(text)
    except ValueError as exc:
        raise InvalidFilter(f"invalid {name}: {exc}") from None


def alert_filter(query: Query, now: datetime) -> tuple[list[ColumnElement[bool]], int | None]:
    """The WHERE clauses and the limit (None: all) of ``GET /v1/alerts``; InvalidFilter
    (400) for an unknown parameter or a bad value. ``ip``/``range`` keep the alerts whose
    source is that value or that hold a decision covering it (``contains=false``: inside
    it); ``include_capi`` is accepted and has no effect (this LAPI holds no CAPI alerts)."""
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        raise InvalidFilter(f"unknown filter parameter '{unknown[0]}'")
    clauses: list[ColumnElement[bool]] = []
    if (scope := _first(query, "scope")) is not None:
        clauses.append(Alert.source_scope == normalize_scope(scope))
    if (value := _first(query, "value")) is not None:
        clauses.append(Alert.source_value == value)
    if (scenario := _first(query, "scenario")) is not None:
        clauses.append(Alert.scenario == scenario)
    if (since := _first(query, "since")) is not None:
        clauses.append(Alert.created_at > _ago("since", since, now))
    if (until := _first(query, "until")) is not None:
        clauses.append(Alert.created_at < _ago("until", until, now))
    simulated = _first(query, "simulated")
    if simulated is None or not parse_bool("simulated", simulated):
        clauses.append(Alert.simulated.is_(False))
    decision_clauses: list[ColumnElement[bool]] = []
    active = _first(query, "has_active_decision")
    if active is not None and parse_bool("has_active_decision", active):
        decision_clauses += active_clauses(Decision, now)
    if (kind := _first(query, "decision_type")) is not None:
        decision_clauses.append(Decision.type == kind)
    if (origin := _first(query, "origin")) is not None:
        decision_clauses.append(Decision.origin == origin)
    if decision_clauses:
        clauses.append(exists().where(Decision.alert_id == Alert.id, *decision_clauses))
    ip_text = _first(query, "ip") or _first(query, "range")
    if ip_text is not None:
        try:
            rng = parse_ip_range(ip_text)
        except ValueError as exc:
            raise InvalidFilter(str(exc)) from None
        contains = _first(query, "contains")
        inside = contains is not None and not parse_bool("contains", contains)
        covers = ([Decision.start_ip >= rng.start_key, Decision.end_ip <= rng.end_key] if inside
                  else [Decision.start_ip <= rng.start_key, Decision.end_ip >= rng.end_key])
        clauses.append(or_(Alert.source_value == ip_text, exists().where(
            Decision.alert_id == Alert.id, Decision.ip_size == rng.size, *covers)))
    limit_text = _first(query, "limit")
    limit = DEFAULT_LIMIT if limit_text is None else parse_int("limit", limit_text)
    return clauses, (limit or None)


def search_alerts(session: Session, query: Query, now: datetime) -> list[dict[str, Any]]:
    """``GET /v1/alerts``: the matching alerts, newest first."""
    clauses, limit = alert_filter(query, now)
    stmt = _with_children(select(Alert).where(*clauses).order_by(Alert.id.desc()))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [alert_json(alert, now) for alert in session.execute(stmt).scalars()]


def get_alert(session: Session, alert_id: int, now: datetime) -> dict[str, Any] | None:
    """``GET /v1/alerts/{id}``; None when there is no such alert."""
    alert = session.execute(_with_children(select(Alert).where(Alert.id == alert_id))).scalar()
    return None if alert is None else alert_json(alert, now)


def _with_children(stmt: Any) -> Any:
    return stmt.options(selectinload(Alert.decisions), selectinload(Alert.events),
                        selectinload(Alert.metas))


def alert_json(alert: Alert, now: datetime) -> dict[str, Any]:
    """The API shape of a stored alert (CrowdSec omits empty optional fields)."""
    source: dict[str, Any] = {"scope": alert.source_scope, "value": alert.source_value}
    for key, value in (("ip", alert.source_ip), ("range", alert.source_range),
                       ("as_number", alert.source_as_number), ("as_name", alert.source_as_name),
                       ("cn", alert.source_country), ("latitude", alert.source_latitude),
                       ("longitude", alert.source_longitude)):
        if value:
            source[key] = value
    decisions = [{**decision_json(d, d.end, now), "simulated": d.simulated}
                 for d in sorted(alert.decisions, key=lambda d: d.id)]
    events = [{"timestamp": format_rfc3339(e.time), "meta": orjson.loads(e.serialized)}
              for e in sorted(alert.events, key=lambda e: e.id)]
    body: dict[str, Any] = {
        "capacity": alert.capacity,
        "created_at": format_rfc3339(alert.created_at),
        "decisions": decisions or None,
        "events": events or None,
        "events_count": alert.events_count,
        "id": alert.id,
        "labels": orjson.loads(alert.labels) if alert.labels else None,
        "leakspeed": alert.leak_speed,
        "machine_id": alert.machine_id or "",
        "message": alert.message,
        "scenario": alert.scenario,
        "scenario_hash": alert.scenario_hash,
        "scenario_version": alert.scenario_version,
        "simulated": alert.simulated,
        "source": source,
        "start_at": format_go_time(alert.started_at),
        "stop_at": format_go_time(alert.stopped_at),
    }
    if alert.metas:
        body["meta"] = [{"key": m.key, "value": m.value} for m in sorted(alert.metas, key=lambda m: m.id)]
    if alert.uuid:
        body["uuid"] = alert.uuid
    return body
