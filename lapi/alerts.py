"""Alerts read back and deleted: ``GET|HEAD|DELETE /v1/alerts`` filters (CrowdSec's alert
filter builder), the alert's API shape (as cscli 1.4.6 reads it: ``start_at``/``stop_at`` and
event times in Go's default time layout, ``created_at`` RFC 3339, decisions with the time they
have left, events with their meta, empty optional fields omitted), and deletion.

Deleting alerts deletes their events and meta, ends their active decisions (soft deletion,
so bouncers get them under ``deleted`` exactly once) and detaches the decisions, which stay
until the retention job (:mod:`lapi.db.models`)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, delete, exists, not_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from lapi.db.models import Alert, Decision, Event, Meta
from lapi.decisions import (DecisionFilter, active_clauses, decision_json, expire_decisions,
                            parse_bool, parse_int, query_ip_range)
from lapi.errors import InvalidFilter
from lapi.gotime import format_go_time, format_rfc3339, parse_duration
from lapi.scopes import normalize_scope

Query = Mapping[str, Sequence[str]]

#: what ``GET /v1/alerts`` answers without ``limit`` (CrowdSec's default page)
DEFAULT_LIMIT = 100
#: the parameters CrowdSec's filter builder knows (any other one is a 400)
PARAMETERS = frozenset({
    "scope", "value", "scenario", "ip", "range", "contains", "since", "created_before",
    "until", "simulated", "has_active_decision", "decision_type", "origin", "include_capi",
    "kind", "limit", "sort", "with_decisions",
})
#: origins and source scopes of the Central API's and blocklists' alerts (``include_capi``)
CAPI_ORIGIN = "CAPI"
LISTS_ORIGIN = "lists"
COMMUNITY_BLOCKLIST_SCOPE = "crowdsecurity/community-blocklist"
#: alerts deleted per statement (IN lists stay small)
_CHUNK = 500


def _first(query: Query, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _ago(name: str, text: str, now: datetime) -> datetime:
    try:
        return now - parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise InvalidFilter(f"invalid {name}: {exc}") from None


def _has_decision(*clauses: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Decision.alert_id == Alert.id, *clauses)


def _not_capi() -> ColumnElement[bool]:
    """``include_capi=false``: no decision from the Central API or a blocklist, and not a
    decision-less alert of theirs."""
    return and_(
        ~_has_decision(Decision.origin.in_((CAPI_ORIGIN, LISTS_ORIGIN))),
        not_(and_(~_has_decision(),
                  or_(Alert.source_scope.startswith(f"{LISTS_ORIGIN}:", autoescape=True),
                      Alert.source_scope == COMMUNITY_BLOCKLIST_SCOPE))),
    )


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """A parsed alert filter: WHERE clauses, the limit (None: all) and the order."""

    clauses: list[ColumnElement[bool]]
    limit: int | None = DEFAULT_LIMIT
    ascending: bool = False


def alert_filter(query: Query, now: datetime) -> AlertQuery:
    """The filter of ``GET|HEAD|DELETE /v1/alerts`` with CrowdSec's semantics; InvalidFilter
    (400) for an unknown parameter or a bad value.

    ``scope``/``value``: the source; ``scenario``: the alert's or one of its decisions';
    ``ip``/``range``: alerts holding a decision whose range contains it (``contains=false``:
    inside it); ``since``/``until``: started at most/at least that long ago,
    ``created_before``: created at least that long ago; ``has_active_decision=false``: no
    decision at all; ``decision_type``, ``origin``: holding such a decision (``origin`` implies
    ``include_capi``); ``simulated=false`` excludes simulated alerts (absent: included, as
    CrowdSec); ``limit=0``: no limit; ``sort=ASC``: oldest first."""
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        raise InvalidFilter(f"filter parameter '{unknown[0]}' is unknown")
    clauses: list[ColumnElement[bool]] = []
    if (scope := _first(query, "scope")) is not None:
        clauses.append(Alert.source_scope == normalize_scope(scope))
    if (value := _first(query, "value")) is not None:
        clauses.append(Alert.source_value == value)
    if (scenario := _first(query, "scenario")) is not None:
        clauses.append(or_(Alert.scenario == scenario,
                           _has_decision(Decision.scenario == scenario)))
    if (kind := _first(query, "kind")) is not None:
        clauses.append(Alert.kind == kind)
    if (since := _first(query, "since")) is not None:
        clauses.append(Alert.started_at >= _ago("since", since, now))
    if (until := _first(query, "until")) is not None:
        clauses.append(Alert.started_at <= _ago("until", until, now))
    if (before := _first(query, "created_before")) is not None:
        clauses.append(Alert.created_at <= _ago("created_before", before, now))
    simulated = _first(query, "simulated")
    if simulated is not None and not parse_bool("simulated", simulated):
        clauses.append(Alert.simulated.is_(False))
    if (active := _first(query, "has_active_decision")) is not None:
        clauses.append(_has_decision(*active_clauses(Decision, now))
                       if parse_bool("has_active_decision", active) else ~_has_decision())
    if (decision_type := _first(query, "decision_type")) is not None:
        clauses.append(_has_decision(Decision.type == decision_type))
    origin = _first(query, "origin")
    if origin is not None:
        clauses.append(_has_decision(Decision.origin == origin))
    include_capi = _first(query, "include_capi")
    if origin is None and include_capi is not None and not parse_bool("include_capi",
                                                                       include_capi):
        clauses.append(_not_capi())
    contains_text = _first(query, "contains")
    contains = parse_bool("contains", contains_text) if contains_text is not None else True
    rng = query_ip_range(query)
    if rng is not None:
        covering = DecisionFilter(ip_range=rng, contains=contains, include_simulated=True)
        clauses.append(_has_decision(*covering.clauses(Decision)))
    limit_text = _first(query, "limit")
    limit = DEFAULT_LIMIT if limit_text is None else parse_int("limit", limit_text)
    sort = _first(query, "sort")
    if sort not in (None, "ASC", "DESC"):
        raise InvalidFilter(f"invalid sort value {sort!r}: expected ASC or DESC")
    return AlertQuery(clauses, limit or None, sort == "ASC")


def search_alerts(session: Session, query: Query, now: datetime) -> list[dict[str, Any]]:
    """``GET /v1/alerts``: the matching alerts, newest first (by creation, then id)."""
    flt = alert_filter(query, now)
    order = ((Alert.created_at.asc(), Alert.id.asc()) if flt.ascending
             else (Alert.created_at.desc(), Alert.id.desc()))
    stmt = _with_children(select(Alert).where(*flt.clauses).order_by(*order))
    if flt.limit is not None:
        stmt = stmt.limit(flt.limit)
    return [alert_json(alert, now) for alert in session.execute(stmt).scalars()]


def get_alert(session: Session, alert_id: int, now: datetime) -> dict[str, Any] | None:
    """``GET /v1/alerts/{id}``; None when there is no such alert."""
    alert = session.execute(_with_children(select(Alert).where(Alert.id == alert_id))).scalar()
    return None if alert is None else alert_json(alert, now)


def delete_alerts(session: Session, now: datetime, *, query: Query | None = None,
                  alert_id: int | None = None) -> int:
    """``DELETE /v1/alerts`` (every alert matching ``query``; no limit) or ``DELETE
    /v1/alerts/{id}``: delete the alerts, their events and meta; end their active
    decisions and detach them (module docstring). The caller commits; how many alerts."""
    if alert_id is not None:
        clauses: list[ColumnElement[bool]] = [Alert.id == alert_id]
    elif query is not None:
        clauses = alert_filter(query, now).clauses
    else:
        raise ValueError("delete_alerts needs a query or an alert id")
    ids = [int(i) for i in session.execute(select(Alert.id).where(*clauses)).scalars()]
    return delete_alert_ids(session, now, ids)


def delete_alert_ids(session: Session, now: datetime, ids: Sequence[int]) -> int:
    """Delete these alerts as :func:`delete_alerts` does; the caller commits."""
    if not ids:
        return 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        expire_decisions(session, now, where=[Decision.alert_id.in_(chunk)])
        session.execute(update(Decision).where(Decision.alert_id.in_(chunk)).values(alert_id=None)
                        .execution_options(synchronize_session=False))
        for table in (Event, Meta):
            session.execute(delete(table).where(table.alert_id.in_(chunk))
                            .execution_options(synchronize_session=False))
        session.execute(delete(Alert).where(Alert.id.in_(chunk))
                        .execution_options(synchronize_session=False))
    return len(ids)


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
    events = [{"timestamp": format_go_time(e.time), "meta": orjson.loads(e.serialized)}
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
        "machine_id": alert.machine_id or "N/A",  # as CrowdSec, for an alert without owner
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
        body["meta"] = [{"key": m.key, "value": m.value}
                        for m in sorted(alert.metas, key=lambda m: m.id)]
    if alert.uuid:
        body["uuid"] = alert.uuid
    return body
