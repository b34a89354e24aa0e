"""The stateful stage's logic, apart from Faust: pour batches and ticks → table writes,
alerts and re-pours.

The table row of a bucket key is JSON ``{"s": states, "o": origins}``: ``states`` maps
scenario id → bucket state (see :mod:`engine.bucket`), ``origins`` maps an input stream
(a log source in a raw partition, or ``p<partition>`` of the pours topic for re-poured
overflows: see ``topics.records.Origin``) → ``[offset, index]`` of the last pour applied to
this key. Each pours partition also has a row of its own (key ``"\x00partition:<p>"``,
written last for every pour message, so when it landed so did the rows before it): the last
origin applied per stream on the partition, and each stream's newest event time. Per stream,
pours arrive on a partition in order, so a pour at or below either mark is a redelivery
(after a crash or a rebalance) and is skipped: state changes happen once — even for a key
collected since (its own marks are gone, the partition's are not). Their alerts are at-least-once with a
stable ``uuid`` — the caller must deliver :attr:`StageOutput.alerts` and
:attr:`StageOutput.repours` before it applies :attr:`StageOutput.writes`, so a crash in
between recomputes the same alerts rather than losing them.

Time: a pours partition receives pours from several input streams (log sources), which
progress at their own pace (a slow shipper, a replay of several files, a worker re-reading a
dead one's backlog). Its
event time is the *lowest* of the newest event times of its streams, so no stream's buckets
are judged idle by another stream's clock. The watermark is that, or with a
``watermark_lag`` the later of that and the tick's wall-clock time, minus the lag. A tick
expires the keys whose deadline (``Content.deadline``) the watermark has passed: counter
buckets overflow, dead buckets and ended blackholes go, and a key left empty is deleted
(a changelog tombstone). The per-partition deadline index lives in memory and is rebuilt
from the table on the first tick after a partition is assigned.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.content import Content
from engine.deadlines import DeadlineIndex
from engine.overflow import BucketOverflow, outgoing_alerts
from pipeline import metrics
from topics.keys import partition_for
from topics.records import Origin, Pour, PourBatch

log = logging.getLogger("crowdstream.pipeline")

Row = tuple[dict[str, dict[str, Any]], dict[str, list[int]]]


@dataclass(slots=True)
class StageOutput:
    """What one input message produced. ``writes`` maps key → new row bytes (None: delete)."""

    writes: dict[str, bytes | None] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    repours: list[tuple[int, PourBatch]] = field(default_factory=list)


def decode_row(data: bytes | None) -> Row:
    if not data:
        return {}, {}
    row = orjson.loads(data)
    return row["s"], row["o"]


def encode_row(states: dict[str, dict[str, Any]], origins: dict[str, list[int]]) -> bytes:
    return orjson.dumps({"s": states, "o": origins})


PARTITION_ROW = "\x00partition:"


def is_bucket_key(key: str) -> bool:
    """False for the stage's own rows (they start with a NUL, no groupby value does)."""
    return not key.startswith("\x00")


@dataclass(slots=True)
class PartitionRow:
    """What the stage keeps per pours partition: per stream, the last origin applied
    (``[offset, index]``) and the newest event time."""

    marks: dict[str, list[int]] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)

    @classmethod
    def decode(cls, data: bytes | None) -> PartitionRow:
        if not data:
            return cls()
        row = orjson.loads(data)
        return cls(row["o"], row["t"])

    def encode(self) -> bytes:
        return orjson.dumps({"o": self.marks, "t": self.times})


class BucketStage:
    """One worker's bucket stage: its content, watermarks and deadline indexes."""

    def __init__(self, content: Content, partitions: int, watermark_lag: float | None) -> None:
        self.content = content
        self.partitions = partitions
        self.watermark_lag = watermark_lag
        self._partition_rows: dict[int, PartitionRow] = {}
        self._indexes: dict[int, DeadlineIndex] = {}
        self._owned: set[int] = set()

    # --- pours --------------------------------------------------------------------------

    def pour_batch(self, partition: int, offset: int, batch: PourBatch,
                   get: Callable[[str], bytes | None]) -> StageOutput:
        """Apply the pours of the message at ``offset`` of pours partition ``partition``."""
        out = StageOutput()
        rows: dict[str, Row] = {}
        repours: list[Pour] = []
        prow = self._partition_row(partition, get)
        for pour in batch.pours:
            row = rows.get(pour.key)
            if row is None:
                row = rows[pour.key] = decode_row(get(pour.key))
            states, origins = row
            origin = pour.origin
            if origin is not None and (_applied(origins, origin) or _applied(prow.marks, origin)):
                metrics.REDELIVERED_POURS.inc()
                continue
            for name in pour.scenarios:
                metrics.POURS.labels(name).inc()
            overflows = self.content.pour(pour.key, pour.scenarios, pour.ts, pour.event, states)
            stream = ""
            if origin is not None:
                stream = origin.stream
                origins[stream] = prow.marks[stream] = [origin.offset, origin.index]
            self._overflows(overflows, out, repours, Origin(f"p{partition}", offset, 0))
            if pour.ts > prow.times.get(stream, 0.0):
                prow.times[stream] = pour.ts
        index = self._indexes.get(partition)
        for key, (states, origins) in rows.items():
            out.writes[key] = encode_row(states, origins) if states else None
            if index is not None:
                index.schedule(key, self.content.deadline(states))
        out.writes[PARTITION_ROW + str(partition)] = prow.encode()  # last: see module doc
        out.repours = self._by_partition(repours)
        return out

    def _partition_row(self, partition: int, get: Callable[[str], bytes | None]) -> PartitionRow:
        prow = self._partition_rows.get(partition)
        if prow is None:
            prow = self._partition_rows[partition] = PartitionRow.decode(get(PARTITION_ROW + str(partition)))
        return prow

    # --- time -----------------------------------------------------------------------------

    def watermark(self, partition: int, wall_ts: float) -> float:
        """The event time up to which partition ``partition`` is complete (see module doc)."""
        prow = self._partition_rows.get(partition)
        event_time = min(prow.times.values()) if prow is not None and prow.times else 0.0
        if self.watermark_lag is None:
            return event_time
        return max(event_time, wall_ts) - self.watermark_lag

    def tick(self, partition: int, offset: int, wall_ts: float,
             get: Callable[[str], bytes | None],
             items: Callable[[], Iterable[tuple[str, bytes]]]) -> StageOutput:
        """Advance partition ``partition`` to its watermark: expire every key that is due."""
        out = StageOutput()
        self._partition_row(partition, get)
        index = self._indexes.get(partition)
        if index is None:
            self._rebuild({partition} | (self._owned - set(self._indexes)), items())
            index = self._indexes[partition]
        now = self.watermark(partition, wall_ts)
        repours: list[Pour] = []
        origin = Origin(f"p{partition}", offset, 0)
        for key in index.due(now):
            data = get(key)
            states, origins = decode_row(data)
            if not states:
                continue
            overflows = self.content.expire(key, now, states)
            self._overflows(overflows, out, repours, origin)
            if states:
                row = encode_row(states, origins)
                if row != data:
                    out.writes[key] = row
                index.schedule(key, self.content.deadline(states))
            else:
                out.writes[key] = None
                metrics.BUCKETS_COLLECTED.inc()
        out.repours = self._by_partition(repours)
        metrics.BUCKET_KEYS.set(self.keys_scheduled())
        return out

    def assign(self, partitions: Iterable[int]) -> None:
        """Partitions this worker now owns: indexed (again) from the table on their next tick."""
        partitions = set(partitions)
        self.forget(partitions)
        self._owned |= partitions

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop what this worker knows of partitions it no longer owns."""
        for partition in partitions:
            self._owned.discard(partition)
            self._indexes.pop(partition, None)
            self._partition_rows.pop(partition, None)

    def keys_scheduled(self) -> int:
        return sum(len(index) for index in self._indexes.values())

    def _rebuild(self, partitions: set[int], items: Iterable[tuple[str, bytes]]) -> None:
        """Index ``partitions`` in one pass over the table."""
        indexes = {partition: DeadlineIndex() for partition in partitions}
        for key, data in items:
            index = indexes.get(partition_for(key, self.partitions)) if is_bucket_key(key) else None
            if index is not None:
                index.schedule(key, self.content.deadline(decode_row(data)[0]))
        self._indexes.update(indexes)
        log.info("bucket deadlines indexed: %s",
                 ", ".join(f"partition {p}: {len(i)} keys" for p, i in sorted(indexes.items())))

    # --- overflows ------------------------------------------------------------------------

    def _overflows(self, overflows: list[BucketOverflow], out: StageOutput, repours: list[Pour],
                   origin: Origin) -> None:
        """Postoverflows; the alerts that remain; re-pours of ``reprocess`` overflows (their
        origin: the message being processed, numbered in order)."""
        content = self.content
        for overflow in overflows:
            metrics.OVERFLOWS.labels(overflow.scenario.name).inc()
            evt = content.postoverflow(overflow)
            out.alerts.extend(outgoing_alerts(overflow, evt))
            if not evt.Overflow.Reprocess or evt.Overflow.Whitelisted:
                continue
            routes = content.route(evt)
            if not routes:
                continue
            ts, event = content.event_time(evt), content.pour_event(evt)
            for key, scenarios in routes:
                index = origin.index + len(repours)
                repours.append(Pour(key, scenarios, ts, event, Origin(origin.stream, origin.offset, index)))

    def _by_partition(self, pours: list[Pour]) -> list[tuple[int, PourBatch]]:
        by_partition: dict[int, list[Pour]] = {}
        for pour in pours:
            by_partition.setdefault(partition_for(pour.key, self.partitions), []).append(pour)
        return [(partition, PourBatch(batch)) for partition, batch in by_partition.items()]


def _applied(origins: dict[str, list[int]], origin: Origin) -> bool:
    mark = origins.get(origin.stream)
    return mark is not None and (origin.offset, origin.index) <= (mark[0], mark[1])
