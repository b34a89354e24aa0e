"""Helpers for pipeline tests on real Kafka: `crowdstream worker` processes, raw replays,
the alerts on the alerts topic, the consumer group's assignment, and the reference alerts
of the pure engine (no broker) to compare them with."""
from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError

from engine.content import Content
from pipeline.routing import route_batch
from pipeline.settings import PipelineSettings
from topics.names import TopicNames
from topics.records import AlertBatch, RawBatch, RawLine

# 2026-11-22 06:00:00 UTC, the ingest time that gives syslog lines their year
INGEST = 1795327200.0
AUTH_LOG = "/var/log/auth.log"

# Runs `python -m crowdstream` with Faust's recovery logger at INFO: crowdstream caps the
# ``faust`` loggers at WARNING, and the recovery lines are how a test tells whether a
# restarted worker replayed its changelog ("Restoring state from changelog topics...").
_MAIN = ("import logging, runpy, sys; "
         "logging.getLogger('faust.tables.recovery').setLevel(logging.INFO); "
         "sys.argv[0] = 'crowdstream'; runpy.run_module('crowdstream', run_name='__main__')")
RESTORING = "Restoring state from changelog topics"
RECOVERED = "Recovery complete"
_ROW = re.compile(r"^\| \S+\s+\| (\d+)\s+\| (-?\d+)\s+\|")


def kafka_config(bootstrap: str, prefix: str, partitions: int = 4, store: str = "memory://",
                 extra: str = "") -> str:
    """The ``kafka:`` and ``pipeline:`` sections for :func:`tests.support.config.write_config`.
    The tests replay fixed past timestamps, so buckets run on event time only (no watermark
    trailing the wall clock, which would collect them as idle)."""
    return f"""
kafka:
  embedded: false
  bootstrap_servers: {bootstrap}
  topic_prefix: {prefix}
  partitions: {partitions}
pipeline:
  store: {store}
  watermark_lag: null
{extra}"""


def stamp(second: int) -> str:
    """The syslog time of ``second`` seconds after Nov 22 06:00:00."""
    hour, rest = divmod(second, 3600)
    minute, sec = divmod(rest, 60)
    return f"Nov 22 {6 + hour:02d}:{minute:02d}:{sec:02d}"


def failed_auth(ip: str, second: int, user: str = "root", port: int = 40) -> RawLine:
    return RawLine(f"{stamp(second)} web-01 sshd[7]: Failed password for {user} from {ip} "
                   f"port {port} ssh2", INGEST)


def lines(ip: str, start_second: int, count: int, user: str = "root", step: int = 1) -> list[RawLine]:
    """``count`` failed ssh logins from ``ip``, one every ``step`` s from ``start_second``."""
    return [failed_auth(ip, start_second + i * step, user, 40 + i) for i in range(count)]


def batch(raw_lines: list[RawLine], source: str = AUTH_LOG) -> RawBatch:
    return RawBatch(source, "file", {"type": "syslog"}, raw_lines)


class Worker:
    """One ``crowdstream worker --id N`` process, its output appended to ``log``; with
    ``metrics`` it serves its Prometheus metrics as the config says."""

    def __init__(self, config: Path, log: Path, worker_id: int = 0, metrics: bool = False) -> None:
        self.log = log
        self.log_start = log.stat().st_size if log.exists() else 0  # this run's part of the log
        self.out = log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _MAIN, "-c", str(config), "worker", "--id", str(worker_id),
             *([] if metrics else ["--no-metrics"])],
            stdout=self.out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        """What this run of the worker logged."""
        return self.log.read_text()[self.log_start:]

    def recovery_table(self, title: str) -> dict[int, int]:
        """partition → offset of the last table Faust's recovery logged under ``title``
        ("Highwater for active changelog partitions", "active offsets at start of reading")."""
        lines = self.text().split(title)[-1].splitlines()[1:]
        rows: dict[int, int] = {}
        for line in lines:
            match = _ROW.match(line)
            if match:
                rows[int(match[1])] = int(match[2])
            elif rows:
                break
        return rows

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while "pipeline worker ready" not in self.text():
            assert self.proc.poll() is None, self.text()[-3000:]
            assert time.monotonic() < deadline, self.text()[-3000:]
            time.sleep(0.2)

    def stop(self) -> int:
        """SIGTERM, and the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.out.close()
        return code

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or committed."""
        self.proc.kill()
        self.proc.wait(30)
        self.out.close()


class Workers:
    """The workers of one test; any still running when the test ends are killed."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.started: list[Worker] = []
        request.addfinalizer(self.cleanup)

    def start(self, config: Path, log: Path, worker_id: int = 0) -> Worker:
        worker = Worker(config, log, worker_id)
        self.started.append(worker)
        return worker

    def cleanup(self) -> None:
        for worker in self.started:
            if worker.proc.poll() is None:
                worker.kill()


async def _produce(bootstrap: str, topic: str, batches: Iterable[RawBatch]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, b.encode(), key=b.source.encode()) for b in batches]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def produce(bootstrap: str, topic: str, batches: Iterable[RawBatch]) -> None:
    """Raw batches keyed by source (one source's lines stay in order in one partition)."""
    asyncio.run(_produce(bootstrap, topic, batches))


def produce_bytes(bootstrap: str, topic: str, value: bytes, key: bytes) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())


class AlertReader:
    """Reads the whole alerts topic, from the start, on each call."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.found: list[dict[str, Any]] = []

    async def _read(self, until: float, done: Callable[[], bool]) -> None:
        consumer = AIOKafkaConsumer(self.topic, bootstrap_servers=self.bootstrap,
                                    auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        self.found = []
        try:
            while time.monotonic() < until and not done():
                for messages in (await consumer.getmany(timeout_ms=300)).values():
                    for message in messages:
                        self.found.extend(AlertBatch.decode(message.value).alerts)
        finally:
            await consumer.stop()

    def read_until(self, done: Callable[[], bool], timeout: float) -> list[dict[str, Any]]:
        """Every alert, read until ``done()`` is true (or for ``timeout`` s)."""
        asyncio.run(self._read(time.monotonic() + timeout, done))
        return self.found

    def read_for(self, seconds: float) -> list[dict[str, Any]]:
        return self.read_until(lambda: False, seconds)

    def uuids(self) -> set[str]:
        return {a["uuid"] for a in self.found}


def alerts_until(bootstrap: str, topic: str, expected: int | set[str], quiet: float,
                 timeout: float = 60) -> list[dict]:
    """All alerts on the topic: wait until ``expected`` are there (a count, or a set of uuids
    that must all have been seen), then ``quiet`` s for more."""
    reader = AlertReader(bootstrap, topic)
    if isinstance(expected, int):
        reader.read_until(lambda: len(reader.found) >= expected, timeout)
    else:
        reader.read_until(lambda: expected <= reader.uuids(), timeout)
    return reader.read_for(quiet)


# -- the consumer group ---------------------------------------------------------------------

async def _assignment(bootstrap: str, group: str) -> dict[str, dict[str, list[int]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        out: dict[str, dict[str, list[int]]] = {}
        for response in await admin.describe_consumer_groups([group]):
            for described in response.groups:
                for member in described[5]:
                    if not member[-1]:  # joined, not assigned yet (a rebalance in progress)
                        out[member[0]] = {}
                        continue
                    assignment = ConsumerProtocolMemberAssignment.decode(member[-1])
                    out[member[0]] = {topic: sorted(parts) for topic, parts in assignment.assignment}
        return out
    finally:
        await admin.close()


def group_assignment(bootstrap: str, group: str) -> dict[str, dict[str, list[int]]]:
    """member id → {topic: [partitions]} of the consumer group's current generation."""
    return asyncio.run(_assignment(bootstrap, group))


def wait_split(bootstrap: str, group: str, topic: str, members: int, partitions: int,
               timeout: float = 60) -> dict[str, list[int]]:
    """Wait until ``members`` members share all ``partitions`` of ``topic``, each with some;
    member id → its partitions of ``topic``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            assignment = group_assignment(bootstrap, group)
        except KafkaError:  # the group's coordinator is not up yet
            assignment = {}
        split = {m: a.get(topic, []) for m, a in assignment.items()}
        owned = sorted(p for parts in split.values() for p in parts)
        if len(split) == members and all(split.values()) and owned == list(range(partitions)):
            return split
        assert time.monotonic() < deadline, f"group {group} never split {topic}: {split}"
        time.sleep(0.5)


# -- the reference: the pure engine, sequentially -------------------------------------------

def reference_alerts(content: Content, batches: Iterable[RawBatch]) -> list[dict[str, Any]]:
    """The alerts of ``batches`` run through ``content`` in order in one process, with no
    broker: the parse stage's routing into one partition, then each pour into its bucket
    key's states with the engine alone (no ticks, no table, no redelivery)."""
    settings = PipelineSettings(bootstrap_servers="", topics=TopicNames("reference"), partitions=1)
    states: dict[str, dict[str, dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for offset, raw in enumerate(batches):
        for _, chunk in route_batch(content, raw, settings, "r0", offset):
            for pour in chunk.pours:
                key_states = states.setdefault(pour.key, {})
                for overflow in content.pour(pour.key, pour.scenarios, pour.ts, pour.event, key_states):
                    out.extend(overflow.alerts)
    return out


def projection(alert: dict[str, Any]) -> tuple:
    """What two runs must agree on for one alert."""
    return (alert["uuid"], alert["scenario"], alert["source"]["value"], alert["start_at"],
            alert["stop_at"], alert["events_count"])
