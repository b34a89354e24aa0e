"""Read-only views of an alert with CrowdSec's Go field and method names, as profile
expressions see it (``Alert.Remediation``, ``Alert.Source.Cn``, ``Alert.GetScope()``…).

Fields are attributes; each view also answers ``view["Field"]`` so that an expression engine
that resolves members through mapping access works as well. Absent optional values take Go's
zero values (``""``, ``0``, ``false``, empty lists)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class _View:
    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        if not isinstance(name, str) or name.startswith("_"):
            raise KeyError(name)
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not name.startswith("_") and hasattr(self, name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)  # type: ignore[attr-defined]
        return f"{type(self).__name__}({fields})"


class MetaItemView(_View):
    __slots__ = ("Key", "Value")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.Key = _str(data.get("key"))
        self.Value = _str(data.get("value"))


def _metas(items: Any) -> list[MetaItemView]:
    if not isinstance(items, list):
        return []
    return [MetaItemView(m) for m in items if isinstance(m, Mapping)]


class SourceView(_View):
    __slots__ = ("AsName", "AsNumber", "Cn", "IP", "Latitude", "Longitude", "Range", "Scope",
                 "Value")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.AsName = _str(data.get("as_name"))
        self.AsNumber = _str(data.get("as_number"))
        self.Cn = _str(data.get("cn"))
        self.IP = _str(data.get("ip"))
        self.Latitude = _float(data.get("latitude"))
        self.Longitude = _float(data.get("longitude"))
        self.Range = _str(data.get("range"))
        self.Scope = _str(data.get("scope"))
        self.Value = _str(data.get("value"))

    def GetScope(self) -> str:  # noqa: N802 - Go method names
        return self.Scope

    def GetValue(self) -> str:  # noqa: N802
        return self.Value

    def GetAsNumberName(self) -> str:  # noqa: N802
        out = self.AsNumber if self.AsNumber != "0" else ""
        if self.AsName:
            out += " " + self.AsName
        return out


class EventView(_View):
    __slots__ = ("Meta", "Timestamp")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.Meta = _metas(data.get("meta"))
        self.Timestamp = _str(data.get("timestamp"))

    def GetMeta(self, key: str) -> str:  # noqa: N802
        for item in self.Meta:
            if item.Key == key:
                return item.Value
        return ""


class DecisionView(_View):
    __slots__ = ("Duration", "ID", "Origin", "Scenario", "Scope", "Simulated", "Type", "UUID",
                 "Until", "Value")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.Duration = _str(data.get("duration"))
        self.ID = _int(data.get("id"))
        self.Origin = _str(data.get("origin"))
        self.Scenario = _str(data.get("scenario"))
        self.Scope = _str(data.get("scope"))
        self.Simulated = data.get("simulated") is True
        self.Type = _str(data.get("type"))
        self.UUID = _str(data.get("uuid"))
        self.Until = _str(data.get("until"))
        self.Value = _str(data.get("value"))


class AlertView(_View):
    """CrowdSec's ``models.Alert`` over an alert dict in the API's JSON shape. ``source``
    should already have its scope normalised (``Ip``, ``Range``…), as the LAPI does before
    running profiles."""

    __slots__ = ("Capacity", "CreatedAt", "Decisions", "Events", "EventsCount", "ID", "Kind",
                 "Labels", "Leakspeed", "MachineID", "Message", "Meta", "Remediation",
                 "Scenario", "ScenarioHash", "ScenarioVersion", "Simulated", "Source",
                 "StartAt", "StopAt", "UUID")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.Capacity = _int(data.get("capacity"))
        self.CreatedAt = _str(data.get("created_at"))
        decisions = data.get("decisions")
        self.Decisions = ([DecisionView(d) for d in decisions if isinstance(d, Mapping)]
                          if isinstance(decisions, list) else [])
        events = data.get("events")
        self.Events = ([EventView(e) for e in events if isinstance(e, Mapping)]
                       if isinstance(events, list) else [])
        self.EventsCount = _int(data.get("events_count"))
        self.ID = _int(data.get("id"))
        self.Kind = _str(data.get("kind"))
        labels = data.get("labels")
        self.Labels = [str(x) for x in labels] if isinstance(labels, list) else []
        self.Leakspeed = _str(data.get("leakspeed"))
        self.MachineID = _str(data.get("machine_id"))
        self.Message = _str(data.get("message"))
        self.Meta = _metas(data.get("meta"))
        self.Remediation = data.get("remediation") is True
        self.Scenario = _str(data.get("scenario"))
        self.ScenarioHash = _str(data.get("scenario_hash"))
        self.ScenarioVersion = _str(data.get("scenario_version"))
        self.Simulated = data.get("simulated") is True
        source = data.get("source")
        self.Source = SourceView(source if isinstance(source, Mapping) else {})
        self.StartAt = _str(data.get("start_at"))
        self.StopAt = _str(data.get("stop_at"))
        self.UUID = _str(data.get("uuid"))

    def GetScope(self) -> str:  # noqa: N802 - Go method names
        return self.Source.Scope

    def GetValue(self) -> str:  # noqa: N802
        return self.Source.Value

    def GetScenario(self) -> str:  # noqa: N802
        return self.Scenario

    def GetEventsCount(self) -> int:  # noqa: N802
        return self.EventsCount

    def GetSources(self) -> list[str]:  # noqa: N802
        """The source values of the alert (CrowdSec's RuntimeAlert keeps one per source)."""
        return [self.Source.Value] if self.Source.Value else []

    def GetMeta(self, key: str) -> str:  # noqa: N802
        for item in self.Meta:
            if item.Key == key:
                return item.Value
        return ""

    def HasRemediation(self) -> bool:  # noqa: N802
        return self.Remediation
