"""``GET /v1/decisions/stream``: each bouncer's exact delta since its previous pull.

Why CrowdSec loses decisions
----------------------------
CrowdSec 1.4.6 answers "new = created_at > last_pull" and stores last_pull = the time the
pull started. A decision whose transaction took its ``created_at`` (or, with an id cursor,
its id) before the pull but committed after the pull's snapshot is invisible to that pull
and too old for the next one: lost for good. On PostgreSQL/MySQL ids and timestamps are
taken before commit, so commit order and id/timestamp order differ under concurrency.

The cursor
----------
Changes are of two kinds, and each gets a coordinate that cannot go backwards:

* **writes** (a decision created, a decision deleted) carry a value of the *change sequence*
  (``created_seq``, ``deleted_seq``), allocated in commit order (:mod:`lapi.db.changes`);
  a reader that reads the counter as ``S`` can see every write ``<= S``, and the writes
  ``> S`` are ignored by bounding every predicate by ``S``, whatever the isolation level;
* **natural expiry** is a function of time: the scheduled ``until`` never changes (a delete
  sets ``deleted_*`` and keeps ``until``), so "expired by time ``T``" is ``until <= T``.

A bouncer's cursor is the pair ``(S, T)`` of its last pull (table
``bouncer_stream_cursors``), ``T`` being the LAPI clock then (never decreasing). A decision
``D`` is *active at* ``(S, T)`` iff ``created_seq <= S and (deleted_seq is null or
deleted_seq > S) and until > T`` — a monotone predicate: once inactive, never active again.
A pull reads ``S1`` from the counter, takes ``T1 = max(now, T0)``, and answers

* ``new``: active at ``(S1, T1)`` with ``S0 < created_seq <= S1``,
* ``deleted``: active at ``(S0, T0)`` and not at ``(S1, T1)``,

then advances the cursor to ``(S1, T1)``. Consecutive windows tile the axis, so every
decision enters ``new`` exactly once (if it was ever active at a pull) and ``deleted`` at
most once, after it: never lost, never repeated — a decision created and gone between two
pulls is never sent at all. Both sides are index range scans (``created_seq``,
``deleted_seq``, ``until``). ``startup=true`` (or no cursor yet) answers every decision
active at ``(S1, T1)`` under ``new`` and, like CrowdSec, the inactive ones under ``deleted``.

Deduplication (CrowdSec's ``longestDecisionForScopeTypeValue``): per (value, scope, type)
``new`` carries only the longest active decision, if it is new, and ``deleted`` only keys
with no decision left active at ``(S1, T1)``, once. So after every pull the bouncer's set
of keys equals the set of keys active at its cursor, even when several decisions cover one
IP. Filters (scopes, origins, scenarios_*) apply to both sides and to the dedup, so the
invariant holds within the bouncer's filtered view.

The pull reads in a read-only transaction (no global lock: only writers serialise on the
counter) and then advances its cursor with a compare-and-set in a short write transaction.
The response is computed before the cursor moves, so a failed pull changes nothing; a
response lost on the wire after the commit is not re-sent (as in CrowdSec — bouncers resync
with ``startup=true`` when they restart).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from lapi.db.changes import current_change_seq
from lapi.db.models import Bouncer, Decision, StreamCursor
from lapi.db.session import Database
from lapi.decisions import DECISION_COLUMNS, DecisionEntity, DecisionFilter, decision_json

log = logging.getLogger("crowdstream.lapi.stream")

DEFAULT_SCOPES = "ip,range"

_D = Decision


@dataclass(frozen=True, slots=True)
class Cursor:
    seq: int
    at: datetime


def _active_at(d: DecisionEntity, seq: int, at: datetime) -> ColumnElement[bool]:
    return and_(d.created_seq <= seq, or_(d.deleted_seq.is_(None), d.deleted_seq > seq),
                d.until > at)


def _same_key(other: AliasedClass[Decision]) -> ColumnElement[bool]:
    return and_(other.value == _D.value, other.scope == _D.scope, other.type == _D.type)


def _is_longest_active(flt: DecisionFilter, seq: int, at: datetime) -> ColumnElement[bool]:
    """No other active decision on the key lasts longer (ties: the higher id wins)."""
    other = aliased(Decision)
    longer = or_(other.until > _D.until, and_(other.until == _D.until, other.id > _D.id))
    return ~exists().where(_same_key(other), _active_at(other, seq, at), *flt.clauses(other),
                           longer)


def _no_active_on_key(flt: DecisionFilter, seq: int, at: datetime) -> ColumnElement[bool]:
    other = aliased(Decision)
    return ~exists().where(_same_key(other), _active_at(other, seq, at), *flt.clauses(other))


def _one_per_key(rows: list[Any]) -> list[Any]:
    """The highest id of each (value, scope, type), in id order."""
    best: dict[tuple[str, str, str], Any] = {}
    for row in rows:
        key = (row.value, row.scope, row.type)
        if key not in best or row.id > best[key].id:
            best[key] = row
    return sorted(best.values(), key=lambda r: r.id)


@dataclass(slots=True)
class StreamAnswer:
    new: list[dict[str, Any]]
    deleted: list[dict[str, Any]]
    previous: Cursor | None
    cursor: Cursor

    def body(self) -> dict[str, list[dict[str, Any]]]:
        return {"new": self.new, "deleted": self.deleted}


def compute_stream(session: Session, previous: Cursor | None, flt: DecisionFilter,
                   startup: bool, now: datetime) -> StreamAnswer:
    """The answer for a bouncer whose cursor is ``previous`` (read-only)."""
    s1 = current_change_seq(session)
    full = startup or previous is None or previous.seq > s1  # seq > s1: the DB was replaced
    t1 = now if previous is None or full else max(now, previous.at)
    filters = flt.clauses(_D)

    def end_of(row: Any) -> datetime:
        deleted = row.deleted_seq is not None and row.deleted_seq <= s1
        return row.deleted_at if deleted else row.until

    def fmt(rows: Any) -> list[dict[str, Any]]:
        return [decision_json(row, end_of(row), now) for row in rows]

    longest = _is_longest_active(flt, s1, t1)
    no_active = _no_active_on_key(flt, s1, t1)
    if full:
        new_rows = session.execute(
            select(*DECISION_COLUMNS).where(_active_at(_D, s1, t1), *filters, longest)
            .order_by(_D.id)
        ).all()
        gone = or_(and_(_D.deleted_seq.is_not(None), _D.deleted_seq <= s1), _D.until <= t1)
        deleted_rows = session.execute(
            select(*DECISION_COLUMNS).where(_D.created_seq <= s1, gone, *filters, no_active)
        ).all()
    else:
        assert previous is not None
        s0, t0 = previous.seq, previous.at
        new_rows = session.execute(
            select(*DECISION_COLUMNS)
            .where(_D.created_seq > s0, _active_at(_D, s1, t1), *filters, longest)
            .order_by(_D.id)
        ).all()
        # active at (s0, t0), inactive at (s1, t1): deleted in the window …
        by_delete = session.execute(
            select(*DECISION_COLUMNS).where(
                _D.deleted_seq > s0, _D.deleted_seq <= s1, _D.created_seq <= s0, _D.until > t0,
                *filters, no_active)
        ).all()
        # … or expired in the window
        by_time = session.execute(
            select(*DECISION_COLUMNS).where(
                _D.until > t0, _D.until <= t1, _D.created_seq <= s0,
                or_(_D.deleted_seq.is_(None), _D.deleted_seq > s0), *filters, no_active)
        ).all()
        deleted_rows = list({row.id: row for row in (*by_delete, *by_time)}.values())
    return StreamAnswer(fmt(new_rows), fmt(_one_per_key(deleted_rows)), previous, Cursor(s1, t1))


def read_cursor(session: Session, bouncer_id: int) -> Cursor | None:
    row = session.execute(
        select(StreamCursor.seq, StreamCursor.at).where(StreamCursor.bouncer_id == bouncer_id)
    ).first()
    return Cursor(int(row.seq), row.at) if row else None


def advance_cursor(session: Session, bouncer_id: int, previous: Cursor | None, cursor: Cursor,
                   now: datetime) -> bool:
    """Compare-and-set the cursor from ``previous`` to ``cursor``; False when another pull
    of the same bouncer moved it meanwhile (then its answer stands)."""
    table = StreamCursor.__table__
    if previous is None:
        try:
            with session.begin_nested():
                session.execute(insert(table).values(bouncer_id=bouncer_id, seq=cursor.seq,
                                                     at=cursor.at, updated_at=now))
            return True
        except IntegrityError:
            return False
    result = session.execute(
        update(table)
        .where(table.c.bouncer_id == bouncer_id, table.c.seq == previous.seq,
               table.c.at == previous.at)
        .values(seq=cursor.seq, at=cursor.at, updated_at=now)
    )
    return bool(result.rowcount)


def peek_stream(database: Database, bouncer_id: int, flt: DecisionFilter, startup: bool,
                now: datetime) -> StreamAnswer:
    """A bouncer's stream answer at ``now``, its cursor left where it is."""
    with database.read_session() as session:
        return compute_stream(session, read_cursor(session, bouncer_id), flt, startup, now)


def commit_stream(database: Database, bouncer_id: int, answer: StreamAnswer, now: datetime, *,
                  touch: dict[str, Any] | None = None) -> None:
    """Advance the bouncer's cursor past ``answer``. ``touch`` holds bouncer columns to
    update at the same time (``last_pull``, ``ip_address``…)."""
    with database.session() as session:
        if not advance_cursor(session, bouncer_id, answer.previous, answer.cursor, now):
            log.info("bouncer #%d: concurrent stream pulls; the other one moved the cursor",
                     bouncer_id)
        if touch:
            session.execute(update(Bouncer).where(Bouncer.id == bouncer_id).values(**touch)
                            .execution_options(synchronize_session=False))


def pull_stream(database: Database, bouncer_id: int, flt: DecisionFilter, startup: bool,
                now: datetime, *, touch: dict[str, Any] | None = None) -> StreamAnswer:
    """Compute a bouncer's stream answer and advance its cursor."""
    answer = peek_stream(database, bouncer_id, flt, startup, now)
    commit_stream(database, bouncer_id, answer, now, touch=touch)
    return answer
