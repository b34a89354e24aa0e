"""The alerts-topic consumer, without a broker: decoding, ingest-then-commit, retries."""
import asyncio
from dataclasses import dataclass

from aiokafka import TopicPartition
from lapi_helpers import agent_alert
from prometheus_client import REGISTRY

from lapi.consumer import AlertsConsumer, decode_alerts
from topics.records import AlertBatch

TOPIC = "crowdstream.alerts"
TP = TopicPartition(TOPIC, 0)


def bad_records() -> float:
    return REGISTRY.get_sample_value("crowdstream_lapi_bad_records_total", {"topic": TOPIC}) or 0.0


@dataclass
class Msg:
    offset: int
    value: bytes | None


class FakeConsumer:
    def __init__(self, batches, log):
        self.batches = list(batches)
        self.log = log

    async def start(self):
        self.log.append("start")

    async def stop(self):
        self.log.append("stop")

    async def getmany(self, *partitions, timeout_ms=0, max_records=None):
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(timeout_ms / 1000)
        return {}

    async def commit(self, offsets=None):
        self.log.append(("commit", dict(offsets)))

    def seek(self, partition, offset):
        self.log.append(("seek", partition, offset))


GOOD = AlertBatch([agent_alert("198.51.100.1"), agent_alert("198.51.100.2")]).encode()
MALFORMED = [
    b"\xff not json",
    b'{"v":2,"alerts":[]}',
    b'{"v":1,"alerts":[{"scenario":"s"}]}',
    b'{"v":1,"alerts":"nope"}',
    None,
]


def test_decode_skips_and_counts_malformed_messages() -> None:
    before = bad_records()
    alerts = decode_alerts([MALFORMED[0], GOOD, *MALFORMED[1:]], TOPIC)
    assert [a["source"]["value"] for a in alerts] == ["198.51.100.1", "198.51.100.2"]
    assert bad_records() == before + 5


def test_batch_is_ingested_then_committed() -> None:
    log = []

    def ingest(alerts):
        log.append(("ingest", [a["source"]["value"] for a in alerts]))

    consumer = AlertsConsumer(topic=TOPIC, bootstrap="unused:9092", group="g", ingest=ingest)
    fake = FakeConsumer([{TP: [Msg(5, MALFORMED[0]), Msg(6, GOOD)]}], log)
    assert asyncio.run(consumer.poll_once(fake)) == 2
    assert log == [("ingest", ["198.51.100.1", "198.51.100.2"]), ("commit", {TP: 7})]


def test_only_malformed_messages_are_committed_without_ingest() -> None:
    log = []
    consumer = AlertsConsumer(topic=TOPIC, bootstrap="unused:9092", group="g",
                              ingest=lambda alerts: log.append("ingest"))
    fake = FakeConsumer([{TP: [Msg(i, m) for i, m in enumerate(MALFORMED)]}], log)
    asyncio.run(consumer.poll_once(fake))
    assert log == [("commit", {TP: 5})]


def test_failed_ingest_seeks_back_and_is_retried() -> None:
    log = []
    calls = []

    def ingest(alerts):
        calls.append(len(alerts))
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        log.append("ingest")

    failures = REGISTRY.get_sample_value("crowdstream_lapi_ingest_failures_total") or 0.0
    consumer = AlertsConsumer(topic=TOPIC, bootstrap="unused:9092", group="g", ingest=ingest,
                              backoff=(0.01, 0.01))
    batch = {TP: [Msg(40, GOOD), Msg(41, GOOD)]}
    fake = FakeConsumer([batch, batch], log)
    asyncio.run(consumer.poll_once(fake))
    assert log == [("seek", TP, 40)]
    asyncio.run(consumer.poll_once(fake))
    assert log == [("seek", TP, 40), "ingest", ("commit", {TP: 42})]
    assert calls == [4, 4]
    assert REGISTRY.get_sample_value("crowdstream_lapi_ingest_failures_total") == failures + 1


def test_run_ingests_into_the_database_and_stops_cleanly(lapi) -> None:
    log = []

    async def main():
        fake = FakeConsumer([{TP: [Msg(0, MALFORMED[0])]}, {TP: [Msg(1, GOOD), Msg(2, GOOD)]}], log)
        consumer = AlertsConsumer(topic=TOPIC, bootstrap="unused:9092", group="g",
                                  ingest=lapi.ingest, poll_timeout_ms=10,
                                  consumer_factory=lambda: fake)
        await consumer.start()
        for _ in range(200):
            if ("commit", {TP: 3}) in log:
                break
            await asyncio.sleep(0.01)
        await consumer.stop()

    asyncio.run(main())
    assert log == ["start", ("commit", {TP: 1}), ("commit", {TP: 3}), "stop"]
    from lapi.decisions import DecisionFilter, Page, query_decisions
    with lapi.database.read_session() as session:
        rows = query_decisions(session, DecisionFilter(), Page(), lapi.clock())
    assert [d["value"] for d in rows] == ["198.51.100.1", "198.51.100.2"]  # redelivery: no dups


def test_connection_failures_are_retried() -> None:
    log = []
    attempts = []

    class Flaky(FakeConsumer):
        async def start(self):
            attempts.append(1)
            if len(attempts) < 3:
                raise ConnectionError("broker down")
            await super().start()

    async def main():
        consumer = AlertsConsumer(topic=TOPIC, bootstrap="unused:9092", group="g",
                                  ingest=lambda a: None, poll_timeout_ms=10, backoff=(0.01, 0.02),
                                  consumer_factory=lambda: Flaky([], log))
        await consumer.start()
        for _ in range(200):
            if "start" in log:
                break
            await asyncio.sleep(0.01)
        await consumer.stop()

    asyncio.run(main())
    assert len(attempts) == 3
    assert log == ["stop", "stop", "start", "stop"]
