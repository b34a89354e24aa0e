"""The alerts-topic consumer: a plain aiokafka consumer group (not Faust).

Each poll batch is decoded (a malformed message is counted in
``crowdstream_lapi_bad_records_total``, logged and skipped), ingested in ONE database
transaction in a worker thread (the event loop keeps serving HTTP), and only then are its
offsets committed. A crash between the database commit and the offset commit redelivers the
batch, which idempotent ingestion (alert uuid) absorbs: effectively once. When the database
transaction fails the consumer seeks back to the batch's first offsets and retries it with
a capped exponential backoff, so nothing is skipped while the database is down.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from lapi import metrics
from topics.records import AlertBatch, RecordError

log = logging.getLogger("crowdstream.lapi.consumer")

Ingest = Callable[[list[dict[str, Any]]], Any]


class ConsumerLike(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def getmany(self, *partitions: TopicPartition, timeout_ms: int = 0,
                      max_records: int | None = None) -> dict[TopicPartition, list[Any]]: ...
    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None: ...
    def seek(self, partition: TopicPartition, offset: int) -> None: ...


def decode_alerts(values: Iterable[bytes | None], topic: str) -> list[dict[str, Any]]:
    """The alerts of a sequence of message values; bad messages are counted and skipped."""
    alerts: list[dict[str, Any]] = []
    for value in values:
        if value is None:
            reason = "alert batch: empty message"
        else:
            try:
                alerts.extend(AlertBatch.decode(value).alerts)
                continue
            except RecordError as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001 - never let one message stop the consumer
                reason = f"alert batch: undecodable: {exc!r}"
        metrics.BAD_RECORDS.labels(topic).inc()
        log.warning("skipped a malformed message of %s: %s", topic, reason)
    return alerts


class AlertsConsumer:
    """Consumes ``topic`` in group ``group`` and hands each batch to ``ingest`` (a blocking
    function, run in a thread). ``consumer_factory`` replaces the aiokafka consumer (tests)."""

    def __init__(
        self,
        *,
        topic: str,
        bootstrap: str,
        group: str,
        ingest: Ingest,
        client_options: Mapping[str, Any] | None = None,
        max_records: int = 500,
        poll_timeout_ms: int = 500,
        backoff: tuple[float, float] = (0.5, 30.0),
        consumer_factory: Callable[[], ConsumerLike] | None = None,
    ) -> None:
        self.topic = topic
        self.bootstrap = bootstrap
        self.group = group
        self.ingest = ingest
        self.client_options = dict(client_options or {})
        self.max_records = max_records
        self.poll_timeout_ms = poll_timeout_ms
        self.backoff_min, self.backoff_max = backoff
        self._factory = consumer_factory or self._aiokafka
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._delay = self.backoff_min

    def _aiokafka(self) -> ConsumerLike:
        return AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.client_options,
        )

    async def start(self) -> None:
        """Start consuming in the background (connection problems are retried there, so the
        HTTP API comes up even while Kafka is unreachable)."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="lapi-alerts-consumer")

    async def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in progress (DB commit, then offset commit) and leave the group."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            log.warning("alerts consumer did not stop within %.0fs; cancelling it", timeout)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        except Exception:  # noqa: BLE001 - already logged by _run
            pass
        self._task = None

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking up early when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _next_delay(self) -> float:
        delay = self._delay
        self._delay = min(self._delay * 2, self.backoff_max)
        return delay

    async def _connect(self) -> ConsumerLike | None:
        while not self._stopping.is_set():
            consumer = self._factory()
            try:
                await consumer.start()
            except Exception as exc:  # noqa: BLE001 - broker down, auth errors… retried
                delay = self._next_delay()
                log.error("alerts consumer cannot connect to %s: %s (retrying in %.1fs)",
                          self.bootstrap, exc, delay)
                with contextlib.suppress(Exception):
                    await consumer.stop()
                await self._sleep(delay)
                continue
            self._delay = self.backoff_min
            log.info("alerts consumer started: topic %s, group %s", self.topic, self.group)
            return consumer
        return None

    async def _run(self) -> None:
        consumer = await self._connect()
        if consumer is None:
            return
        try:
            while not self._stopping.is_set():
                try:
                    await self.poll_once(consumer)
                except KafkaError as exc:
                    delay = self._next_delay()
                    log.error("alerts consumer: %s (retrying in %.1fs)", exc, delay)
                    await self._sleep(delay)
        finally:
            try:
                await consumer.stop()
            except Exception as exc:  # noqa: BLE001
                log.warning("alerts consumer did not stop cleanly: %s", exc)
            log.info("alerts consumer stopped")

    async def poll_once(self, consumer: ConsumerLike) -> int:
        """One poll → decode → ingest → commit round; returns the number of messages."""
        batch = await consumer.getmany(timeout_ms=self.poll_timeout_ms,
                                       max_records=self.max_records)
        if not batch:
            return 0
        messages = [m for records in batch.values() for m in records]
        alerts = decode_alerts((m.value for m in messages), self.topic)
        if alerts:
            try:
                await asyncio.to_thread(self.ingest, alerts)
            except Exception as exc:  # noqa: BLE001 - DB down, deadlock…: retry the batch
                metrics.INGEST_FAILURES.inc()
                delay = self._next_delay()
                log.error("alerts consumer: ingesting %d alert(s) failed: %s (retrying in %.1fs)",
                          len(alerts), exc, delay)
                for tp, records in batch.items():
                    try:
                        consumer.seek(tp, records[0].offset)
                    except (IllegalStateError, KafkaError, AssertionError) as seek_error:
                        # partition revoked meanwhile: its new owner starts from the
                        # last committed offset, which is before this batch
                        log.info("cannot seek %s back: %s", tp, seek_error)
                await self._sleep(delay)
                return len(messages)
        self._delay = self.backoff_min
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            # a rebalance took the partitions: the batch will be redelivered, and
            # ingestion is idempotent
            log.warning("alerts consumer: offset commit failed (%s); the batch will be "
                        "redelivered and deduplicated", exc)
        return len(messages)
