"""Two `crowdstream lapi` replicas share the alerts topic on real Apache Kafka (one consumer
group, one database); one is killed with SIGKILL mid-stream and the other takes its
partitions over: every alert is stored exactly once, redelivered batches included."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.config import BASE
from tests.support.crowdsec_clients import wait_for
from tests.support.pipeline import kafka_config, produce_bytes, wait_split
from tests.support.procs import free_port
from tests.support.shared import ROOT
from topics.records import AlertBatch

pytestmark = pytest.mark.kafka

PARTITIONS = 4
BATCHES = 80
PER_BATCH = 10


def alert(n: int) -> dict:
    ip = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"replicas-test/{n}")),
        "scenario": "crowdsecurity/ssh-bf", "scenario_hash": "", "scenario_version": "0.1",
        "message": f"Ip {ip} performed 'crowdsecurity/ssh-bf'", "events_count": 6,
        "start_at": "2026-11-22T06:00:00Z", "stop_at": "2026-11-22T06:00:05Z",
        "capacity": 5, "leakspeed": "10s", "simulated": False, "remediation": True,
        "decisions": None, "labels": None, "events": [],
        "source": {"scope": "Ip", "value": ip, "ip": ip},
    }


def produce(bootstrap: str, topic: str, first: int, count: int) -> None:
    for b in range(first, first + count):
        batch = AlertBatch([alert(b * PER_BATCH + i) for i in range(PER_BATCH)])
        produce_bytes(bootstrap, topic, batch.encode(), key=f"bucket-{b}".encode())


def counts(db: Path) -> tuple[int, int, int]:
    """(alerts, distinct alert uuids, decisions) in the shared database."""
    with sqlite3.connect(db) as connection:
        alerts, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT uuid) FROM alerts").fetchone()
        (decisions,) = connection.execute("SELECT count(*) FROM decisions").fetchone()
    return alerts, distinct, decisions


class Replica:
    def __init__(self, directory: Path, name: str, sections: str) -> None:
        config = directory / f"{name}.yaml"
        config.write_text(BASE.format(dir=directory) + sections + f"""
api:
  server:
    listen_uri: 127.0.0.1:{free_port()}
prometheus:
  enabled: false
""")
        self.log = directory / f"{name}.log"
        with self.log.open("wb") as output:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "crowdstream", "-c", str(config), "lapi"],
                stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)

    def ready(self) -> bool:
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        return "lapi ready" in self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def replicas(tmp_path: Path, kafka_broker) -> Iterator[tuple[str, str, list[Replica]]]:
    prefix = f"lapireplicas{uuid.uuid4().hex[:8]}"
    (tmp_path / "data").mkdir()
    sections = kafka_config(kafka_broker.bootstrap_servers, prefix, partitions=PARTITIONS)
    started = [Replica(tmp_path, f"lapi-{n}", sections) for n in range(2)]
    try:
        for replica in started:
            wait_for(replica.ready, "a LAPI replica to start", timeout=60)
        yield kafka_broker.bootstrap_servers, prefix, started
    finally:
        for replica in started:
            replica.stop()


def test_replicas_share_the_topic_and_survive_a_kill(replicas, tmp_path: Path) -> None:
    bootstrap, prefix, (first, second) = replicas
    topic = f"{prefix}.alerts"
    db = tmp_path / "data" / "crowdstream.db"
    split = wait_split(bootstrap, f"{prefix}-lapi", topic, members=2, partitions=PARTITIONS)
    assert sorted(len(parts) for parts in split.values()) == [2, 2]

    produce(bootstrap, topic, 0, BATCHES // 2)
    wait_for(lambda: counts(db)[0] >= BATCHES // 4 * PER_BATCH, "alerts to be stored", 60)
    second.proc.kill()  # SIGKILL: no offset commit, no leaving the group
    second.proc.wait()
    produce(bootstrap, topic, BATCHES // 2, BATCHES // 2)
    # the batches the dead replica had stored but not committed come again: stored once
    produce(bootstrap, topic, 0, 5)

    total = BATCHES * PER_BATCH
    wait_for(lambda: counts(db)[0] >= total, "every alert to be stored", timeout=90)
    time.sleep(3)  # let redelivered batches land, if they were to duplicate
    assert counts(db) == (total, total, total)
    assert first.proc.poll() is None
