"""The retention job (CrowdSec's ``db_config.flush``), run by every LAPI replica each minute.

* Alerts older than ``max_age`` (by ``created_at``), and alerts beyond the newest
  ``max_items`` (by id: every id below ``newest id - max_items``), are deleted — never one
  that still has an active decision (its ban would go with it). They are deleted as
  ``DELETE /v1/alerts`` does: their decisions are detached and stay.
* Detached decisions are hard-deleted once every bouncer that streams has seen them end:
  ended before the oldest stream cursor (:mod:`lapi.stream`) among the bouncers that pulled
  in the last :data:`STALE_CURSOR`. A bouncer silent for longer may miss the deletion of a
  row removed meanwhile; bouncers resync with ``startup=true`` when they restart.
* Bouncers whose last pull, and machines whose last heartbeat, is older than the
  ``bouncers_autodelete`` / ``agents_autodelete`` duration of their auth type are deleted
  (machines only without alerts and not on loopback, as CrowdSec).
* Usage-metrics snapshots older than ``metrics_max_age`` and expired allowlist items go.

Deletes run in chunks, each its own transaction, so writers never wait long (SQLite).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from lapi.alerts import delete_alert_ids
from lapi.db.changes import current_change_seq
from lapi.db.models import (
    Alert,
    AllowListItem,
    Bouncer,
    Decision,
    Machine,
    StreamCursor,
    UsageMetric,
)
from lapi.db.session import Database
from lapi.decisions import active_clauses
from lapi.settings import FlushPolicy

log = logging.getLogger("crowdstream.lapi.flush")

#: the cursors of bouncers that have not pulled for this long no longer hold rows back
STALE_CURSOR = timedelta(days=1)
#: rows per delete transaction
CHUNK = 500
_LOOPBACK = ("127.0.0.1", "::1")


@dataclass(slots=True)
class FlushReport:
    alerts_by_age: int = 0
    alerts_by_count: int = 0
    decisions: int = 0
    bouncers: int = 0
    machines: int = 0
    metrics: int = 0
    allowlist_items: int = 0

    def total(self) -> int:
        return sum((self.alerts_by_age, self.alerts_by_count, self.decisions, self.bouncers,
                    self.machines, self.metrics, self.allowlist_items))


def flush(database: Database, policy: FlushPolicy, now: datetime) -> FlushReport:
    """One run of the retention job at ``now``."""
    report = FlushReport()
    without_active = not_(exists().where(Decision.alert_id == Alert.id,
                                         *active_clauses(Decision, now)))
    if policy.max_age is not None:
        report.alerts_by_age = _delete_alerts(
            database, now, [Alert.created_at <= now - policy.max_age, without_active])
    if policy.max_items is not None:
        with database.read_session() as session:
            newest = session.execute(select(func.max(Alert.id))).scalar()
        if newest is not None and newest - policy.max_items > 0:
            report.alerts_by_count = _delete_alerts(
                database, now, [Alert.id < newest - policy.max_items, without_active])
    report.decisions = _delete_rows(database, Decision.id, _unneeded_decisions(database, now))
    for auth_type, idle in policy.bouncers_autodelete.items():
        report.bouncers += _delete_rows(database, Bouncer.id, [
            Bouncer.auth_type == auth_type, Bouncer.last_pull <= now - idle])
    for auth_type, idle in policy.agents_autodelete.items():
        report.machines += _delete_rows(database, Machine.id, [
            Machine.auth_type == auth_type, Machine.last_heartbeat <= now - idle,
            Machine.ip_address.not_in(_LOOPBACK),
            not_(exists().where(Alert.machine_id == Machine.machine_id))])
    report.metrics = _delete_rows(database, UsageMetric.id,
                                  [UsageMetric.received_at <= now - policy.metrics_max_age])
    report.allowlist_items = _delete_rows(database, AllowListItem.id,
                                          [AllowListItem.expires_at <= now])
    if report.total():
        log.info("flushed %s", ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in
                                          _fields(report) if n))
    return report


def _fields(report: FlushReport) -> list[tuple[str, int]]:
    return [(name, getattr(report, name)) for name in FlushReport.__slots__]


def _unneeded_decisions(database: Database, now: datetime) -> list[ColumnElement[bool]]:
    """Detached decisions that every live stream cursor has seen end."""
    with database.read_session() as session:
        seq, at = _oldest_live_cursor(session, now)
    ended = or_(and_(Decision.deleted_seq.is_not(None), Decision.deleted_seq <= seq),
                Decision.until <= at)
    return [Decision.alert_id.is_(None), ended]


def _oldest_live_cursor(session: Session, now: datetime) -> tuple[int, datetime]:
    """(lowest sequence, earliest time) of the cursors updated since ``now - STALE_CURSOR``;
    with none, the present (nothing ended is still owed to anyone)."""
    row = session.execute(
        select(func.min(StreamCursor.seq), func.min(StreamCursor.at))
        .where(StreamCursor.updated_at > now - STALE_CURSOR)
    ).one()
    seq = row[0] if row[0] is not None else current_change_seq(session)
    return int(seq), min(row[1], now) if row[1] is not None else now


def _delete_alerts(database: Database, now: datetime, where: list[ColumnElement[bool]]) -> int:
    deleted = 0
    while True:
        with database.session() as session:
            ids = list(session.execute(select(Alert.id).where(*where).order_by(Alert.id)
                                       .limit(CHUNK)).scalars())
            deleted += delete_alert_ids(session, now, ids)
        if len(ids) < CHUNK:
            return deleted


def _delete_rows(database: Database, key: InstrumentedAttribute[int],
                 where: list[ColumnElement[bool]]) -> int:
    """Delete the rows of ``key``'s table matching ``where``, in chunks."""
    table = key.class_.__table__
    deleted = 0
    while True:
        with database.session() as session:
            ids = list(session.execute(select(key).where(*where).limit(CHUNK)).scalars())
            if ids:
                session.execute(delete(table).where(key.in_(ids)))
        deleted += len(ids)
        if len(ids) < CHUNK:
            return deleted
