"""Fixtures giving tests a real Apache Kafka: ``kafka_broker`` (1 node) and ``kafka_cluster3``.

Both are session scoped and started lazily: only a session that runs a test asking for one
starts its JVM(s), and they are stopped when the session ends. See tests/support/kafka.py
and deploy/kafka/kafka-local.sh.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
import shutil
from pathlib import Path

import pytest

from tests.support.kafka import KafkaCluster, java_available


def _require_java() -> None:
    """Skip (or fail, with CROWDSTREAM_REQUIRE_KAFKA=1) when Kafka cannot run here."""
    reason = None
    if not java_available():
        reason = "real Kafka tests need a Java runtime (java on PATH or JAVA_HOME)"
    elif shutil.which("mvn") is None:
        # Without Maven the jars can only come from an already cached classpath.
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crowdstream"
        if not any(cache.glob("kafka-*.classpath")):
            reason = "real Kafka tests need Maven once to fetch the Kafka jars"
    if reason:
        if os.environ.get("CROWDSTREAM_REQUIRE_KAFKA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _cluster(tmp_path_factory: pytest.TempPathFactory, nodes: int) -> Iterator[KafkaCluster]:
    _require_java()
    cluster = KafkaCluster(nodes=nodes, workdir=tmp_path_factory.mktemp(f"kafka{nodes}"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A single-node Kafka (broker+controller) on 127.0.0.1, for the whole session."""
    yield from _cluster(tmp_path_factory, 1)


@pytest.fixture(scope="session")
def kafka_cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A 3-node Kafka cluster (each node broker+controller) on 127.0.0.1, for the whole session."""
    yield from _cluster(tmp_path_factory, 3)
