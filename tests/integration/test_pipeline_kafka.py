"""The pipeline on real Apache Kafka: a `crowdstream worker` process turns raw batches into
exactly one alert per attack, and its bucket table survives a restart (changelog recovery):
a blackholed key stays blackholed after the worker comes back."""
from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.support.config import write_config
from topics.records import AlertBatch, RawBatch, RawLine

pytestmark = pytest.mark.kafka

ATTACKER, OTHER = "203.0.113.7", "198.51.100.9"
# 2026-11-22 06:00:00 UTC, the ingest time that gives syslog lines their year
INGEST = 1795327200.0


def lines(ip: str, start_second: int, count: int, user: str = "root") -> list[RawLine]:
    out = []
    for i in range(count):
        minute, second = divmod(start_second + i, 60)
        stamp = f"Nov 22 06:{minute:02d}:{second:02d}"
        out.append(RawLine(f"{stamp} web-01 sshd[7]: Failed password for {user} from {ip} port 4{i} ssh2",
                           INGEST))
    return out


class Worker:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.out = log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crowdstream", "-c", str(config), "worker", "--no-metrics"],
            stdout=self.out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while "pipeline worker ready" not in self.log.read_text():
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.2)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.out.close()
        return code


async def produce(bootstrap: str, topic: str, batches: list[RawBatch]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for batch in batches:
            await producer.send_and_wait(topic, batch.encode(), key=batch.source.encode())
    finally:
        await producer.stop()


async def alerts_until(bootstrap: str, topic: str, expected: int, quiet: float) -> list[dict]:
    """All alerts on the topic: wait until ``expected`` are there, then ``quiet`` s for more."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=None)
    await consumer.start()
    found: list[dict] = []
    try:
        deadline = time.monotonic() + 60
        settle: float | None = None
        while time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=300)).values():
                for message in messages:
                    found.extend(AlertBatch.decode(message.value).alerts)
            if len(found) >= expected:
                settle = settle or time.monotonic() + quiet
                if time.monotonic() >= settle:
                    break
    finally:
        await consumer.stop()
    return found


def batch(raw_lines: list[RawLine]) -> RawBatch:
    return RawBatch("/var/log/auth.log", "file", {"type": "syslog"}, raw_lines)


def test_worker_alerts_once_and_recovers_bucket_state(kafka_broker, tmp_path: Path) -> None:
    bootstrap, prefix = kafka_broker.bootstrap_servers, "pipe1"
    config = write_config(tmp_path, f"""
kafka:
  embedded: false
  bootstrap_servers: {bootstrap}
  topic_prefix: {prefix}
  partitions: 4
pipeline:
  store: memory://
""")
    worker = Worker(config, tmp_path / "worker.log")
    worker.wait_ready()
    # wave 1: 6 failures from the attacker (overflow), 3 from another ip (no overflow),
    # and a malformed message that must be skipped without stopping the worker
    asyncio.run(produce(bootstrap, f"{prefix}.raw", [batch(lines(ATTACKER, 0, 6) + lines(OTHER, 0, 3, "bob"))]))
    asyncio.run(produce_raw_garbage(bootstrap, f"{prefix}.raw"))
    first = asyncio.run(alerts_until(bootstrap, f"{prefix}.alerts", 1, quiet=3))
    assert [(a["scenario"], a["source"]["value"], a["events_count"]) for a in first] == [
        ("crowdstream/ssh-bf", ATTACKER, 6)]
    assert first[0]["start_at"] == "2026-11-22T06:00:00Z"
    assert first[0]["stop_at"] == "2026-11-22T06:00:05Z"
    assert f"skipped a malformed message on {prefix}.raw" in (tmp_path / "worker.log").read_text()

    assert worker.stop() == 0
    worker = Worker(config, tmp_path / "worker.log")
    worker.wait_ready()
    # wave 2, 20 s later: a new bucket overflows but the key is blackholed (1m) — only a
    # worker that recovered its table from the changelog knows that
    # wave 3, 3 minutes later: the blackhole has expired, a second alert
    asyncio.run(produce(bootstrap, f"{prefix}.raw", [batch(lines(ATTACKER, 20, 6)), batch(lines(ATTACKER, 180, 6))]))
    alerts = asyncio.run(alerts_until(bootstrap, f"{prefix}.alerts", 2, quiet=3))
    assert worker.stop() == 0
    assert [(a["source"]["value"], a["start_at"]) for a in alerts] == [
        (ATTACKER, "2026-11-22T06:00:00Z"), (ATTACKER, "2026-11-22T06:03:00Z")]
    assert len({a["uuid"] for a in alerts}) == 2


async def produce_raw_garbage(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"\x00 not a record", key=b"/var/log/auth.log")
    finally:
        await producer.stop()
