"""Decision queries shared by the bouncer endpoints (and, later, cscli's): query-string
filters as CrowdSec reads them, the bouncer JSON shape, soft deletion, active counts."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import AliasedClass

from lapi.db.changes import allocate_change_seq
from lapi.db.models import Decision
from lapi.errors import InvalidFilter
from lapi.gotime import format_duration
from lapi.iprange import IPRange, containing_starts, parse_ip_range
from lapi.scopes import normalize_scope

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}

#: the columns a bouncer answer needs
DECISION_COLUMNS = (
    Decision.id, Decision.until, Decision.deleted_seq, Decision.deleted_at, Decision.scenario,
    Decision.scope, Decision.value, Decision.type, Decision.origin,
)

Query = Mapping[str, Sequence[str]]
DecisionEntity = type[Decision] | AliasedClass[Decision]


def parse_bool(name: str, value: str) -> bool:
    """Go's strconv.ParseBool, with a 400 reason."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidFilter(f"invalid {name} value {value!r}: expected true or false")


_INT64_MAX = 2**63 - 1


def parse_int(name: str, value: str, *, minimum: int = 0) -> int:
    """A decimal integer in [minimum, 2**63-1] (what every database accepts as a bound)."""
    try:
        number = int(value, 10)
    except ValueError:
        raise InvalidFilter(f"invalid {name} value {value!r}: expected an integer") from None
    if number < minimum:
        raise InvalidFilter(f"invalid {name} value {value!r}: must be >= {minimum}")
    if number > _INT64_MAX:
        raise InvalidFilter(f"invalid {name} value {value!r}: too large")
    return number


def _first(query: Query, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.split(","))


@dataclass(frozen=True, slots=True)
class DecisionFilter:
    """Filters of ``/v1/decisions`` and ``/v1/decisions/stream`` (CrowdSec semantics):
    ``contains=true`` (default) keeps decisions whose range contains ``ip_range``, false the
    ones inside it; simulated decisions are excluded unless ``include_simulated``."""

    scopes: tuple[str, ...] | None = None
    value: str | None = None
    type: str | None = None
    origins: tuple[str, ...] | None = None
    scenarios_containing: tuple[str, ...] | None = None
    scenarios_not_containing: tuple[str, ...] | None = None
    ip_range: IPRange | None = None
    contains: bool = True
    include_simulated: bool = False
    #: exact scenario and uuids (``DELETE /v1/decisions``)
    scenario: str | None = None
    uuids: tuple[str, ...] | None = None

    def clauses(self, d: DecisionEntity) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if not self.include_simulated:
            out.append(d.simulated.is_(False))
        if self.scopes is not None:
            out.append(d.scope.in_(self.scopes))
        if self.value is not None:
            out.append(d.value == self.value)
        if self.type is not None:
            out.append(d.type == self.type)
        if self.origins is not None:
            out.append(d.origin.in_(self.origins))
        if self.scenarios_containing is not None:
            out.append(or_(*(func.lower(d.scenario).contains(w.lower(), autoescape=True)
                             for w in self.scenarios_containing)))
        if self.scenarios_not_containing is not None:
            out.append(~or_(*(func.lower(d.scenario).contains(w.lower(), autoescape=True)
                              for w in self.scenarios_not_containing)))
        if self.scenario is not None:
            out.append(d.scenario == self.scenario)
        if self.uuids is not None:
            out.append(d.uuid.in_(self.uuids))
        if self.ip_range is not None:
            rng = self.ip_range
            out.append(d.ip_size == rng.size)
            starts = containing_starts(rng) if self.contains else None
            if starts is not None:  # stored ranges are CIDR blocks: seek their starts
                out += [d.start_ip.in_(starts), d.end_ip >= rng.end_key]
            elif self.contains:  # the decision's range contains the queried one
                out += [d.start_ip <= rng.start_key, d.end_ip >= rng.end_key]
            else:  # the decision's range is inside the queried one
                out += [d.start_ip >= rng.start_key, d.end_ip <= rng.end_key]
        return out


@dataclass(frozen=True, slots=True)
class Page:
    limit: int | None = None
    offset: int | None = None
    id_gt: int | None = None


def query_ip_range(query: Query) -> IPRange | None:
    """The address interval of the ``ip`` (else ``range``) parameter; InvalidFilter (400)."""
    ip_text = _first(query, "ip")
    if ip_text is None:
        ip_text = _first(query, "range")
    if ip_text is None:
        return None
    try:
        return parse_ip_range(ip_text)
    except ValueError as exc:
        raise InvalidFilter(str(exc)) from None


def parse_filter(query: Query, *, default_scopes: str | None = None) -> DecisionFilter:
    """A DecisionFilter from query parameters (first value of each); InvalidFilter (400)."""
    scopes_raw = _first(query, "scopes")
    if scopes_raw is None:
        scopes_raw = _first(query, "scope")  # swagger names both
    if scopes_raw is None:
        scopes_raw = default_scopes
    ip_range = query_ip_range(query)
    contains = _first(query, "contains")
    simulated = _first(query, "simulated")
    origins = _first(query, "origins")
    containing = _first(query, "scenarios_containing")
    not_containing = _first(query, "scenarios_not_containing")
    return DecisionFilter(
        scopes=tuple(normalize_scope(s) for s in scopes_raw.split(",")) if scopes_raw else None,
        value=_first(query, "value"),
        type=_first(query, "type"),
        origins=_words(origins) if origins else None,
        scenarios_containing=_words(containing) if containing else None,
        scenarios_not_containing=_words(not_containing) if not_containing else None,
        ip_range=ip_range,
        contains=parse_bool("contains", contains) if contains is not None else True,
        # CrowdSec: absent or "false" excludes simulated decisions, anything else includes them
        include_simulated=simulated is not None and simulated != "false",
    )


#: the parameters ``DELETE /v1/decisions`` takes (any other one is refused, as CrowdSec)
DELETE_PARAMETERS = frozenset(
    {"contains", "scopes", "uuid", "origin", "value", "type", "ip", "range", "scenario"})


def parse_delete_filter(query: Query) -> DecisionFilter:
    """The filter of ``DELETE /v1/decisions`` (CrowdSec's: exact scope, origin, value, type
    and scenario; uuids; ip/range with ``contains``; simulated decisions included);
    InvalidFilter (400) for an unknown parameter or a bad value."""
    unknown = sorted(set(query) - DELETE_PARAMETERS)
    if unknown:
        raise InvalidFilter(f"'{unknown[0]}' doesn't exist")
    ip_range = query_ip_range(query)
    scope = _first(query, "scopes")
    origin = _first(query, "origin")
    contains = _first(query, "contains")
    return DecisionFilter(
        scopes=(normalize_scope(scope),) if scope else None,
        value=_first(query, "value"),
        type=_first(query, "type"),
        origins=(origin,) if origin else None,
        scenario=_first(query, "scenario"),
        uuids=tuple(query["uuid"]) if query.get("uuid") else None,
        ip_range=ip_range,
        contains=parse_bool("contains", contains) if contains is not None else True,
        include_simulated=True,
    )


def parse_page(query: Query) -> Page:
    values = {}
    for key, minimum in (("limit", 0), ("offset", 0), ("id_gt", 0)):
        raw = _first(query, key)
        values[key] = parse_int(key, raw, minimum=minimum) if raw is not None else None
    return Page(**values)


def decision_json(row: Row[Any] | Decision, end: datetime, now: datetime) -> dict[str, Any]:
    """The bouncer shape of a decision; ``duration`` is the time left until ``end``
    (negative once past), as a Go duration string. ``simulated`` is not served."""
    return {
        "duration": format_duration(end - now),
        "id": int(row.id),
        "origin": row.origin,
        "scenario": row.scenario,
        "scope": row.scope,
        "type": row.type,
        "value": row.value,
    }


def active_clauses(d: DecisionEntity, now: datetime) -> list[ColumnElement[bool]]:
    """Decisions in force at ``now``."""
    return [d.deleted_seq.is_(None), d.until > now]


def query_decisions(session: Session, flt: DecisionFilter, page: Page,
                    now: datetime) -> list[dict[str, Any]]:
    """``GET /v1/decisions``: active decisions matching ``flt``, by id."""
    stmt = select(*DECISION_COLUMNS).where(*active_clauses(Decision, now), *flt.clauses(Decision))
    if page.id_gt is not None:
        stmt = stmt.where(Decision.id > page.id_gt)
    stmt = stmt.order_by(Decision.id)
    if page.limit is not None:
        stmt = stmt.limit(page.limit)
    if page.offset:
        stmt = stmt.offset(page.offset)
    return [decision_json(row, row.until, now) for row in session.execute(stmt)]


def expire_decisions(session: Session, now: datetime, *, ids: Sequence[int] | None = None,
                     flt: DecisionFilter | None = None,
                     where: Sequence[ColumnElement[bool]] | None = None) -> int:
    """Soft-delete the active decisions with these ids and/or matching ``flt`` and the
    ``where`` clauses (the primitive of ``DELETE /v1/decisions``, alert deletion and
    allowlists): they end now and bouncers get them under ``deleted``. Takes a change
    sequence value; the caller commits. Returns how many."""
    if ids is None and flt is None and not where:
        raise ValueError("expire_decisions needs ids, a filter or clauses")
    seq = allocate_change_seq(session)
    clauses = [*active_clauses(Decision, now), *(where or ())]
    if ids is not None:
        clauses.append(Decision.id.in_(list(ids)))
    if flt is not None:
        clauses += flt.clauses(Decision)
    result = session.execute(
        update(Decision).where(and_(*clauses)).values(deleted_seq=seq, deleted_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def count_active(session: Session, now: datetime) -> list[tuple[str, str, str, int]]:
    """(scenario, origin, type, count) of active, non-simulated decisions
    (``cs_active_decisions``)."""
    stmt = (
        select(Decision.scenario, Decision.origin, Decision.type, func.count())
        .where(*active_clauses(Decision, now), Decision.simulated.is_(False))
        .group_by(Decision.scenario, Decision.origin, Decision.type)
    )
    return [(s, o, t, int(n)) for s, o, t, n in session.execute(stmt)]
