"""Versioned record schemas and their JSON serialization.

Every Kafka message carries a *batch* of records (Faust costs ~160 µs per message), so each
schema here is a batch. A message is a JSON object with a schema version ``v``; decoding
validates the shape and raises :class:`RecordError` with a reason, so a consumer can count
and skip a bad message instead of crashing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

VERSION = 1


class RecordError(ValueError):
    """A message that does not match its schema."""


def _load(data: bytes, kind: str) -> dict[str, Any]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"{kind}: not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise RecordError(f"{kind}: expected a JSON object")
    if obj.get("v") != VERSION:
        raise RecordError(f"{kind}: unsupported schema version {obj.get('v')!r}")
    return obj


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise RecordError(f"{where}: field {key!r} is missing or not {getattr(kind, '__name__', kind)}")
    return value


@dataclass(slots=True)
class RawLine:
    """One log line as read by a shipper. ``ts`` is the ingest time (epoch seconds)."""

    line: str
    ts: float


@dataclass(slots=True)
class RawBatch:
    """Lines from one acquisition stream: ``source`` is its id (a file path, a journald unit…),
    ``labels`` the acquisition labels (``type: syslog``…), ``module`` the datasource type."""

    source: str
    module: str
    labels: dict[str, str]
    lines: list[RawLine]

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "v": VERSION,
                "source": self.source,
                "module": self.module,
                "labels": self.labels,
                "lines": [[ln.line, ln.ts] for ln in self.lines],
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> RawBatch:
        obj = _load(data, "raw batch")
        lines = _field(obj, "lines", list, "raw batch")
        parsed: list[RawLine] = []
        for item in lines:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], (int, float))):
                raise RecordError("raw batch: each line must be [text, ingest_ts]")
            parsed.append(RawLine(item[0], float(item[1])))
        labels = _field(obj, "labels", dict, "raw batch")
        return cls(
            source=_field(obj, "source", str, "raw batch"),
            module=_field(obj, "module", str, "raw batch"),
            labels={str(k): str(v) for k, v in labels.items()},
            lines=parsed,
        )


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a pour comes from: ``stream`` (``"r<partition>:<crc32 of the source>"`` for a raw
    line, ``"p<partition>"`` for a re-poured overflow), the Kafka ``offset`` of that message and
    the pour's ``index`` among the pours made from it (unique: a line routed to several bucket
    keys makes several pours). Per pours partition and stream, origins only grow, so the bucket
    stage can recognise a pour it has already applied (a redelivery after a crash); per
    stream, event time grows (one log source), which gives the bucket stage its watermark."""

    stream: str
    offset: int
    index: int


@dataclass(slots=True)
class Pour:
    """One event for one bucket key: the scenarios whose filter matched, the event time
    (epoch seconds), the event as the bucket stage needs it (a JSON-able dict) and, when
    known, its :class:`Origin`."""

    key: str
    scenarios: list[str]
    ts: float
    event: dict[str, Any]
    origin: Origin | None = None


def _origin(item: Any) -> Origin | None:
    if item is None:
        return None
    if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
            and type(item[1]) is int and type(item[2]) is int):
        raise RecordError("pour batch: an origin must be [stream, offset, index]")
    return Origin(item[0], item[1], item[2])


@dataclass(slots=True)
class PourBatch:
    """Pours for one partition of the pours topic, in input order."""

    pours: list[Pour] = field(default_factory=list)

    def encode(self) -> bytes:
        return orjson.dumps({"v": VERSION, "pours": [
            [p.key, p.scenarios, p.ts, p.event,
             None if p.origin is None else [p.origin.stream, p.origin.offset, p.origin.index]]
            for p in self.pours]})

    @classmethod
    def decode(cls, data: bytes) -> PourBatch:
        obj = _load(data, "pour batch")
        return cls._from(obj)

    @classmethod
    def _from(cls, obj: dict[str, Any]) -> PourBatch:
        out: list[Pour] = []
        for item in _field(obj, "pours", list, "pour batch"):
            if not (isinstance(item, list) and len(item) in (4, 5) and isinstance(item[0], str)
                    and isinstance(item[1], list) and isinstance(item[2], (int, float))
                    and isinstance(item[3], dict)):
                raise RecordError("pour batch: each pour must be [key, scenarios, ts, event, origin]")
            origin = _origin(item[4]) if len(item) == 5 else None
            out.append(Pour(item[0], [str(s) for s in item[1]], float(item[2]), item[3], origin))
        return cls(out)


@dataclass(frozen=True, slots=True)
class Tick:
    """A time record for one partition of the pours topic: the sender's wall-clock time
    (epoch seconds). The bucket stage advances that partition's watermark with it, fires
    timed overflows and collects idle buckets."""

    wall_ts: float

    def encode(self) -> bytes:
        return orjson.dumps({"v": VERSION, "tick": self.wall_ts})


def decode_pours_message(data: bytes) -> PourBatch | Tick:
    """A message of the pours topic: a :class:`PourBatch` or a :class:`Tick`."""
    obj = _load(data, "pour batch")
    if "tick" in obj:
        wall = obj["tick"]
        if isinstance(wall, bool) or not isinstance(wall, (int, float)):
            raise RecordError("tick: field 'tick' must be a number")
        return Tick(float(wall))
    return PourBatch._from(obj)


@dataclass(slots=True)
class AlertBatch:
    """Alerts in the CrowdSec LAPI ``POST /v1/alerts`` shape (models.Alert), each with a
    deterministic ``uuid`` so a redelivered overflow is recognised as the same alert."""

    alerts: list[dict[str, Any]] = field(default_factory=list)

    def encode(self) -> bytes:
        return orjson.dumps({"v": VERSION, "alerts": self.alerts})

    @classmethod
    def decode(cls, data: bytes) -> AlertBatch:
        obj = _load(data, "alert batch")
        alerts = _field(obj, "alerts", list, "alert batch")
        for alert in alerts:
            if not isinstance(alert, dict):
                raise RecordError("alert batch: each alert must be an object")
            for key in ("uuid", "scenario", "source", "start_at", "stop_at"):
                if key not in alert:
                    raise RecordError(f"alert batch: alert without {key!r}")
        return cls(alerts)
