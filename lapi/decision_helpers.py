"""CrowdSec's database helpers of profiles: ``GetDecisionsCount(value)``,
``GetDecisionsSinceCount(value, since)``, ``GetActiveDecisionsCount(value)`` and
``GetActiveDecisionsTimeLeft(value)`` — e.g. a ban that doubles with each repeat offence::

    duration_expr: Sprintf('%dh', (GetDecisionsCount(Alert.GetValue()) + 1) * 4)

As CrowdSec: ``value`` is an IP or a range and the decisions counted are those whose range
contains it, whatever their scope, type, origin or simulation; ``GetDecisionsCount`` and
``GetDecisionsSinceCount`` count every stored decision (expired and deleted ones too, until
the retention job removes them), the ``Active`` ones only those in force. A value that is not
an address, or a ``since`` that is not a duration, counts 0. Time is the ingestion's "now",
and the decisions of the alert being decided are not stored yet, so never counted.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from engine.expr import ExprRuntimeError
from engine.gotime import GoDuration
from lapi.db.models import Decision
from lapi.decisions import DecisionFilter, active_clauses
from lapi.gotime import TimeFormatError, parse_duration
from lapi.iprange import parse_ip_range

log = logging.getLogger("crowdstream.lapi.profiles")

#: the helper names, as the profiles' expressions call them
NAMES = ("GetDecisionsCount", "GetDecisionsSinceCount", "GetActiveDecisionsCount",
         "GetActiveDecisionsTimeLeft")


class DecisionHelpers:
    """The helpers on one session at one time."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._now = now

    def functions(self) -> dict[str, Callable[..., Any]]:
        """Name → callable, for an expr environment."""
        return dict(zip(NAMES, (self.count, self.count_since, self.count_active,
                                self.time_left), strict=True))

    def _covering(self, value: Any, helper: str) -> list[ColumnElement[bool]] | None:
        if not isinstance(value, str):
            raise ExprRuntimeError(f"{helper}: argument must be a string")
        try:
            rng = parse_ip_range(value)
        except ValueError:
            log.warning("%s: %r is not an IP or a range: 0", helper, value)
            return None
        return DecisionFilter(ip_range=rng, contains=True, include_simulated=True).clauses(Decision)

    def _count(self, clauses: list[ColumnElement[bool]]) -> int:
        return int(self._session.execute(
            select(func.count()).select_from(Decision).where(*clauses)).scalar_one())

    def count(self, value: Any) -> int:
        clauses = self._covering(value, "GetDecisionsCount")
        return 0 if clauses is None else self._count(clauses)

    def count_since(self, value: Any, since: Any) -> int:
        clauses = self._covering(value, "GetDecisionsSinceCount")
        if not isinstance(since, str):
            raise ExprRuntimeError("GetDecisionsSinceCount: argument 2 must be a string")
        try:
            start = self._now - parse_duration(since)
        except (TimeFormatError, OverflowError) as exc:
            log.warning("GetDecisionsSinceCount: %s: 0", exc)
            return 0
        return 0 if clauses is None else self._count([*clauses, Decision.created_at > start])

    def count_active(self, value: Any) -> int:
        clauses = self._covering(value, "GetActiveDecisionsCount")
        return 0 if clauses is None else self._count(
            [*clauses, *active_clauses(Decision, self._now)])

    def time_left(self, value: Any) -> GoDuration:
        clauses = self._covering(value, "GetActiveDecisionsTimeLeft")
        if clauses is None:
            return GoDuration(0)
        until = self._session.execute(
            select(func.max(Decision.until)).where(*clauses, *active_clauses(Decision, self._now))
        ).scalar_one()
        if until is None:
            return GoDuration(0)
        delta = until - self._now
        return GoDuration((delta.days * 86_400 + delta.seconds) * 1_000_000_000
                          + delta.microseconds * 1000)
