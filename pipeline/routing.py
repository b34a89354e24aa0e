"""The stateless stage: a raw batch → pour messages, per destination partition of the pours topic."""
from __future__ import annotations

import zlib
from collections import defaultdict

from engine.content import Content
from pipeline import metrics
from pipeline.settings import PipelineSettings
from topics.keys import partition_for
from topics.records import Origin, Pour, PourBatch, RawBatch


def route_batch(content: Content, batch: RawBatch, settings: PipelineSettings,
                stream: str, offset: int) -> list[tuple[int, PourBatch]]:
    """Parse a raw batch (the message at ``offset`` of ``stream``) into pour messages: per
    destination partition, in input order, at most ``settings.max_pours_per_message`` pours
    each. A pour's origin is the stream and the batch's source (its lines are in time
    order, a raw partition's mix of sources is not), the offset and the pour's number in the
    batch (not the line's: a line routed to several keys makes several pours, and the bucket
    stage takes an origin it has seen on a partition for a redelivery)."""
    stream = f"{stream}:{zlib.crc32(batch.source.encode()):08x}"
    labels = batch.labels
    kind = labels.get("type", "")
    by_partition: dict[int, list[Pour]] = defaultdict(list)
    number = 0
    for raw_line in batch.lines:
        metrics.LINES_READ.labels(batch.source, kind).inc()
        evt = content.parse(raw_line.line, source=batch.source, module=batch.module,
                            labels=labels, ingest_ts=raw_line.ts)
        if evt is None:
            metrics.LINES_UNPARSED.labels(batch.source, kind).inc()
            continue
        metrics.LINES_PARSED.labels(batch.source, kind).inc()
        routes = content.route(evt)
        if not routes:
            continue
        ts, event = content.event_time(evt), content.pour_event(evt)
        for key, scenarios in routes:
            by_partition[partition_for(key, settings.partitions)].append(
                Pour(key, scenarios, ts, event, Origin(stream, offset, number)))
            number += 1
    size = settings.max_pours_per_message
    return [
        (partition, PourBatch(pours[i : i + size]))
        for partition, pours in by_partition.items()
        for i in range(0, len(pours), size)
    ]
