"""What happens to an overflow after its bucket: the ``OVFLW`` event, postoverflows, reprocess.

A bucket overflow becomes an overflow event (``types.Event`` of type OVFLW) whose
``Overflow`` is a :class:`RuntimeAlert`: its alerts as ``models.Alert`` (``Alert`` is the
first, the same object as ``APIAlerts[0]``) and ``Sources`` (the same ``Source`` objects).
Postoverflow stages (e.g. rdns, CDN whitelists, IPv6 → /64 range) run on that event like
parsers; they may whitelist it or rewrite the source (``target: evt.Overflow.Alert.Source.Value``).
What is then sent on is :func:`outgoing_alerts`; a scenario with ``reprocess: true`` pours
the event again into the buckets (not parsed again).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.event import OVFLW, Event
from engine.gomap import GoMap
from engine.gotime import GoTime, TimeParseError, parse_rfc3339
from engine.models import Alert, Source

if TYPE_CHECKING:
    from engine.scenario import Scenario

#: ``models.Source`` Go field → alert JSON key
_SOURCE_KEYS = (("AsName", "as_name"), ("AsNumber", "as_number"), ("Cn", "cn"), ("IP", "ip"),
                ("Latitude", "latitude"), ("Longitude", "longitude"), ("Range", "range"),
                ("Scope", "scope"), ("Value", "value"))


@dataclass(frozen=True, slots=True)
class BucketOverflow:
    """The alerts of one bucket overflow (one alert per source), with where they come from."""

    scenario: Scenario
    key: str
    alerts: list[dict[str, Any]]

    @property
    def mapkey(self) -> str:
        """CrowdSec's bucket map key: a hash of the filter, the groupby value and the name."""
        text = "\x00".join((self.scenario.filter.source, self.key, self.scenario.name))
        return hashlib.sha1(text.encode()).hexdigest()


def _zero_source() -> Source:
    """A missing key of ``Sources`` (a ``map[string]models.Source``) reads as an empty Source."""
    return Source({})


class RuntimeAlert:
    """``types.RuntimeAlert``: an overflow with its sources and alert(s)."""

    __slots__ = ("Mapkey", "BucketId", "Whitelisted", "Reprocess", "Sources", "Alert", "APIAlerts")
    #: the Go fields statics may write by name (``target: evt.Overflow.Alert.Source.Value``)
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, alerts: list[dict[str, Any]], mapkey: str, reprocess: bool) -> None:
        self.Mapkey = mapkey
        self.BucketId = ""
        self.Whitelisted = False
        self.Reprocess = reprocess
        self.APIAlerts = [Alert(a) for a in alerts]
        self.Sources = GoMap(((a.Source.Value, a.Source) for a in self.APIAlerts), zero=_zero_source)
        self.Alert: Alert | None = self.APIAlerts[0] if self.APIAlerts else None

    def GetSources(self) -> list[str]:  # noqa: N802
        return list(self.Sources)


def overflow_event(alerts: list[dict[str, Any]], mapkey: str, reprocess: bool) -> Event:
    """The ``OVFLW`` event of an overflow (``MarshaledTime``/``Time`` = the overflow time)."""
    evt = Event()
    evt.Type = OVFLW
    evt.Process = True
    evt.Overflow = RuntimeAlert(alerts, mapkey, reprocess)
    stop = alerts[0].get("stop_at", "") if alerts else ""
    evt.MarshaledTime = stop
    if stop:
        try:
            evt.Time = parse_rfc3339(stop)
        except TimeParseError:
            evt.Time = GoTime.zero()
    return evt


def outgoing_alerts(overflow: BucketOverflow, evt: Event) -> list[dict[str, Any]]:
    """The alerts to send for ``overflow`` after its event went through the postoverflows:
    none when whitelisted, else each alert with its (possibly rewritten) source. The alert
    ``uuid`` stays the one of the bucket overflow, so a redelivery is still recognised."""
    runtime = evt.Overflow
    if evt.Whitelisted or runtime is None or runtime.Whitelisted:
        return []
    return [{**alert, "source": source_dict(model.Source, alert.get("source") or {})}
            for alert, model in zip(overflow.alerts, runtime.APIAlerts, strict=True)]


def source_dict(source: Source, original: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``models.Source`` back in the alert JSON shape: the keys of ``original`` (the
    source it was read from) and every non-zero field."""
    out = dict(original or {})
    for field, key in _SOURCE_KEYS:
        value = getattr(source, field)
        if key in out or value:
            out[key] = value
    return out
