"""CrowdSec's ``pipeline.Event``, with the Go field names that expressions use.

``evt.Parsed``, ``evt.Meta``, ``evt.Enriched`` and ``evt.Line.Labels`` are :class:`StrMap`
(Go ``map[string]string``: a missing key reads ``""``); ``evt.Unmarshaled`` is a plain dict
(``map[string]any``: a missing key reads nil). Times are :class:`GoTime`.

:meth:`Event.to_dict` / :meth:`Event.from_dict` convert to and from a compact JSON-able dict
with Go's JSON field names, omitting empty fields (the shape of CrowdSec's own event dumps).
"""
from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from typing import Any

from engine.expr.values import StrMap
from engine.gotime import GoTime, TimeParseError, parse_rfc3339

LOG = 0
OVFLW = 1
LIVE = 0
TIMEMACHINE = 1


class Line:
    """``pipeline.Line``: the raw line as acquired."""

    __slots__ = ("Raw", "Src", "Time", "Labels", "Process", "Module")

    def __init__(self, Raw: str = "", Src: str = "", Time: GoTime | None = None,  # noqa: N803
                 Labels: Mapping[str, str] | None = None, Process: bool = False,  # noqa: N803
                 Module: str = "") -> None:  # noqa: N803
        self.Raw = Raw
        self.Src = Src
        self.Time = Time if Time is not None else GoTime.zero()
        self.Labels = StrMap(Labels or {})
        self.Process = Process
        self.Module = Module


class Event:
    """``pipeline.Event``: a log line on its way through parsers and buckets."""

    __slots__ = ("Type", "ExpectMode", "Whitelisted", "WhitelistReason", "Stage", "Line",
                 "Parsed", "Enriched", "Unmarshaled", "Time", "StrTime", "StrTimeFormat",
                 "MarshaledTime", "Process", "Meta", "Overflow", "_routed")

    def __init__(self) -> None:
        self.Type = LOG
        self.ExpectMode = TIMEMACHINE
        self.Whitelisted = False
        self.WhitelistReason = ""
        self.Stage = ""
        self.Line = Line()
        self.Parsed = StrMap()
        self.Enriched = StrMap()
        self.Unmarshaled: dict[str, Any] = {}
        self.Time = GoTime.zero()
        self.StrTime = ""
        self.StrTimeFormat = ""
        self.MarshaledTime = ""
        self.Process = True
        self.Meta = StrMap()
        self.Overflow: Any = None
        self._routed: list[str] | None = None  # scenario names matched by Content.route

    @classmethod
    def from_line(cls, raw: str, *, source: str, module: str, labels: Mapping[str, str],
                  ingest_ts: float) -> Event:
        """A freshly acquired log line (``Process`` set, event time = ingest time)."""
        evt = cls()
        now = GoTime.from_unix(ingest_ts)
        evt.Line = Line(raw, source, now, labels, True, module)
        evt.Time = now
        return evt

    # --- Go methods -----------------------------------------------------------------
    def GetMeta(self, key: str) -> str:  # noqa: N802
        return self.Meta.get(key, "") if self.Type == LOG else ""

    def SetMeta(self, key: str, value: str) -> bool:  # noqa: N802
        self.Meta[key] = value
        return True

    def SetParsed(self, key: str, value: str) -> bool:  # noqa: N802
        self.Parsed[key] = value
        return True

    def GetType(self) -> str:  # noqa: N802
        return {LOG: "log", OVFLW: "overflow"}.get(self.Type, "unknown")

    def ParseIPSources(self) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:  # noqa: N802
        """The source addresses: ``Meta.source_ip`` of a log, the keys of ``Overflow.Sources``
        of an overflow; values that are not addresses are left out (Go ``netip.ParseAddr``)."""
        if self.Type == LOG:
            values = [self.Meta["source_ip"]] if "source_ip" in self.Meta else []
        elif self.Type == OVFLW:
            sources = getattr(self.Overflow, "Sources", None)
            if sources is None and isinstance(self.Overflow, Mapping):
                sources = self.Overflow.get("Sources")
            values = list(sources or ())
        else:
            values = []
        out = []
        for value in values:
            addr = parse_addr(value)
            if addr is not None:
                out.append(addr)
        return out

    # --- snapshots ------------------------------------------------------------------
    def snapshot(self) -> Event:
        """An independent deep copy (CrowdSec's ``deepcopy.Copy(evt)``): later changes to
        this event, its maps, ``Unmarshaled`` or ``Overflow`` do not show in the copy."""
        out = Event.__new__(Event)
        out.Type = self.Type
        out.ExpectMode = self.ExpectMode
        out.Whitelisted = self.Whitelisted
        out.WhitelistReason = self.WhitelistReason
        out.Stage = self.Stage
        line = self.Line
        out.Line = Line(line.Raw, line.Src, line.Time, dict(line.Labels), line.Process, line.Module)
        out.Parsed = StrMap(self.Parsed)
        out.Enriched = StrMap(self.Enriched)
        out.Meta = StrMap(self.Meta)
        out.Unmarshaled = copy.deepcopy(self.Unmarshaled) if self.Unmarshaled else {}
        out.Time = self.Time
        out.StrTime = self.StrTime
        out.StrTimeFormat = self.StrTimeFormat
        out.MarshaledTime = self.MarshaledTime
        out.Process = self.Process
        out.Overflow = copy.deepcopy(self.Overflow) if self.Overflow is not None else None
        out._routed = list(self._routed) if self._routed is not None else None
        return out

    # --- statics ``target:`` ----------------------------------------------------------
    def set_target(self, target: str, value: str) -> bool:
        """CrowdSec ``SetTargetByName``: write a string field or map entry by dotted name
        (``evt.StrTime``, ``Parsed.x``, ``Line.Labels.y``, ``Overflow.Alert.Source.Value``);
        False if it is not writable."""
        if target.startswith("evt."):
            target = target[4:]
        parts = target.split(".")
        obj: Any = self
        for i, name in enumerate(parts):
            if isinstance(obj, dict):
                obj[name] = value
                return True
            if name not in go_fields(obj):
                return False
            if i == len(parts) - 1:
                if not isinstance(getattr(obj, name), str):
                    return False
                setattr(obj, name, value)
                return True
            obj = getattr(obj, name)
        return False

    # --- serialization --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-able form: Go JSON names, empty fields left out."""
        out: dict[str, Any] = {}
        if self.Type:
            out["Type"] = self.Type
        if self.ExpectMode:
            out["ExpectMode"] = self.ExpectMode
        if self.Whitelisted:
            out["Whitelisted"] = True
        if self.WhitelistReason:
            out["whitelist_reason"] = self.WhitelistReason
        if self.Stage:
            out["Stage"] = self.Stage
        line: dict[str, Any] = {}
        for name in ("Raw", "Src", "Module"):
            if getattr(self.Line, name):
                line[name] = getattr(self.Line, name)
        if self.Line.Labels:
            line["Labels"] = dict(self.Line.Labels)
        if not self.Line.Time.IsZero():
            line["Time"] = self.Line.Time.marshal_text()
        if self.Line.Process:
            line["Process"] = True
        if line:
            out["Line"] = line
        for name in ("Parsed", "Enriched", "Meta"):
            value = getattr(self, name)
            if value:
                out[name] = dict(value)
        if self.Unmarshaled:
            out["Unmarshaled"] = self.Unmarshaled
        if not self.Time.IsZero():
            out["Time"] = self.Time.marshal_text()
        for name in ("StrTime", "StrTimeFormat", "MarshaledTime"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.Process:
            out["Process"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Inverse of :meth:`to_dict` (also reads CrowdSec's own JSON event dumps)."""
        evt = cls()
        evt.Type = int(data.get("Type", LOG))
        evt.ExpectMode = int(data.get("ExpectMode", LIVE))
        evt.Whitelisted = bool(data.get("Whitelisted", False))
        evt.WhitelistReason = str(data.get("whitelist_reason", data.get("WhitelistReason", "")))
        evt.Stage = str(data.get("Stage", ""))
        line = data.get("Line") or {}
        evt.Line = Line(str(line.get("Raw", "")), str(line.get("Src", "")),
                        _time(line.get("Time")), {str(k): str(v) for k, v in (line.get("Labels") or {}).items()},
                        bool(line.get("Process", False)), str(line.get("Module", "")))
        for name in ("Parsed", "Enriched", "Meta"):
            setattr(evt, name, StrMap({str(k): str(v) for k, v in (data.get(name) or {}).items()}))
        evt.Unmarshaled = dict(data.get("Unmarshaled") or {})
        evt.Time = _time(data.get("Time"))
        for name in ("StrTime", "StrTimeFormat", "MarshaledTime"):
            setattr(evt, name, str(data.get(name, "")))
        evt.Process = bool(data.get("Process", False))
        return evt


def parse_addr(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go ``netip.ParseAddr``: an IPv4 (no leading zeros) or IPv6 address (a zone allowed;
    an IPv4-mapped IPv6 address stays IPv6); None when ``value`` is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _time(value: Any) -> GoTime:
    if not value:
        return GoTime.zero()
    try:
        return parse_rfc3339(str(value))
    except TimeParseError:
        return GoTime.zero()


_FIELDS: dict[type, frozenset[str]] = {
    Event: frozenset({"Type", "ExpectMode", "Whitelisted", "WhitelistReason", "Stage", "Line",
                      "Parsed", "Enriched", "Unmarshaled", "Time", "StrTime", "StrTimeFormat",
                      "MarshaledTime", "Process", "Meta", "Overflow"}),
    Line: frozenset({"Raw", "Src", "Time", "Labels", "Process", "Module"}),
}


def go_fields(obj: Any) -> frozenset[str]:
    """The Go field names ``target:`` may walk through on ``obj``: the Event model's own, or
    those an object declares in a ``GO_FIELDS`` class attribute (overflows, alerts)."""
    return _FIELDS.get(type(obj)) or getattr(type(obj), "GO_FIELDS", frozenset())
