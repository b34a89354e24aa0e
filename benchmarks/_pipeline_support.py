"""Pieces of bench_pipeline.py: hub content assembled into a crowdstream config, raw batches
sharded over sources, the consumer group's progress, and CPU/RSS sampling of processes."""
from __future__ import annotations

import asyncio
import re
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from engine.hub import Hub
from topics.names import TopicNames
from topics.records import AlertBatch, RawBatch, RawLine

_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


# -- content and config -----------------------------------------------------------------------

def collection_members(hub: Hub, collections: Iterable[str]) -> tuple[list[str], list[str]]:
    """(parser paths, scenario paths), relative to the hub root, that ``collections`` list
    directly (nested collections are not followed)."""
    parsers: list[str] = []
    scenarios: list[str] = []
    for name in collections:
        item = hub.item("collections", name)
        if item is None:
            raise SystemExit(f"collection {name} is not in the hub index")
        doc = yaml.safe_load(item.file.read_text()) or {}
        for kind, out in (("parsers", parsers), ("scenarios", scenarios)):
            for member in doc.get(kind) or []:
                entry = hub.item(kind, member)
                if entry is None or not entry.exists:
                    raise SystemExit(f"{name}: {kind[:-1]} {member} is missing from the hub")
                out.append(entry.path)
    return parsers, scenarios


def assemble_config_dir(hub: Hub, config_dir: Path, items: Iterable[str]) -> None:
    """``config_dir/parsers/<stage>/…`` and ``config_dir/scenarios/…``: symlinks to hub files
    (paths relative to the hub root, as the index spells them)."""
    for rel in dict.fromkeys(items):
        link = config_dir / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(hub.root / rel)
    for sub in ("parsers", "scenarios"):
        (config_dir / sub).mkdir(parents=True, exist_ok=True)


def write_config(path: Path, *, hub: Hub, config_dir: Path, work: Path, bootstrap: str,
                 prefix: str, partitions: int, store: str, live: bool) -> Path:
    """A crowdstream config.yaml. ``live`` keeps the default watermark (wall clock); a replay
    of past timestamps runs on event time only (``watermark_lag: null``)."""
    pipeline: dict = {"store": store, "data_dir": str(work / "pipeline")}
    if not live:
        pipeline["watermark_lag"] = None
    doc = {
        "config_paths": {"config_dir": str(config_dir), "data_dir": str(hub.data),
                         "pattern_dir": str(hub.patterns)},
        "db_config": {"type": "sqlite", "db_path": str(work / "crowdstream.db")},
        "kafka": {"embedded": False, "bootstrap_servers": bootstrap, "topic_prefix": prefix,
                  "partitions": partitions},
        "pipeline": pipeline,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def group_id(prefix: str) -> str:
    """The Faust app id, i.e. the consumer group (PipelineSettings.app_id)."""
    return f"{prefix}-pipeline"


# -- raw batches --------------------------------------------------------------------------------

def shard_batches(lines: list[str], kind: str, shards: int, size: int, labels: dict[str, str],
                  ingest_ts: float) -> list[tuple[int, RawBatch]]:
    """The log as ``shards`` sources (one per raw partition), a line going to the shard of its
    first IPv4 address (so one client's lines keep their order), as batches of ``size``
    lines; (shard, batch) interleaved round-robin so every source advances alike."""
    per_shard: list[list[RawLine]] = [[] for _ in range(shards)]
    for line in lines:
        match = _IPV4.search(line)
        shard = zlib.crc32((match.group(0) if match else line).encode()) % shards
        per_shard[shard].append(RawLine(line, ingest_ts))
    chunks = [[(shard, RawBatch(f"/var/log/{kind}/{shard}.log", "file", labels, part[i:i + size]))
               for i in range(0, len(part), size)] for shard, part in enumerate(per_shard)]
    out = []
    for round_ in range(max(map(len, chunks), default=0)):
        out.extend(c[round_] for c in chunks if round_ < len(c))
    return out


async def produce(bootstrap: str, topic: str, batches: list[tuple[int, RawBatch]]) -> float:
    """Send (partition, batch) keyed by source; the seconds it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                max_request_size=16 * 1024 * 1024)
    await producer.start()
    start = time.perf_counter()
    try:
        sent = [await producer.send(topic, b.encode(), key=b.source.encode(), partition=p)
                for p, b in batches]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return time.perf_counter() - start


# -- the consumer group's progress --------------------------------------------------------------

@dataclass
class Progress:
    """When the pipeline finished: the raw topic committed to its end, the pours topic
    committed up to its end as of then, and nothing written to the alerts or table
    changelog topics for ``quiet`` s. ``finished`` is the last time those outputs grew,
    ``first_output`` the first time the table's changelog held anything (work had begun)."""

    finished: float = 0.0
    first_output: float | None = None
    raw_done_at: float = 0.0


async def wait_finished(bootstrap: str, prefix: str, partitions: int, started: float,
                        quiet: float, timeout: float, stall: float = 60.0,
                        progress: Progress | None = None) -> Progress:
    names = TopicNames(prefix)
    group = group_id(prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    if progress is None:
        progress = Progress()
    progress.finished = started
    try:
        changelogs: list[str] = []
        last_outputs: dict | None = None
        pours_target: dict | None = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not changelogs:  # Faust creates the table's changelog topic at worker start
                changelogs = [t for t in await admin.list_topics()
                              if t.startswith(group + "-") and t.endswith("-changelog")]
            tps = {t: [TopicPartition(t, p) for p in range(partitions)]
                   for t in [names.raw, names.pours, names.alerts, *changelogs]}
            now = time.monotonic()
            ends = await consumer.end_offsets([tp for parts in tps.values() for tp in parts])
            try:
                committed = {tp: meta.offset for tp, meta in
                             (await admin.list_consumer_group_offsets(group)).items()}
            except KafkaError:  # no coordinator yet: the group has not started
                committed = {}
            if progress.first_output is None and any(ends[tp] for t in changelogs for tp in tps[t]):
                progress.first_output = now
            outs = {tp: ends[tp] for t in [names.alerts, *changelogs] for tp in tps[t]}
            if outs != last_outputs:
                last_outputs, progress.finished = outs, now
            raw_done = all(committed.get(tp, -1) >= ends[tp] for tp in tps[names.raw])
            if raw_done and pours_target is None:
                progress.raw_done_at = now
                pours_target = {tp: ends[tp] for tp in tps[names.pours]}
            pours_done = pours_target is not None and all(
                committed.get(tp, -1) >= end for tp, end in pours_target.items())
            if pours_done and now - progress.finished >= quiet:
                return progress
            if progress.first_output is not None and now - progress.finished > stall:
                break  # work had begun, yet nothing was written for ``stall`` s
            await asyncio.sleep(0.2)
        lag = {f"{tp.topic}/{tp.partition}": ends[tp] - committed.get(tp, 0)
               for tp in tps[names.raw] + tps[names.pours] if committed.get(tp, -1) < ends[tp]}
        raise TimeoutError(f"pipeline {prefix} did not finish ({timeout:.0f}s limit, "
                           f"{stall:.0f}s without output); "
                           f"uncommitted messages: {lag}")
    finally:
        await consumer.stop()
        await admin.close()


async def read_alerts(bootstrap: str, topic: str, partitions: int) -> list[dict]:
    """Every alert on ``topic`` up to its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    alerts: list[dict] = []
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for message in messages:
                    alerts.extend(AlertBatch.decode(message.value).alerts)
    finally:
        await consumer.stop()
    return alerts


# -- processes ------------------------------------------------------------------------------

@dataclass
class Sampler:
    """Samples every ``interval`` s, in a thread: each worker's RSS (peak kept) and the CPU
    seconds (user+system) of the workers and of the broker JVM."""

    workers: list[int]
    broker: int | None
    interval: float = 0.2
    peak_rss: list[int] = field(default_factory=list)
    samples: list[tuple[float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._procs = [psutil.Process(pid) for pid in self.workers]
        self._broker = psutil.Process(self.broker) if self.broker else None
        self.peak_rss = [0] * len(self._procs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        worker_cpu = 0.0
        for i, proc in enumerate(self._procs):
            try:
                with proc.oneshot():
                    self.peak_rss[i] = max(self.peak_rss[i], proc.memory_info().rss)
                    times = proc.cpu_times()
            except psutil.Error:
                continue
            worker_cpu += times.user + times.system
        broker_cpu = 0.0
        if self._broker is not None:
            try:
                times = self._broker.cpu_times()
                broker_cpu = times.user + times.system
            except psutil.Error:
                pass
        self.samples.append((time.monotonic(), worker_cpu, broker_cpu))

    def cpu_between(self, start: float, end: float) -> tuple[float, float]:
        """(worker, broker) CPU seconds between the samples nearest ``start`` and ``end``."""
        def at(t: float) -> tuple[float, float, float]:
            return min(self.samples, key=lambda s: abs(s[0] - t))
        a, b = at(start), at(end)
        return b[1] - a[1], b[2] - a[2]


class Monitor(threading.Thread):
    """:func:`wait_finished` in a thread of its own, started before the workers are."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(name="monitor", daemon=True)
        self.progress = Progress()
        self._call = lambda: wait_finished(*args, **kwargs, progress=self.progress)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._call())
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            self.error = exc

    def result(self) -> Progress:
        self.join()
        if self.error is not None:
            raise self.error
        return self.progress

    def progress_so_far(self) -> Progress:
        return self.progress
