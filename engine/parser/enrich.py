"""Enrichers: the functions a static's ``method:`` calls (CrowdSec ``pkg/parser/enrich*.go``).

An enricher takes the static's value and the event and returns entries to merge into
``evt.Enriched``. :data:`ENRICHERS` is immutable; later issues add GeoIpCity, GeoIpASN,
IpToRange, reverse_dns and UnmarshalJSON to it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import MappingProxyType

from engine.event import TIMEMACHINE, Event
from engine.gotime import GoTime, Layout

Enricher = Callable[[str, Event], dict[str, str]]

# CrowdSec's GenDateParse layouts, in its order.
DATE_LAYOUTS: tuple[Layout, ...] = tuple(Layout(text) for text in (
    "2006-01-02T15:04:05Z07:00",  # RFC3339
    "02/Jan/2006:15:04:05 -0700",
    "Mon Jan 2 15:04:05 2006",
    "02-Jan-2006 15:04:05 europe/paris",
    "01/02/2006 15:04:05",
    "2006-01-02 15:04:05.999999999 -0700 MST",
    "Jan  2 15:04:05",
    "Mon Jan 02 15:04:05.000000 2006",
    "2006-01-02T15:04:05Z07:00",
    "2006/01/02",
    "2006/01/02 15:04",
    "2006-01-02",
    "2006-01-02 15:04",
    "2006/01/02 15:04:05",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05",
))


@lru_cache(maxsize=64)
def _layout(text: str) -> Layout | None:
    """A parser-provided layout (``evt.StrTimeFormat``), compiled once (pure memo)."""
    try:
        return Layout(text)
    except re.error:
        return None


def reference_time(evt: Event) -> GoTime:
    """The event's ingest time: the "now" of date parsing (never the wall clock)."""
    return evt.Line.Time if not evt.Line.Time.IsZero() else evt.Time


def parse_date(value: str, evt: Event) -> GoTime | None:
    """CrowdSec's date guessing: ``StrTimeFormat`` first, then the known layouts, then a unix
    epoch. A year-less date (syslog ``Jan  2 15:04:05``) takes the ingest time's year."""
    if not value:
        return None
    year = reference_time(evt).year()
    layouts = DATE_LAYOUTS
    if evt.StrTimeFormat:
        custom = _layout(evt.StrTimeFormat)
        if custom is not None:
            layouts = (custom,) + DATE_LAYOUTS
    for layout in layouts:
        parsed = layout.try_parse(value, ref_year=year)
        if parsed is not None:
            return parsed
    head = value.split(".", 1)[0]
    if head.isascii() and head.lstrip("+-").isdigit() and int(head) > 0:
        return GoTime(int(head) * 1_000_000_000)
    return None


def enrich_parse_date(value: str, evt: Event) -> dict[str, str]:
    """``ParseDate``: ``Enriched.MarshaledTime``; in time-machine mode ``evt.Time`` too.
    When nothing parses, the ingest time is used (CrowdSec uses "now")."""
    parsed = parse_date(value, evt)
    if parsed is None:
        return {"MarshaledTime": reference_time(evt).marshal_text()}
    if evt.ExpectMode == TIMEMACHINE:
        evt.Time = parsed
    return {"MarshaledTime": parsed.marshal_text()}


ENRICHERS: Mapping[str, Enricher] = MappingProxyType({
    "ParseDate": enrich_parse_date,
})
