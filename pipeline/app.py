"""The Faust app: a stateless parse+route stage and a stateful bucket stage.

raw topic ──parse──► pours topic (partition = Kafka's hash of the bucket key, one message per
destination partition per input batch) ──buckets──► alerts topic.

The bucket table is keyed by bucket key (the scenario groupby value) and holds the states of
every scenario for that key, so one pour is at most one table write. It has the pours topic's
partition count, and pours for one key always land on one partition, so the table's changelog
partition is the partition the pour came from (co-partitioning). The leader sends a tick to
every pours partition each ``tick_interval``; the bucket stage handles it in stream order
(see :mod:`pipeline.bucket_stage`). Its outputs are delivered before its table writes.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import faust

from pipeline import metrics
from pipeline.consumer import PipelineApp
from pipeline.bucket_stage import BucketStage, StageOutput
from pipeline.routing import route_batch
from pipeline.settings import PipelineSettings
from topics.records import AlertBatch, RawBatch, RecordError, Tick, decode_pours_message

if TYPE_CHECKING:
    from engine.content import Content

log = logging.getLogger("crowdstream.pipeline")

R = TypeVar("R")


def build_app(settings: PipelineSettings, content: Content) -> faust.App:
    """A Faust app wired for ``content``; run it with :func:`pipeline.worker.run_worker`."""
    app = PipelineApp(
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
    stage = BucketStage(content, settings.partitions, settings.watermark_lag)

    @app.agent(raw)
    async def parse(stream: faust.StreamT[bytes]) -> None:
        async for partition, offset, batch in _decoded(stream, RawBatch.decode, settings.topics.raw):
            for destination, chunk in route_batch(content, batch, settings, f"r{partition}", offset):
                await pours.send(value=chunk.encode(), partition=destination)

    @app.agent(pours)
    async def bucket(stream: faust.StreamT[bytes]) -> None:
        async for partition, offset, record in _decoded(stream, decode_pours_message,
                                                        settings.topics.pours):
            if isinstance(record, Tick):
                out = stage.tick(partition, offset, record.wall_ts, buckets.get, buckets.items)
            else:
                out = stage.pour_batch(partition, offset, record, buckets.get)
            await _deliver(out, alerts, pours)
            for key, value in out.writes.items():
                if value is None:
                    buckets.pop(key, None)
                else:
                    buckets[key] = value
            await _changelog_handed_over(app)

    @app.timer(settings.tick_interval, on_leader=True)
    async def ticks() -> None:
        tick = Tick(time.time()).encode()
        for partition in range(settings.partitions):
            await pours.send(value=tick, partition=partition)

    @app.on_partitions_revoked.connect
    async def _revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        stage.forget(tp.partition for tp in revoked if tp.topic == settings.topics.pours)

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        stage.assign(tp.partition for tp in assigned if tp.topic == settings.topics.pours)

    return app


async def _deliver(out: StageOutput, alerts: faust.TopicT, pours: faust.TopicT) -> None:
    """Send the alerts and re-pours of a stage step and wait until the broker has them."""
    pending = []
    if out.alerts:
        pending.append(await alerts.send(value=AlertBatch(out.alerts).encode()))
    for partition, batch in out.repours:
        pending.append(await pours.send(value=batch.encode(), partition=partition))
    if pending:
        await asyncio.gather(*pending)


async def _changelog_handed_over(app: faust.App) -> None:
    """Wait until the table's changelog writes have left Faust's producer buffer.

    Faust flushes that buffer before it commits offsets, but its flush gives up after 0.1 s
    without a sent message (``ProducerBuffer.flush_atmost``), so under load an offset could be
    committed while the changelog writes of its message were still buffered: a crash then
    loses the state change for good. Waiting here, before the message is acked, keeps
    "committed ⇒ changelog handed to the Kafka client", whose own flush is complete."""
    buffer = app.producer.buffer
    while buffer.size:
        await buffer.flush_atmost(buffer.size)


async def _decoded(
    stream: faust.StreamT[bytes], decode: Callable[[bytes], R], topic: str
) -> AsyncIterator[tuple[int, int, R]]:
    """(partition, offset, record) of a stream's messages; a malformed message is counted,
    logged and skipped."""
    async for event in stream.events():
        message = event.message
        try:
            record = decode(event.value)
        except RecordError as exc:
            metrics.BAD_RECORDS.labels(topic).inc()
            log.warning("skipped a malformed message on %s: %s", topic, exc)
            continue
        yield message.partition, message.offset, record


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
