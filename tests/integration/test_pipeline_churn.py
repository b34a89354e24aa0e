"""Attacker-IP churn on real Kafka: 1,000,000 distinct source IPs pour into a leaky scenario;
the worker collects idle buckets, so its memory and its table stay bounded.

The pours go straight onto the pours topic (the parse stage is stateless and not what is
measured). Each IP fails once; 100 IPs per second of event time, so about 6,000 buckets
(lifetime (capacity+1)·leakspeed = 60 s) are alive at any moment."""
from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from engine.gotime import GoTime
from tests.support.config import write_config
from tests.support.pipeline import INGEST, Worker, kafka_config
from tests.support.procs import free_port
from topics.keys import partition_for
from topics.records import Origin, Pour, PourBatch

pytestmark = pytest.mark.kafka

IPS = 1_000_000
PER_SECOND = 100
PARTITIONS = 4
PER_MESSAGE = 500
SCENARIO = "crowdstream/ssh-bf"


def ip_of(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def pour_messages() -> list[tuple[int, bytes]]:
    """(partition, PourBatch bytes): IP n fails once at INGEST + n / PER_SECOND."""
    pending: dict[int, list[Pour]] = {p: [] for p in range(PARTITIONS)}
    out: list[tuple[int, bytes]] = []
    for n in range(IPS):
        ip, ts = ip_of(n), INGEST + n / PER_SECOND
        event = {"time": GoTime.from_unix(ts).marshal_text(),
                 "meta": {"source_ip": ip, "log_type": "ssh_failed-auth"}}
        partition = partition_for(ip, PARTITIONS)
        batch = pending[partition]
        batch.append(Pour(ip, [SCENARIO], ts, event, Origin("r0", n, 0)))
        if len(batch) == PER_MESSAGE:
            out.append((partition, PourBatch(batch).encode()))
            pending[partition] = []
    out.extend((p, PourBatch(b).encode()) for p, b in pending.items() if b)
    return out


async def produce(bootstrap: str, topic: str, messages: list[tuple[int, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_request_size=4 << 20)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, partition=p) for p, value in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def lag(bootstrap: str, group: str, topic: str) -> int:
    """Messages of ``topic`` the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
              or line.startswith(name + "{")]
    return sum(values)


def test_a_million_ips_keep_memory_and_table_bounded(kafka_broker, tmp_path: Path) -> None:
    bootstrap, prefix, port = kafka_broker.bootstrap_servers, "churn", free_port()
    config = write_config(tmp_path, kafka_config(bootstrap, prefix, PARTITIONS, extra=f"""\
  tick_interval: 0.5
prometheus:
  enabled: true
  listen_addr: 127.0.0.1
  listen_port: {port}
"""))
    messages = pour_messages()
    worker = Worker(config, tmp_path / "worker.log", metrics=True)
    worker.wait_ready()
    started = time.monotonic()
    asyncio.run(produce(bootstrap, f"{prefix}.pours", messages))
    process = psutil.Process(worker.proc.pid)
    samples: list[tuple[float, int]] = []  # (fraction consumed, rss)
    total = len(messages)
    while True:
        remaining = asyncio.run(lag(bootstrap, f"{prefix}-pipeline", f"{prefix}.pours"))
        samples.append((1 - remaining / total, process.memory_info().rss))
        if remaining <= 0:
            break
        assert time.monotonic() - started < 600, samples[-1]
        time.sleep(1)
    elapsed = time.monotonic() - started
    time.sleep(2)  # a few more ticks
    keys = metric(port, "crowdstream_bucket_keys")
    collected = metric(port, "crowdstream_bucket_keys_collected_total")
    peak = max(rss for _, rss in samples)
    early = max(rss for fraction, rss in samples if fraction <= 0.2)
    print(f"\nchurn: {IPS} IPs in {elapsed:.1f} s ({IPS / elapsed:,.0f} pours/s); "
          f"RSS after 20%: {early / 2**20:.0f} MiB, peak: {peak / 2**20:.0f} MiB; "
          f"keys left {keys:.0f}, collected {collected:.0f}")
    assert worker.stop() == 0
    # the live window is ~6,000 keys (60 s × 100/s) plus what arrived since the last tick
    assert keys <= 12_000
    assert collected >= IPS - 12_000
    # without collection the table alone would hold a million rows (hundreds of MiB)
    assert peak - early < 64 * 2**20
