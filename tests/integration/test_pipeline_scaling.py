"""The pipeline scales out and survives a crash without changing its output.

The alerts of a replay are a pure function of the input: one worker, two workers splitting the
partitions, and a second worker joining mid-replay and then killed with SIGKILL all give
exactly the alerts of the engine run sequentially with no broker (the reference). And a RocksDB store
on a persistent data dir restarts without replaying its changelog, its state intact.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from crowdstream.components import load_content
from crowdstream.config import load_config
from tests.support.config import write_config
from tests.support.pipeline import (RECOVERED, RESTORING, AlertReader, Worker, Workers,
                                    alerts_until, batch, failed_auth, kafka_config, lines,
                                    produce, projection, reference_alerts, wait_split)
from topics.records import RawBatch, RawLine

pytestmark = pytest.mark.kafka

PARTITIONS = 4
SCENARIO = "crowdstream/ssh-bf"


def attacker(i: int) -> str:
    return f"10.{i // 250}.{i % 250}.{1 + i % 7}"


def attack(i: int, start: int) -> list[tuple[int, RawLine]]:
    """The failed logins of attacker ``i`` from second ``start``, by one of five patterns
    against the 5-event, 10 s leak, 1 min blackhole ssh-bf bucket."""
    ip = attacker(i)
    kind = i % 5
    if kind == 0:  # 4 quick failures: no overflow
        seconds = [start + k for k in range(4)]
    elif kind == 1:  # 8 quick failures: one overflow, the last 2 blackholed
        seconds = [start + k for k in range(8)]
    elif kind == 2:  # 7 quick, then 7 quick again 90 s later, after the blackhole: two overflows
        seconds = [start + k for k in range(7)] + [start + 90 + k for k in range(7)]
    elif kind == 3:  # 12 slow failures, one every 11 s: the bucket leaks faster, no overflow
        seconds = [start + 11 * k for k in range(12)]
    else:  # 5 quick, 30 s pause (3 tokens back), 5 quick: overflows on the 4th of the second burst
        seconds = [start + k for k in range(5)] + [start + 30 + k for k in range(5)]
    return [(s, failed_auth(ip, s, "root", 40 + n)) for n, s in enumerate(seconds)]


def replay(attackers: int, sources: int, per_message: int) -> list[RawBatch]:
    """Each attacker in one of ``sources`` auth logs (by index); each log's lines in time
    order, in raw messages of ``per_message`` lines (one log's messages interleaved with the
    others' in round robin)."""
    per_source: list[list[tuple[int, int, RawLine]]] = [[] for _ in range(sources)]
    for i in range(attackers):
        start = (i * 37) % 2400
        per_source[i % sources].extend((s, i, line) for s, line in attack(i, start))
    chunks = []
    for n, entries in enumerate(per_source):
        ordered = [line for _, _, line in sorted(entries, key=lambda e: (e[0], e[1]))]
        chunks.append([batch(ordered[k : k + per_message], f"/var/log/auth-{n}.log")
                       for k in range(0, len(ordered), per_message)])
    out = []
    for k in range(max(len(c) for c in chunks)):
        out.extend(c[k] for c in chunks if k < len(c))
    return out


def reference(config: Path, batches: list[RawBatch]) -> dict[str, tuple]:
    """uuid → projection of the alerts of the engine run sequentially (no broker)."""
    alerts = [projection(a) for a in reference_alerts(load_content(load_config(config)), batches)]
    by_uuid = {p[0]: p for p in alerts}
    assert len(by_uuid) == len(alerts)
    return by_uuid


def two_workers(workers: Workers, tmp_path: Path, config: Path, bootstrap: str,
                prefix: str) -> tuple[Worker, Worker, dict[str, list[int]]]:
    """Two workers, ready, that share the pours partitions (each has some)."""
    a = workers.start(config, tmp_path / "worker-1.log", 1)
    b = workers.start(config, tmp_path / "worker-2.log", 2)
    a.wait_ready()
    b.wait_ready()
    split = wait_split(bootstrap, f"{prefix}-pipeline", f"{prefix}.pours", 2, PARTITIONS)
    return a, b, split


def differences(alerts: list[dict], expected: dict[str, tuple]) -> str:
    """How the alerts read differ from the reference, for an assertion message."""
    seen = {x["uuid"] for x in alerts}
    extra = sorted({projection(x)[2:] for x in alerts if x["uuid"] not in expected})
    missing = sorted(expected[u][2:] for u in set(expected) - seen)
    return (f"{len(alerts)} alerts on the topic ({len(seen)} uuids) for {len(expected)} "
            f"expected; {len(missing)} missing: {missing[:20]}; "
            f"{len(extra)} not in the reference: {extra[:20]}")


def test_one_and_two_workers_give_the_reference_alerts(kafka_broker, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    bootstrap, workers = kafka_broker.bootstrap_servers, Workers(request)
    batches = replay(attackers=400, sources=4, per_message=100)
    assert (len(batches), sum(len(b.lines) for b in batches)) == (40, 3840)

    one = tmp_path / "one"
    one.mkdir()
    config = write_config(one, kafka_config(bootstrap, "scale1", PARTITIONS))
    expected = reference(config, batches)
    # 80 overflow once, 80 twice, 80 on their second burst; 160 never
    assert len(expected) == 320
    assert Counter(Counter(p[2] for p in expected.values()).values()) == {1: 160, 2: 80}
    assert {p[1] for p in expected.values()} == {SCENARIO}

    worker = workers.start(config, one / "worker.log")
    worker.wait_ready()
    produce(bootstrap, "scale1.raw", batches)
    alerts = alerts_until(bootstrap, "scale1.alerts", set(expected), quiet=3)
    assert worker.stop() == 0
    assert {projection(x) for x in alerts} == set(expected.values()), differences(alerts, expected)
    assert len(alerts) == len(expected)  # no duplicate

    two = tmp_path / "two"
    two.mkdir()
    config = write_config(two, kafka_config(bootstrap, "scale2", PARTITIONS))
    a, b, split = two_workers(workers, two, config, bootstrap, "scale2")
    produce(bootstrap, "scale2.raw", batches)
    alerts = alerts_until(bootstrap, "scale2.alerts", set(expected), quiet=3)
    # the two still shared the partitions at the end: no rebalance moved them to one worker
    assert wait_split(bootstrap, "scale2-pipeline", "scale2.pours", 2, PARTITIONS) == split
    assert a.stop() == 0
    assert b.stop() == 0
    assert {projection(x) for x in alerts} == set(expected.values()), differences(alerts, expected)
    assert len(alerts) == len(expected)


def test_worker_joining_mid_replay_then_killed_loses_no_alert(
        kafka_broker, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Worker b joins while a is busy with a replay none of whose offsets are committed yet
    (Faust used to drop the records a had fetched and never fetch them again), then b is
    killed with SIGKILL and a takes its partitions back."""
    bootstrap, prefix, workers = kafka_broker.bootstrap_servers, "crash", Workers(request)
    batches = replay(attackers=1500, sources=8, per_message=20)
    assert (len(batches), sum(len(b.lines) for b in batches)) == (723, 14400)
    config = write_config(tmp_path, kafka_config(bootstrap, prefix, PARTITIONS))
    expected = reference(config, batches)
    assert len(expected) == 1200

    a = workers.start(config, tmp_path / "worker-1.log", 1)
    a.wait_ready()
    produce(bootstrap, f"{prefix}.raw", batches)
    reader = AlertReader(bootstrap, f"{prefix}.alerts")
    reader.read_until(lambda: len(reader.uuids()) >= 1, timeout=60)
    b = workers.start(config, tmp_path / "worker-2.log", 2)
    b.wait_ready()
    wait_split(bootstrap, f"{prefix}-pipeline", f"{prefix}.pours", 2, PARTITIONS)
    seen_at_join = len(reader.uuids())
    reader.read_until(lambda: len(reader.uuids()) >= seen_at_join + len(expected) // 10,
                      timeout=60)
    b.kill()
    seen_at_kill = len(reader.uuids())
    assert seen_at_kill < len(expected), "kill was not mid-replay"

    alerts = alerts_until(bootstrap, f"{prefix}.alerts", set(expected), quiet=5, timeout=180)
    assert a.stop() == 0
    # duplicates are allowed (at-least-once delivery), but the same uuids: none lost, none extra
    assert {x["uuid"] for x in alerts} == set(expected), (
        f"joined after {seen_at_join}, killed after {seen_at_kill} alerts: "
        f"{differences(alerts, expected)}")
    # a redelivered alert is the same alert
    assert {projection(x) for x in alerts} == set(expected.values())
    # the survivor took the killed worker's partitions over: it restored their table rows
    assert RESTORING in a.text()


def changelog_records(bootstrap: str, topic: str) -> dict[int, int]:
    """partition → how many records the changelog topic holds (its end offset)."""

    async def count() -> dict[int, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            return {tp.partition: n for tp, n in (await consumer.end_offsets(parts)).items()}
        finally:
            await consumer.stop()

    return asyncio.run(count())


def test_rocksdb_store_restarts_without_replay(kafka_broker, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    bootstrap, prefix, ip = kafka_broker.bootstrap_servers, "rocks", "203.0.113.77"
    config = write_config(tmp_path, kafka_config(bootstrap, prefix, PARTITIONS, store="rocksdb://"))
    log, workers = tmp_path / "worker.log", Workers(request)
    worker = workers.start(config, log)
    worker.wait_ready()
    # wave 1: an overflow, then the key is blackholed for 1 min; 40 other addresses with 3
    # failures each give every partition some rows
    others = [failed_auth(f"198.51.100.{n}", 1, "bob") for n in range(40) for _ in range(3)]
    produce(bootstrap, f"{prefix}.raw", [batch(lines(ip, 0, 6) + others)])
    first = alerts_until(bootstrap, f"{prefix}.alerts", 1, quiet=2)
    assert [(a["source"]["value"], a["start_at"], a["events_count"]) for a in first] == [
        (ip, "2026-11-22T06:00:00Z", 6)]
    assert worker.stop() == 0
    changelog = changelog_records(bootstrap, f"{prefix}-pipeline-buckets-changelog")
    assert len(changelog) == PARTITIONS and all(changelog.values())

    worker = workers.start(config, log)
    worker.wait_ready()
    # the store kept its rows and the changelog offsets it had applied: recovery reads nothing
    highwaters = worker.recovery_table("Highwater for active changelog partitions")
    starts = worker.recovery_table("active offsets at start of reading")
    assert highwaters == {p: n - 1 for p, n in changelog.items()}  # Faust logs the last offset
    assert starts == highwaters
    assert RECOVERED in worker.text()
    assert RESTORING not in worker.text()
    # wave 2, 20 s later: blackholed, no alert; wave 3, 3 min later: a second alert
    produce(bootstrap, f"{prefix}.raw", [batch(lines(ip, 20, 6)), batch(lines(ip, 180, 6))])
    alerts = alerts_until(bootstrap, f"{prefix}.alerts", 2, quiet=3)
    assert worker.stop() == 0
    assert sorted((a["source"]["value"], a["start_at"], a["events_count"]) for a in alerts) == [
        (ip, "2026-11-22T06:00:00Z", 6), (ip, "2026-11-22T06:03:00Z", 6)]
