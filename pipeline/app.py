"""The Faust app: a stateless parse+route stage and a stateful bucket stage.

raw topic ──parse──► pours topic (partition = Kafka's hash of the bucket key, one message per
destination partition per input batch) ──buckets──► alerts topic.

The bucket table is keyed by bucket key (the scenario groupby value) and holds the states of
every scenario for that key, so one pour is one table write. It has the pours topic's
partition count, and pours for one key always land on one partition, so the table's changelog
partition is the partition the pour came from (co-partitioning).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import faust
import orjson

from pipeline import metrics
from pipeline.settings import PipelineSettings
from topics.keys import partition_for
from topics.records import AlertBatch, Pour, PourBatch, RawBatch, RecordError

if TYPE_CHECKING:
    from engine.content import Content

log = logging.getLogger("crowdstream.pipeline")

R = TypeVar("R")


def build_app(settings: PipelineSettings, content: Content) -> faust.App:
    """A Faust app wired for ``content``; run it with :func:`pipeline.worker.run_worker`."""
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        producer_linger_ms=settings.linger_ms,
        broker_rebalance_timeout=10,
        broker_session_timeout=10,
        broker_heartbeat_interval=1,
        consumer_auto_offset_reset="earliest",
        web_enabled=settings.web_port is not None,
        web_bind="127.0.0.1",
        web_port=settings.web_port or 6066,
        key_serializer="raw",
        value_serializer="raw",
        **_credentials(settings.client_options),
    )
    raw = app.topic(settings.topics.raw, value_type=bytes, partitions=settings.partitions)
    pours = app.topic(settings.topics.pours, value_type=bytes, partitions=settings.partitions)
    alerts = app.topic(settings.topics.alerts, value_type=bytes, partitions=settings.partitions)
    buckets = app.Table(
        "buckets", key_type=str, value_type=bytes, partitions=settings.partitions, default=None
    )

    @app.agent(raw)
    async def parse(stream: faust.StreamT[bytes]) -> None:
        async for batch in _decoded(stream, RawBatch.decode, settings.topics.raw):
            for partition, chunk in route_batch(content, batch, settings):
                await pours.send(value=chunk.encode(), partition=partition)

    @app.agent(pours)
    async def bucket(stream: faust.StreamT[bytes]) -> None:
        async for batch in _decoded(stream, PourBatch.decode, settings.topics.pours):
            out = pour_batch(content, batch, buckets.get, buckets.__setitem__, buckets.pop)
            if out:
                await alerts.send(value=AlertBatch(out).encode())

    return app


async def _decoded(
    stream: AsyncIterable[bytes], decode: Callable[[bytes], R], topic: str
) -> AsyncIterator[R]:
    """The records of a stream; a malformed message is counted, logged and skipped."""
    async for message in stream:
        try:
            record = decode(message)
        except RecordError as exc:
            metrics.BAD_RECORDS.labels(topic).inc()
            log.warning("skipped a malformed message on %s: %s", topic, exc)
            continue
        yield record


def route_batch(
    content: Content, batch: RawBatch, settings: PipelineSettings
) -> list[tuple[int, PourBatch]]:
    """Parse a raw batch into pour messages: per destination partition, in input order, at
    most ``settings.max_pours_per_message`` pours each."""
    labels = batch.labels
    kind = labels.get("type", "")
    by_partition: dict[int, list[Pour]] = defaultdict(list)
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
                Pour(key, scenarios, ts, event))
    size = settings.max_pours_per_message
    return [
        (partition, PourBatch(pours[i : i + size]))
        for partition, pours in by_partition.items()
        for i in range(0, len(pours), size)
    ]


def pour_batch(
    content: Content,
    batch: PourBatch,
    get: Callable[[str], bytes | None],
    put: Callable[[str, bytes], None],
    delete: Callable[[str], Any],
) -> list[dict[str, Any]]:
    """Pour every record of a batch into its key's states; one table write per pour."""
    alerts: list[dict[str, Any]] = []
    for pour in batch.pours:
        stored = get(pour.key)
        states: dict[str, dict[str, Any]] = orjson.loads(stored) if stored else {}
        for name in pour.scenarios:
            metrics.POURS.labels(name).inc()
        new_alerts = content.pour(pour.key, pour.scenarios, pour.ts, pour.event, states)
        for alert in new_alerts:
            metrics.OVERFLOWS.labels(alert["scenario"]).inc()
        alerts.extend(new_alerts)
        if states:
            put(pour.key, orjson.dumps(states))
        elif stored is not None:
            delete(pour.key)
    return alerts


def _credentials(options: dict[str, Any]) -> dict[str, Any]:
    """Faust's broker_credentials from aiokafka-style client options."""
    protocol = options.get("security_protocol", "PLAINTEXT")
    if protocol == "PLAINTEXT":
        return {}
    ssl_context = options.get("ssl_context")
    if protocol == "SSL":
        return {"broker_credentials": faust.SSLCredentials(ssl_context)}
    creds = faust.SASLCredentials(
        username=options.get("sasl_plain_username"),
        password=options.get("sasl_plain_password"),
        ssl_context=ssl_context,
        mechanism=options.get("sasl_mechanism", "PLAIN"),
    )
    return {"broker_credentials": creds}
