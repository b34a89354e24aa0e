"""The real Kafka brokers used by the integration tests behave like Kafka, for aiokafka.

Single node: keyed partitioning, consumer groups and committed offsets.
Three nodes: replicated topic, acks=all, a node killed with SIGKILL, nothing lost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import murmur2


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def _create_topic(
    bootstrap: str, name: str, partitions: int, replication: int, configs: dict | None = None
) -> None:
    """Create a topic and wait until every partition has a leader and a full ISR."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        resp = await admin.create_topics(
            [NewTopic(name, partitions, replication, topic_configs=configs or {})]
        )
        errors = [t for t in resp.topic_errors if t[1] != 0]
        assert not errors, f"create_topics failed: {errors}"
        await _wait_partitions(admin, name, partitions, replication, timeout=30)
    finally:
        await admin.close()


async def _wait_partitions(
    admin: AIOKafkaAdminClient, topic: str, partitions: int, isr: int, timeout: float
) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        (meta,) = await admin.describe_topics([topic])
        parts = meta["partitions"]
        if (
            meta["error_code"] == 0
            and len(parts) == partitions
            and all(p["leader"] >= 0 and len(p["isr"]) == isr for p in parts)
        ):
            return parts
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {topic} not healthy after {timeout}s: {meta}")
        await asyncio.sleep(0.2)


async def _describe(bootstrap: str, topic: str) -> list[dict]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (meta,) = await admin.describe_topics([topic])
        return sorted(meta["partitions"], key=lambda p: p["partition"])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, items: list[tuple[bytes | None, bytes]], **kwargs):
    """Send every (key, value) and wait for all acknowledgements; returns the RecordMetadata list."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, **kwargs)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value, key=key) for key, value in items]
        return await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, group: str, expected: int, timeout: float = 60.0):
    """Consume with a consumer group until `expected` records arrived (plus a short grace period
    to catch duplicates), commit, and return the records."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                records.extend(msgs)
        batch = await consumer.getmany(timeout_ms=300)  # anything beyond `expected` is a bug
        for msgs in batch.values():
            records.extend(msgs)
        await consumer.commit()
    finally:
        await consumer.stop()
    return records


async def _committed(bootstrap: str, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp.partition: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


@pytest.mark.kafka
def test_single_node_keyed_partitioning_and_consumer_group(kafka_broker):
    bootstrap = kafka_broker.bootstrap_servers
    topic, group = _unique("keyed"), _unique("group")
    partitions = 4
    keys = [f"source-ip-{k}".encode() for k in range(13)]
    items = [(keys[i % len(keys)], f"event-{i}".encode()) for i in range(100)]

    async def scenario():
        await _create_topic(bootstrap, topic, partitions, 1)
        sent = await _produce(bootstrap, topic, items, acks="all")
        records = await _consume(bootstrap, topic, group, expected=len(items))
        committed = await _committed(bootstrap, group)
        return sent, records, committed

    sent, records, committed = asyncio.run(scenario())

    # Producer side: Kafka's murmur2 key partitioning, every message acknowledged.
    sent_partition = {}
    for (key, value), md in zip(items, sent):
        assert md.partition == (murmur2(key) & 0x7FFFFFFF) % partitions
        sent_partition[value] = md.partition
    sent_counts = Counter(sent_partition.values())
    assert sum(sent_counts.values()) == 100
    assert len(sent_counts) > 1, "13 keys over 4 partitions should use more than one partition"

    # Consumer side: exactly the produced records, each where the producer put it.
    assert len(records) == 100
    assert sorted(r.value for r in records) == sorted(v for _, v in items)
    consumed_counts = Counter(r.partition for r in records)
    assert consumed_counts == sent_counts
    key_partitions = defaultdict(set)
    for r in records:
        assert r.partition == sent_partition[r.value]
        key_partitions[r.key].add(r.partition)
    assert set(key_partitions) == set(keys)
    assert all(len(p) == 1 for p in key_partitions.values()), key_partitions

    # Per partition, offsets are 0..n-1 in order and the group committed exactly n.
    by_partition = defaultdict(list)
    for r in records:
        by_partition[r.partition].append(r.offset)
    for p, offsets in by_partition.items():
        assert offsets == list(range(sent_counts[p]))
    assert {p: o for p, o in committed.items() if o > 0} == dict(sent_counts)


@pytest.mark.kafka3
def test_three_nodes_survive_kill9_of_a_partition_leader(kafka_cluster3):
    cluster = kafka_cluster3
    bootstrap = cluster.bootstrap_servers
    topic = _unique("replicated")
    partitions = 3
    producer_opts = dict(acks="all", enable_idempotence=True, request_timeout_ms=30000)

    before = [(f"k{i % 7}".encode(), f"before-{i}".encode()) for i in range(60)]
    after = [(f"k{i % 7}".encode(), f"after-{i}".encode()) for i in range(60)]

    async def phase1():
        await _create_topic(bootstrap, topic, partitions, 3, {"min.insync.replicas": "2"})
        await _produce(bootstrap, topic, before, **producer_opts)
        parts = await _describe(bootstrap, topic)
        return parts[0]["leader"]

    victim = asyncio.run(phase1())
    assert 0 <= victim < 3

    cluster.kill_node(victim)
    try:
        assert not cluster.is_running(victim)

        async def phase2():
            t0 = time.monotonic()
            await _produce(bootstrap, topic, after, **producer_opts)
            failover = time.monotonic() - t0
            records = await _consume(bootstrap, topic, _unique("g-after-kill"), len(before) + len(after))
            return failover, records, await _describe(bootstrap, topic)

        failover, records, parts = asyncio.run(phase2())
        print(f"produce across the kill -9 of node {victim} took {failover:.1f}s")
        values = [r.value for r in records]
        assert len(values) == len(set(values)), "duplicates"
        assert set(values) == {v for _, v in before + after}
        # The dead node leads nothing and fell out of every ISR.
        for p in parts:
            assert p["leader"] != victim and p["leader"] >= 0, parts
            assert victim not in p["isr"], parts
    finally:
        cluster.restart_node(victim)

    async def phase3():
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await _wait_partitions(admin, topic, partitions, isr=3, timeout=60)
        finally:
            await admin.close()
        return await _consume(bootstrap, topic, _unique("g-after-restart"), len(before) + len(after))

    records = asyncio.run(phase3())
    assert sorted(r.value for r in records) == sorted(v for _, v in before + after)
    assert cluster.is_running(victim)


@pytest.mark.kafka3
def test_kafka_cluster3_helpers(kafka_cluster3):
    """bootstrap_servers lists every node; all nodes are up (also after the kill test)."""
    servers = kafka_cluster3.bootstrap_servers.split(",")
    assert len(servers) == 3 and all(s.startswith("127.0.0.1:") for s in servers)
    assert all(kafka_cluster3.is_running(i) for i in range(3))
    kafka_cluster3.wait_ready(timeout=30)
