"""Ships acquired lines to the raw topic: one Kafka message per poll of a file (a batch of
lines), keyed by the file path so a file's lines stay in order on one partition."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter

from crowdstream.acquisition.filetail import FileTail
from crowdstream.acquisition.spec import FileSourceSpec
from topics.records import RawBatch, RawLine

log = logging.getLogger("crowdstream.ship")

FILE_HITS = Counter("cs_filesource_hits_total", "Lines read from files", ["source"])


class Shipper:
    """Tails every datasource and sends its lines to ``topic``."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, max_lines: int = 500,
                 clock: Callable[[], float] = time.time) -> None:
        self.producer = producer
        self.topic = topic
        self.max_lines = max_lines
        self.clock = clock

    async def send(self, spec: FileSourceSpec, path: str, lines: list[str]) -> None:
        now = self.clock()
        FILE_HITS.labels(path).inc(len(lines))
        for i in range(0, len(lines), self.max_lines):
            batch = RawBatch(path, "file", spec.labels,
                             [RawLine(line, now) for line in lines[i : i + self.max_lines]])
            await self.producer.send(self.topic, batch.encode(), key=path.encode())

    async def follow(self, spec: FileSourceSpec, poll_interval: float) -> None:
        async for path, lines in FileTail(spec, poll_interval).lines():
            await self.send(spec, path, lines)
        await self.producer.flush()

    async def run(self, specs: Sequence[FileSourceSpec], poll_interval: float = 0.2) -> None:
        """Runs until cancelled (or until every ``cat`` source is read)."""
        for spec in specs:
            log.info("acquiring %s (type %s, %s)", ", ".join(spec.globs), spec.labels["type"], spec.mode)
        await asyncio.gather(*(self.follow(spec, poll_interval) for spec in specs))
