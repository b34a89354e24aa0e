"""The pipeline on real Apache Kafka: a `crowdstream worker` process turns raw batches into
exactly one alert per attack, and its bucket table survives a restart (changelog recovery):
a blackholed key stays blackholed after the worker comes back."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config import write_config
from tests.support.pipeline import (RESTORING, Workers, alerts_until, batch, kafka_config, lines,
                                    produce, produce_bytes)

pytestmark = pytest.mark.kafka

ATTACKER, OTHER = "203.0.113.7", "198.51.100.9"


def test_worker_alerts_once_and_recovers_bucket_state(kafka_broker, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    bootstrap, prefix = kafka_broker.bootstrap_servers, "pipe1"
    config = write_config(tmp_path, kafka_config(bootstrap, prefix))
    workers = Workers(request)
    worker = workers.start(config, tmp_path / "worker.log")
    worker.wait_ready()
    # wave 1: 6 failures from the attacker (overflow), 3 from another ip (no overflow),
    # and a malformed message that must be skipped without stopping the worker
    produce(bootstrap, f"{prefix}.raw", [batch(lines(ATTACKER, 0, 6) + lines(OTHER, 0, 3, "bob"))])
    produce_bytes(bootstrap, f"{prefix}.raw", b"\x00 not a record", key=b"/var/log/auth.log")
    first = alerts_until(bootstrap, f"{prefix}.alerts", 1, quiet=3)
    assert [(a["scenario"], a["source"]["value"], a["events_count"]) for a in first] == [
        ("crowdstream/ssh-bf", ATTACKER, 6)]
    assert first[0]["start_at"] == "2026-11-22T06:00:00Z"
    assert first[0]["stop_at"] == "2026-11-22T06:00:05Z"
    assert f"skipped a malformed message on {prefix}.raw" in worker.text()

    assert worker.stop() == 0
    worker = workers.start(config, tmp_path / "worker.log")
    worker.wait_ready()
    # a memory store starts empty: the restarted worker rebuilt its table from the changelog
    assert RESTORING in worker.text()
    # wave 2, 20 s later: a new bucket overflows but the key is blackholed (1m) — only a
    # worker that recovered its table from the changelog knows that
    # wave 3, 3 minutes later: the blackhole has expired, a second alert
    produce(bootstrap, f"{prefix}.raw", [batch(lines(ATTACKER, 20, 6)), batch(lines(ATTACKER, 180, 6))])
    alerts = alerts_until(bootstrap, f"{prefix}.alerts", 2, quiet=3)
    assert worker.stop() == 0
    assert sorted((a["source"]["value"], a["start_at"]) for a in alerts) == [
        (ATTACKER, "2026-11-22T06:00:00Z"), (ATTACKER, "2026-11-22T06:03:00Z")]
    assert len({a["uuid"] for a in alerts}) == 2
