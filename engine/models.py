"""CrowdSec's API models (``models.Alert``, ``Source``, ``Event``, ``MetaItem``, ``Decision``)
as objects with Go field and method names, built from an alert dict in the LAPI JSON shape.

Expressions see alerts through them: LAPI profiles (``Alert.GetScope()``), hubtest asserts
(``results[0].Overflow.Alert.Events[0].GetMeta("x")``) and postoverflow statics, which may
write fields by name (``target: evt.Overflow.Alert.Source.Value``: every class declares its
``GO_FIELDS``). Absent values take Go's zero values (``""``, ``0``, ``false``, empty lists).
"""
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


def _maps(items: Any) -> list[Mapping[str, Any]]:
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def _get_meta(items: list[MetaItem], key: str) -> str:
    for item in items:
        if item.Key == key:
            return item.Value
    return ""


class MetaItem:
    __slots__ = ("Key", "Value")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, Key: str, Value: str) -> None:  # noqa: N803 - Go names
        self.Key = Key
        self.Value = Value

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetaItem:
        return cls(_str(data.get("key")), _str(data.get("value")))


class Source:
    __slots__ = ("AsName", "AsNumber", "Cn", "IP", "Latitude", "Longitude", "Range", "Scope",
                 "Value")
    GO_FIELDS = frozenset(__slots__)

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


class AlertEvent:
    """``models.Event``: one event of an alert, its meta as ``{Key, Value}`` items."""

    __slots__ = ("Meta", "Timestamp")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.Meta = [MetaItem.from_dict(m) for m in _maps(data.get("meta"))]
        self.Timestamp = _str(data.get("timestamp"))

    def GetMeta(self, key: str) -> str:  # noqa: N802
        return _get_meta(self.Meta, key)


class Decision:
    __slots__ = ("Duration", "ID", "Origin", "Scenario", "Scope", "Simulated", "Type", "UUID",
                 "Until", "Value")
    GO_FIELDS = frozenset(__slots__)

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


class Alert:
    """``models.Alert``."""

    __slots__ = ("Capacity", "CreatedAt", "Decisions", "Events", "EventsCount", "ID", "Kind",
                 "Labels", "Leakspeed", "MachineID", "Message", "Meta", "Remediation",
                 "Scenario", "ScenarioHash", "ScenarioVersion", "Simulated", "Source",
                 "StartAt", "StopAt", "UUID")
    GO_FIELDS = frozenset(__slots__)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.Capacity = _int(data.get("capacity"))
        self.CreatedAt = _str(data.get("created_at"))
        self.Decisions = [Decision(d) for d in _maps(data.get("decisions"))]
        self.Events = [AlertEvent(e) for e in _maps(data.get("events"))]
        self.EventsCount = _int(data.get("events_count"))
        self.ID = _int(data.get("id"))
        self.Kind = _str(data.get("kind"))
        labels = data.get("labels")
        self.Labels = [str(x) for x in labels] if isinstance(labels, list) else []
        self.Leakspeed = _str(data.get("leakspeed"))
        self.MachineID = _str(data.get("machine_id"))
        self.Message = _str(data.get("message"))
        self.Meta = [MetaItem.from_dict(m) for m in _maps(data.get("meta"))]
        self.Remediation = data.get("remediation") is True
        self.Scenario = _str(data.get("scenario"))
        self.ScenarioHash = _str(data.get("scenario_hash"))
        self.ScenarioVersion = _str(data.get("scenario_version"))
        self.Simulated = data.get("simulated") is True
        source = data.get("source")
        self.Source = Source(source if isinstance(source, Mapping) else {})
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
        """The source values of the alert (one source per alert here)."""
        return [self.Source.Value] if self.Source.Value else []

    def GetMeta(self, key: str) -> str:  # noqa: N802
        return _get_meta(self.Meta, key)

    def GetMessage(self) -> str:  # noqa: N802
        return self.Message

    def GetStartAt(self) -> str:  # noqa: N802
        return self.StartAt

    def GetStopAt(self) -> str:  # noqa: N802
        return self.StopAt

    def HasRemediation(self) -> bool:  # noqa: N802
        return self.Remediation
