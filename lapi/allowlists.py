"""Allowlists: named sets of IPs and ranges that must never be acted upon (CrowdSec's
centralized allowlists).

* An item matches a value (IP or range) of the same address family when one contains the
  other, and while it has not expired (:func:`match_clauses`).
* Alerts from agents (no decisions of their own) whose source is an allowlisted IP or range
  are dropped on ingestion (:func:`allowlisted_sources`, used by :mod:`lapi.ingest`).
* Adding items ends the active decisions they match, as ``cscli allowlists add`` does
  (:func:`expire_allowlisted_decisions`): bouncers get them under ``deleted``.

The API shapes are the swagger's (``GetAllowlistResponse``, ``AllowlistItem``), with times in
go-openapi's layout (milliseconds, ``Z``), a zero time for an item that never expires.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapi.db.models import NAME_LEN, AllowList, AllowListItem, Decision
from lapi.decisions import expire_decisions
from lapi.errors import LapiError
from lapi.iprange import IPRange, parse_ip_range

#: go-openapi's zero ``strfmt.DateTime``: an item without expiry
ZERO_TIME = "0001-01-01T00:00:00.000Z"


class AllowlistError(LapiError):
    """A bad allowlist operation (duplicate or invalid name, invalid value)."""


class AllowlistNotFound(AllowlistError):
    def __init__(self, name: str) -> None:
        super().__init__(f"allowlist '{name}' not found")


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to add: an IP or a CIDR range, with an optional description and expiry."""

    value: str
    description: str = ""
    expires_at: datetime | None = None


def format_datetime(moment: datetime | None) -> str:
    """go-openapi's ``strfmt.DateTime`` JSON: RFC 3339 with milliseconds, in UTC."""
    if moment is None:
        return ZERO_TIME
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(AllowListItem.expires_at.is_(None), AllowListItem.expires_at >= now)


def match_clauses(rng: IPRange, now: datetime) -> list[ColumnElement[bool]]:
    """Live items of ``rng``'s family that contain ``rng`` or lie inside it."""
    item = AllowListItem
    return [
        _live(now),
        item.ip_size == rng.size,
        or_(and_(item.start_ip <= rng.start_key, item.end_ip >= rng.end_key),
            and_(item.start_ip >= rng.start_key, item.end_ip <= rng.end_key)),
    ]


def allowlisted_by(session: Session, value: str, now: datetime) -> list[str]:
    """Why ``value`` (an IP or a range) is allowlisted: one ``"<item> from <list>
    (<description>)"`` per matching item, by list name; empty when it is not.
    ValueError for a value that is neither an IP nor a range."""
    rng = parse_ip_range(value)
    rows = session.execute(
        select(AllowListItem.value, AllowListItem.description, AllowList.name)
        .join(AllowList, AllowList.id == AllowListItem.allowlist_id)
        .where(*match_clauses(rng, now))
        .order_by(AllowList.name, AllowListItem.id)
    )
    return [f"{v} from {name}" + (f" ({text})" if text else "") for v, text, name in rows]


def allowlisted_sources(session: Session, values: Iterable[str], now: datetime) -> dict[str, str]:
    """value → reason, for the values (alert sources) that are allowlisted. Values that are
    not IPs or ranges are never allowlisted. One query when no list has a live item."""
    wanted = list(dict.fromkeys(values))
    if not wanted or not session.execute(select(exists().where(_live(now)))).scalar():
        return {}
    found: dict[str, str] = {}
    for value in wanted:
        try:
            reasons = allowlisted_by(session, value, now)
        except ValueError:
            continue
        if reasons:
            found[value] = ", ".join(reasons)
    return found


def expire_allowlisted_decisions(session: Session, now: datetime) -> int:
    """End every active decision on an IP or range that a live item contains or lies in
    (CrowdSec's ApplyAllowlistsToExistingDecisions); the caller commits. How many."""
    item = AllowListItem
    covered = exists().where(
        _live(now),
        item.ip_size == Decision.ip_size,
        or_(and_(Decision.start_ip >= item.start_ip, Decision.end_ip <= item.end_ip),
            and_(Decision.start_ip <= item.start_ip, Decision.end_ip >= item.end_ip)),
    )
    return expire_decisions(session, now, where=[covered])


def _find(session: Session, name: str) -> AllowList:
    found = session.execute(select(AllowList).where(AllowList.name == name)).scalar()
    if found is None:
        raise AllowlistNotFound(name)
    return found


def create_allowlist(session: Session, name: str, now: datetime, *, description: str = "",
                     allowlist_id: str | None = None, from_console: bool = False) -> int:
    """Create an empty allowlist; its id. AllowlistError if the name is taken or invalid."""
    if not name or len(name) > NAME_LEN:
        raise AllowlistError(f"invalid allowlist name {name!r}")
    row = AllowList(name=name, description=description, allowlist_id=allowlist_id,
                    from_console=from_console, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AllowlistError(f"allowlist '{name}' already exists") from None
    return row.id


def delete_allowlist(session: Session, name: str) -> None:
    """Delete an allowlist and its items; AllowlistNotFound."""
    allowlist = _find(session, name)
    session.execute(delete(AllowListItem).where(AllowListItem.allowlist_id == allowlist.id))
    session.delete(allowlist)


def add_items(session: Session, name: str, items: Sequence[NewItem],
              now: datetime) -> tuple[int, int]:
    """Add items to allowlist ``name`` (values it already holds are skipped), then end the
    decisions the allowlists cover. Returns (items added, decisions ended). AllowlistError
    for an invalid value (nothing added), AllowlistNotFound."""
    allowlist = _find(session, name)
    parsed = []
    for item in items:
        try:
            parsed.append((item, parse_ip_range(item.value)))
        except ValueError as exc:
            raise AllowlistError(str(exc)) from None
    held = set(session.execute(select(AllowListItem.value)
                               .where(AllowListItem.allowlist_id == allowlist.id)).scalars())
    added = 0
    for item, rng in parsed:
        if item.value in held:
            continue
        held.add(item.value)
        session.add(AllowListItem(
            allowlist_id=allowlist.id, value=item.value, description=item.description,
            expires_at=item.expires_at, ip_size=rng.size, start_ip=rng.start_key,
            end_ip=rng.end_key, created_at=now, updated_at=now))
        added += 1
    if added:
        session.execute(update(AllowList).where(AllowList.id == allowlist.id)
                        .values(updated_at=now).execution_options(synchronize_session=False))
    session.flush()
    return added, expire_allowlisted_decisions(session, now)


def remove_items(session: Session, name: str, values: Sequence[str], now: datetime) -> int:
    """Remove these values from allowlist ``name``; how many were removed."""
    allowlist = _find(session, name)
    result = session.execute(
        delete(AllowListItem).where(AllowListItem.allowlist_id == allowlist.id,
                                    AllowListItem.value.in_(list(values)))
        .execution_options(synchronize_session=False))
    removed = int(result.rowcount or 0)
    if removed:
        session.execute(update(AllowList).where(AllowList.id == allowlist.id)
                        .values(updated_at=now).execution_options(synchronize_session=False))
    return removed


def _item_json(item: AllowListItem) -> dict[str, Any]:
    body: dict[str, Any] = {"created_at": format_datetime(item.created_at)}
    if item.description:
        body["description"] = item.description
    body["expiration"] = format_datetime(item.expires_at)
    body["value"] = item.value
    return body


def _allowlist_json(allowlist: AllowList, items: list[AllowListItem]) -> dict[str, Any]:
    """``GetAllowlistResponse`` (Go omits the empty optional fields)."""
    body: dict[str, Any] = {}
    if allowlist.allowlist_id:
        body["allowlist_id"] = allowlist.allowlist_id
    if allowlist.from_console:
        body["console_managed"] = True
    body["created_at"] = format_datetime(allowlist.created_at)
    if allowlist.description:
        body["description"] = allowlist.description
    body["items"] = [_item_json(item) for item in items]
    body["name"] = allowlist.name
    body["updated_at"] = format_datetime(allowlist.updated_at)
    return body


def _live_items(session: Session, list_ids: Sequence[int],
                now: datetime) -> dict[int, list[AllowListItem]]:
    by_list: dict[int, list[AllowListItem]] = {i: [] for i in list_ids}
    if list_ids:
        rows = session.execute(
            select(AllowListItem).where(AllowListItem.allowlist_id.in_(list(list_ids)),
                                        _live(now))
            .order_by(AllowListItem.id)).scalars()
        for item in rows:
            by_list[item.allowlist_id].append(item)
    return by_list


def list_allowlists(session: Session, now: datetime, *, with_content: bool) -> list[dict[str, Any]]:
    """``GET /v1/allowlists``: every allowlist by name, with its live items if asked."""
    lists = list(session.execute(select(AllowList).order_by(AllowList.name)).scalars())
    items = _live_items(session, [a.id for a in lists], now) if with_content else {}
    return [_allowlist_json(a, items.get(a.id, [])) for a in lists]


def get_allowlist(session: Session, name: str, now: datetime, *,
                  with_content: bool) -> dict[str, Any]:
    """``GET /v1/allowlists/{name}``; AllowlistNotFound."""
    allowlist = _find(session, name)
    items = _live_items(session, [allowlist.id], now)[allowlist.id] if with_content else []
    return _allowlist_json(allowlist, items)
