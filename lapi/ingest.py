"""Alert ingestion: the one path from an alert (API JSON shape) to alert and decision rows,
used by the alerts-topic consumer and by ``POST /v1/alerts``.

* **Validation first**: :func:`parse_alert` checks and converts each alert (times,
  durations, IPs, field lengths) and runs the profiles for alerts that carry no decisions
  (which read the database only through their helpers, :mod:`lapi.decision_helpers`).
* **Idempotent on the alert ``uuid``**: an alert whose uuid is already stored is not stored
  again; its existing id is returned. Within the transaction the uuids are looked up first;
  a concurrent insert of the same uuid that slips past (another LAPI process) hits the
  unique constraint inside a SAVEPOINT, which is rolled back and the winner's id read.
* **One change sequence value per transaction**: the first statement allocates it
  (:func:`lapi.db.changes.allocate_change_seq`), which also serialises writers; every new
  decision gets it as ``created_seq``, which is what makes the bouncer stream exact.
* **Allowlists** (CrowdSec): an alert that brings no decisions of its own (an agent's) and
  whose source is an allowlisted IP or range is dropped (:mod:`lapi.allowlists`); alerts
  with decisions (cscli, imports) are taken as they come.

Decision expiry (``until``) is the alert's ``stop_at`` plus the decision's duration, so
alerts replayed from old logs give already-expired decisions, as in CrowdSec.
"""
from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapi import metrics
from lapi.allowlists import allowlisted_sources
from lapi.db.changes import allocate_change_seq
from lapi.db.models import (
    NAME_LEN,
    SCOPE_LEN,
    TYPE_LEN,
    VALUE_LEN,
    Alert,
    Decision,
    Event,
    Meta,
)
from lapi.decision_helpers import DecisionHelpers
from lapi.decisions import active_clauses
from lapi.errors import InvalidAlert, ProfileError
from lapi.gotime import TimeFormatError, parse_duration, parse_time
from lapi.iprange import parse_ip_range
from lapi.profiles import Profiles
from lapi.scopes import IP, RANGE, normalize_scope

log = logging.getLogger("crowdstream.lapi.ingest")

_UUID_NS = uuidlib.UUID("3f6c2a7e-61b9-4d55-9a57-2f1a3cc2b0d4")
_IN_CHUNK = 500


def _str(data: Mapping[str, Any], key: str, *, required: bool = False, max_len: int | None = None,
         truncate: bool = False, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidAlert(f"{key!r} is required")
        return default
    if not isinstance(value, str):
        raise InvalidAlert(f"{key!r} must be a string, got {type(value).__name__}")
    _check_text(key, value)
    if max_len is not None and len(value) > max_len:
        if truncate:
            return value[:max_len]
        raise InvalidAlert(f"{key!r} is longer than {max_len} characters")
    return value


def _check_text(key: str, value: str) -> None:
    """Refuse what no database stores: NUL (PostgreSQL) and lone surrogates, which JSON
    escapes can carry but UTF-8 cannot encode."""
    if "\x00" in value:
        raise InvalidAlert(f"{key!r} holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAlert(f"{key!r} is not valid Unicode (lone surrogate)") from None


def _json(key: str, value: Any) -> str:
    """JSON text of a list received as is (NULs come out escaped)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise InvalidAlert(f"{key!r} is not valid Unicode (lone surrogate)") from None


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidAlert(f"{key!r} must be an integer")
    if not -(2**31) <= int(value) < 2**31:
        raise InvalidAlert(f"{key!r} is out of range")
    return int(value)


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidAlert(f"{key!r} must be true or false")
    return value


def _float(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAlert(f"{key!r} must be a number")
    return float(value)


def _time(data: Mapping[str, Any], key: str) -> datetime:
    if data.get(key) is None:
        raise InvalidAlert(f"{key!r} is required")
    try:
        return parse_time(data[key])
    except TimeFormatError as exc:
        raise InvalidAlert(f"{key!r}: {exc}") from None


@dataclass(slots=True)
class ParsedDecision:
    type: str
    scope: str
    value: str
    origin: str
    scenario: str
    duration: str
    until: datetime
    simulated: bool
    ip_size: int | None = None
    start_ip: str | None = None
    end_ip: str | None = None


@dataclass(slots=True)
class ParsedAlert:
    """A validated alert, ready to be written."""

    uuid: str
    fields: dict[str, Any]
    #: the source to check against the allowlists (agent alerts on an IP or range)
    allowlist_source: str | None = None
    #: the decisions come from the profiles (the alert brought none of its own)
    decided: bool = False
    decisions: list[ParsedDecision] = field(default_factory=list)
    events: list[tuple[datetime, str]] = field(default_factory=list)
    metas: list[tuple[str, str]] = field(default_factory=list)

    def build(self, seq: int, now: datetime, machine_id: str | None) -> Alert:
        alert = Alert(uuid=self.uuid, created_at=now, updated_at=now, machine_id=machine_id,
                      **self.fields)
        alert.decisions = [
            Decision(
                created_at=now, uuid=str(uuidlib.uuid5(_UUID_NS, f"{self.uuid}/{i}")),
                until=d.until, scenario=d.scenario, type=d.type, scope=d.scope, value=d.value,
                origin=d.origin, simulated=d.simulated, ip_size=d.ip_size, start_ip=d.start_ip,
                end_ip=d.end_ip, created_seq=seq,
            )
            for i, d in enumerate(self.decisions)
        ]
        alert.events = [Event(time=t, serialized=s) for t, s in self.events]
        alert.metas = [Meta(key=k, value=v) for k, v in self.metas]
        return alert


def _parse_decision(data: Any, stop_at: datetime, alert_scenario: str,
                    alert_simulated: bool) -> ParsedDecision:
    if not isinstance(data, Mapping):
        raise InvalidAlert("each decision must be an object")
    kind = _str(data, "type", required=True, max_len=TYPE_LEN)
    scope = normalize_scope(_str(data, "scope", required=True, max_len=SCOPE_LEN))
    value = _str(data, "value", required=True, max_len=VALUE_LEN)
    origin = _str(data, "origin", max_len=NAME_LEN, default="crowdsec") or "crowdsec"
    scenario = _str(data, "scenario", max_len=NAME_LEN, default=alert_scenario)
    duration = _str(data, "duration", required=True)
    try:
        delta = parse_duration(duration)
        until = stop_at + delta
    except TimeFormatError as exc:
        raise InvalidAlert(f"decision duration: {exc}") from None
    except OverflowError:
        raise InvalidAlert(f"decision duration {duration!r} is out of range") from None
    decision = ParsedDecision(kind, scope, value, origin, scenario, duration, until,
                              alert_simulated or data.get("simulated") is True)
    if scope in (IP, RANGE):
        try:
            rng = parse_ip_range(value)
        except ValueError as exc:
            raise InvalidAlert(f"decision on {scope} {value!r}: {exc}") from None
        decision.ip_size, decision.start_ip, decision.end_ip = rng.size, rng.start_key, rng.end_key
    return decision


def parse_alert(alert: Any, profiles: Profiles, now: datetime,
                helpers: Mapping[str, Callable[..., Any]] | None = None) -> ParsedAlert:
    """Validate one alert and work out its decisions; InvalidAlert with a reason.
    ``helpers``: the profiles' database helpers (:mod:`lapi.decision_helpers`)."""
    if not isinstance(alert, Mapping):
        raise InvalidAlert("an alert must be an object")
    scenario = _str(alert, "scenario", required=True, max_len=NAME_LEN)
    source = alert.get("source")
    if not isinstance(source, Mapping):
        raise InvalidAlert("'source' is required and must be an object")
    scope = normalize_scope(_str(source, "scope", required=True, max_len=SCOPE_LEN))
    value = _str(source, "value", required=True, max_len=VALUE_LEN)
    start_at, stop_at = _time(alert, "start_at"), _time(alert, "stop_at")
    simulated = _bool(alert, "simulated")
    uuid = alert.get("uuid")
    if uuid is None or uuid == "":
        uuid = str(uuidlib.uuid4())  # no identity given: nothing to deduplicate on
    elif not isinstance(uuid, str) or len(uuid) > 64:
        raise InvalidAlert("'uuid' must be a string of at most 64 characters")
    else:
        _check_text("uuid", uuid)
    labels = alert.get("labels")
    if labels is not None and not isinstance(labels, list):
        raise InvalidAlert("'labels' must be a list")
    fields = {
        "scenario": scenario,
        "bucket_id": _str(alert, "bucket_id", max_len=NAME_LEN, truncate=True),
        "message": _str(alert, "message"),
        "events_count": _int(alert, "events_count"),
        "started_at": start_at,
        "stopped_at": stop_at,
        "source_ip": _str(source, "ip", max_len=64, truncate=True) or None,
        "source_range": _str(source, "range", max_len=64, truncate=True) or None,
        "source_as_number": _str(source, "as_number", max_len=32, truncate=True) or None,
        "source_as_name": _str(source, "as_name", max_len=NAME_LEN, truncate=True) or None,
        "source_country": _str(source, "cn", max_len=16, truncate=True) or None,
        "source_latitude": _float(source, "latitude"),
        "source_longitude": _float(source, "longitude"),
        "source_scope": scope,
        "source_value": value,
        "capacity": _int(alert, "capacity"),
        "leak_speed": _str(alert, "leakspeed", max_len=64, truncate=True),
        "scenario_version": _str(alert, "scenario_version", max_len=NAME_LEN, truncate=True),
        "scenario_hash": _str(alert, "scenario_hash", max_len=NAME_LEN, truncate=True),
        "simulated": simulated,
        "remediation": _bool(alert, "remediation"),
        "kind": _str(alert, "kind", max_len=64, truncate=True) or None,
        "labels": _json("labels", labels) if labels else None,
    }
    parsed = ParsedAlert(uuid=uuid, fields=fields)

    raw_decisions = alert.get("decisions")
    if raw_decisions is not None and not isinstance(raw_decisions, list):
        raise InvalidAlert("'decisions' must be a list or null")
    if not raw_decisions:
        if scope in (IP, RANGE):
            parsed.allowlist_source = value
        # CrowdSec normalises scopes before running the profiles
        normalized = {**alert, "source": {**source, "scope": scope}}
        try:
            raw_decisions = profiles.decide(normalized, helpers)
        except ProfileError as exc:
            raise InvalidAlert(str(exc)) from None
        parsed.decided = bool(raw_decisions)
    parsed.decisions = [_parse_decision(d, stop_at, scenario, simulated) for d in raw_decisions]

    events = alert.get("events")
    if events is not None and not isinstance(events, list):
        raise InvalidAlert("'events' must be a list or null")
    for event in events or []:
        if not isinstance(event, Mapping):
            raise InvalidAlert("each event must be an object")
        meta = event.get("meta")
        if meta is not None and not isinstance(meta, list):
            raise InvalidAlert("event 'meta' must be a list")
        try:
            when = parse_time(event.get("timestamp"))
        except TimeFormatError:
            when = now  # as CrowdSec: an event time is informative, never a reason to refuse
        parsed.events.append((when, _json("meta", meta or [])))
    metas = alert.get("meta")
    if metas is not None and not isinstance(metas, list):
        raise InvalidAlert("'meta' must be a list or null")
    for item in metas or []:
        if not isinstance(item, Mapping):
            raise InvalidAlert("each meta must be an object")
        parsed.metas.append((_str(item, "key", max_len=NAME_LEN, truncate=True),
                             _str(item, "value")))
    return parsed


def known_alert_ids(session: Session, uuids: Sequence[str]) -> dict[str, int]:
    """uuid → id of the alerts already stored among ``uuids``."""
    wanted = list(dict.fromkeys(uuids))
    known: dict[str, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        rows = session.execute(
            select(Alert.uuid, Alert.id).where(Alert.uuid.in_(wanted[start : start + _IN_CHUNK]))
        )
        known.update({u: int(alert_id) for u, alert_id in rows if u is not None})
    return known


def _covered(session: Session, decision: ParsedDecision, now: datetime,
             window: timedelta) -> bool:
    """An active decision of the same type on the same scope and value (and as simulated)
    already lasts until at least ``window`` before this one's end."""
    return session.execute(
        select(Decision.id).where(
            Decision.value == decision.value, Decision.scope == decision.scope,
            Decision.type == decision.type, Decision.simulated.is_(decision.simulated),
            *active_clauses(Decision, now), Decision.until >= decision.until - window)
        .limit(1)
    ).first() is not None


def ingest_alerts(
    session: Session,
    alerts: Sequence[Mapping[str, Any]],
    profiles: Profiles,
    now: datetime,
    *,
    machine_id: str | None = None,
    on_invalid: Callable[[InvalidAlert], None] | None = None,
    source: str = "api",
    dedup_window: timedelta | None = None,
) -> list[int]:
    """Store ``alerts`` and their decisions; return the alert ids (input order; none for an
    alert dropped by the allowlists).

    ``session`` must be a writing session at the start of its transaction; the caller
    commits. An invalid alert raises :class:`InvalidAlert` before anything is written,
    unless ``on_invalid`` is given: it is then called and the alert skipped (its id is
    missing from the result). ``source`` labels the metrics (``api``, ``kafka``).

    ``dedup_window`` (CrowdSec #827: a flood of alerts on one attacker piles up decisions):
    a decision the profiles give is not stored when an active one of the same type on the
    same value already lasts until at least ``dedup_window`` before its end (the alert is
    stored). Decisions an alert brings (cscli, imports) are stored as given. None: off.
    """
    parsed: list[ParsedAlert] = []
    helpers = DecisionHelpers(session, now).functions()
    for index, alert in enumerate(alerts):
        try:
            parsed.append(parse_alert(alert, profiles, now, helpers))
        except InvalidAlert as exc:
            exc = InvalidAlert(exc.reason, index)
            metrics.ALERTS_INVALID.labels(source).inc()
            if on_invalid is None:
                raise exc from None
            on_invalid(exc)
    if not parsed:
        return []

    seq = allocate_change_seq(session)
    known = known_alert_ids(session, [p.uuid for p in parsed])
    allowlisted = allowlisted_sources(
        session, [p.allowlist_source for p in parsed
                  if p.allowlist_source is not None and p.uuid not in known], now)

    ids: list[int] = []
    created = duplicates = decisions = skipped = 0
    for item in parsed:
        existing = known.get(item.uuid)
        if existing is None and item.allowlist_source in allowlisted:
            log.info("alert %s on %s dropped: allowlisted (%s)", item.uuid,
                     item.allowlist_source, allowlisted[item.allowlist_source])
            continue
        if existing is None:
            if dedup_window is not None and item.decided:
                kept = [d for d in item.decisions if not _covered(session, d, now, dedup_window)]
                skipped += len(item.decisions) - len(kept)
                item.decisions = kept
            row = item.build(seq, now, machine_id)
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                # the same uuid committed by a concurrent writer: a locking read sees it
                # even under MySQL's repeatable read
                existing = session.execute(
                    select(Alert.id).where(Alert.uuid == item.uuid).with_for_update(read=True)
                ).scalar_one_or_none()
                if existing is None:
                    raise
            else:
                known[item.uuid] = row.id
                ids.append(row.id)
                created += 1
                decisions += len(item.decisions)
                continue
        known[item.uuid] = existing
        ids.append(existing)
        duplicates += 1
    metrics.ALERTS_INGESTED.labels(source).inc(created)
    metrics.ALERTS_DUPLICATE.labels(source).inc(duplicates)
    metrics.DECISIONS_CREATED.labels(source).inc(decisions)
    metrics.DECISIONS_DEDUPLICATED.labels(source).inc(skipped)
    if duplicates:
        log.debug("%d duplicate alert(s) ignored", duplicates)
    return ids
