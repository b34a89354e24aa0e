"""End-to-end figures of the Kafka pipeline (issue 4): `crowdstream worker` processes on a
real single-node Kafka (tests/support/kafka.py) with the public hub's sshd and nginx content.

    .venv/bin/python benchmarks/bench_pipeline.py [--lines N] [--workers 1 2]
        [--workloads ssh nginx] [--store rocksdb] [--reference] [--produce-after-ready]
        [--latency-seconds S] [--latency-rate R]

Throughput, per workload and worker count, on a fresh topic prefix: `gen_logs.py` lines are
sharded by client IP over one source per raw partition (one client's lines keep their order)
and produced as RawBatch messages of ``--batch`` lines BEFORE the workers start. The clock
starts when every worker has logged "pipeline worker ready" (or earlier, at the first write
to the table's changelog topic, if work began before that) and stops at the last growth of
the alerts and changelog topics, once the consumer group has committed the raw topic to its
end and the pours topic to its end as of then (and nothing grew for ``--quiet`` s).
Reported: raw lines/s, CPU seconds (user+sys) per 100k lines of the workers and of the
broker JVM over that window, peak RSS of each worker (sampled every 0.2 s), alerts on the
alerts topic, and with ``--reference`` the alerts of the same batches run serially through
the engine in this process (``ref``: the sharded sources interleave differently in the
pipeline, so a few alerts may differ). Replays run on event time only (``watermark_lag: null``).

A worker that starts consuming alone and is then rebalanced may stop consuming some raw
partitions it gets back (seen with 2 workers; reproduce with ``--workers 2 --stagger 4``):
a run with no output for 60 s (or over ``--timeout``) is printed as STALLED, with figures up
to its last output. ``--produce-after-ready`` avoids it by producing only once every worker
owns raw partitions (the clock then starts at the produce).

Latency: one worker, ssh content, the default (wall-clock) watermark; the ssh log re-stamped
to the current time is produced every 50 ms at half the 1-worker ssh throughput (or
``--latency-rate``), and every 0.25 s a new address sends 5 failed logins then, one tick
later, the 6th that overflows crowdsecurity/ssh-bf. Latency: produce time of that 6th line
→ arrival of the address's ssh-bf alert at a consumer of the alerts topic (same clock).
"""
from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402

from _pipeline_support import (Monitor, Sampler, assemble_config_dir,  # noqa: E402
                               collection_members, group_id, produce, read_alerts,
                               shard_batches, write_config)
from bench_hub_parsers import INGEST, STACKS, generate  # noqa: E402
from crowdstream.components import create_topics, load_content  # noqa: E402
from crowdstream.config import load_config  # noqa: E402
from engine.hub import Hub  # noqa: E402
from tests.support.kafka import KafkaCluster  # noqa: E402
from tests.support.pipeline import Worker, reference_alerts, wait_split  # noqa: E402
from topics.names import TopicNames  # noqa: E402
from topics.records import AlertBatch, RawBatch, RawLine  # noqa: E402

COLLECTIONS = {"ssh": ("crowdsecurity/sshd",),
               "nginx": ("crowdsecurity/nginx", "crowdsecurity/base-http-scenarios")}
READY = "pipeline worker ready"
MB = 1024 * 1024


@dataclass
class Throughput:
    workload: str
    workers: int
    store: str
    lines: int
    wall: float
    worker_cpu: float
    broker_cpu: float
    peak_rss: list[int]
    alerts: int
    reference: int | None
    ready_skew: float  # first to last worker ready
    early: float  # how long before the last worker was ready work began (the clock's start)
    produce_s: float
    stalled: str | None = None  # why the run never finished (see --timeout)

    @property
    def rate(self) -> float:
        return self.lines / self.wall


class Bench:
    def __init__(self, args: argparse.Namespace, cluster: KafkaCluster, tmp: Path) -> None:
        self.args, self.cluster, self.tmp = args, cluster, tmp
        self.hub = Hub(args.hub)
        self.bootstrap = cluster.bootstrap_servers
        self._content_dirs: dict[str, Path] = {}
        self._lines: dict[str, list[str]] = {}

    def content_dir(self, kind: str) -> Path:
        """config_dir with the base stack of bench_hub_parsers plus the collections' items."""
        if kind not in self._content_dirs:
            parsers, scenarios = collection_members(self.hub, COLLECTIONS[kind])
            base = [f"parsers/{f}" for f in STACKS[kind][1]]
            path = self.tmp / f"content-{kind}"
            assemble_config_dir(self.hub, path, base + parsers + scenarios)
            self._content_dirs[kind] = path
        return self._content_dirs[kind]

    def lines(self, kind: str) -> list[str]:
        if kind not in self._lines:
            self._lines[kind] = generate(kind, self.args.lines, self.args.bench, self.tmp / f"{kind}.log")
        return self._lines[kind]

    def config(self, kind: str, prefix: str, live: bool) -> Path:
        work = self.tmp / prefix
        work.mkdir()
        return write_config(work / "config.yaml", hub=self.hub, config_dir=self.content_dir(kind),
                            work=work, bootstrap=self.bootstrap, prefix=prefix,
                            partitions=self.args.partitions, store=self.args.store, live=live)

    def start_workers(self, config: Path, count: int) -> list[Worker]:
        """``count`` workers, started ``--stagger`` s apart (0: together)."""
        workers = []
        for i in range(count):
            if i and self.args.stagger:
                time.sleep(self.args.stagger)
            workers.append(Worker(config, config.parent / f"worker-{i}.log", i))
        return workers

    def wait_ready(self, workers: list[Worker]) -> list[float]:
        """When each worker logged that it is ready (monotonic clock)."""
        ready: dict[int, float] = {}
        deadline = time.monotonic() + 240
        while len(ready) < len(workers):
            for i, worker in enumerate(workers):
                if i not in ready and READY in worker.text():
                    ready[i] = time.monotonic()
                if worker.proc.poll() is not None:
                    raise SystemExit(f"worker {i} exited:\n{worker.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("workers not ready within 240 s")
            time.sleep(0.05)
        return [ready[i] for i in range(len(workers))]

    def throughput(self, kind: str, count: int) -> Throughput:
        args = self.args
        prefix = f"bench-{kind}-{count}w-{uuid.uuid4().hex[:6]}"
        config_path = self.config(kind, prefix, live=False)
        config = load_config(config_path)
        asyncio.run(create_topics(config))
        labels = {"type": STACKS[kind][0]}
        batches = shard_batches(self.lines(kind), kind, args.partitions, args.batch, labels, INGEST)
        raw = TopicNames(prefix).raw
        if not args.produce_after_ready:
            produce_s = asyncio.run(produce(self.bootstrap, raw, batches))
        monitor = Monitor(self.bootstrap, prefix, args.partitions, time.monotonic(),
                          quiet=args.quiet, timeout=args.timeout)
        monitor.start()
        workers = self.start_workers(config_path, count)
        stalled = None
        try:
            with Sampler([w.proc.pid for w in workers], self.cluster.pid(0)) as sampler:
                ready = self.wait_ready(workers)
                if args.produce_after_ready:
                    wait_split(self.bootstrap, group_id(prefix), raw, count, args.partitions)
                    ready = [time.monotonic()] * count
                    produce_s = asyncio.run(produce(self.bootstrap, raw, batches))
                try:
                    progress = monitor.result()
                except TimeoutError as exc:
                    stalled = str(exc)
                    progress = monitor.progress_so_far()
            start = min(max(ready), progress.first_output or max(ready))
            worker_cpu, broker_cpu = sampler.cpu_between(start, progress.finished)
            alerts = asyncio.run(read_alerts(self.bootstrap, TopicNames(prefix).alerts, args.partitions))
        except BaseException:
            for i, worker in enumerate(workers):
                print(f"--- worker {i} log (tail)\n{worker.text()[-4000:]}", file=sys.stderr)
            raise
        finally:
            stop_workers(workers)
        reference = None
        if args.reference:
            reference = len(reference_alerts(load_content(config), [b for _, b in batches]))
        return Throughput(kind, count, args.store, len(self.lines(kind)), progress.finished - start,
                          worker_cpu, broker_cpu, sampler.peak_rss, len(alerts), reference,
                          max(ready) - min(ready), max(0.0, max(ready) - start), produce_s, stalled)

    def latency(self, rate: float) -> dict:
        prefix = f"bench-latency-{uuid.uuid4().hex[:6]}"
        config_path = self.config("ssh", prefix, live=True)
        asyncio.run(create_topics(load_config(config_path)))
        workers = self.start_workers(config_path, 1)
        try:
            self.wait_ready(workers)
            with Sampler([workers[0].proc.pid], self.cluster.pid(0)) as sampler:
                start = time.monotonic()
                result = asyncio.run(paced_probes(self.bootstrap, TopicNames(prefix), self.args.partitions,
                                                  self.lines("ssh"), rate, self.args.latency_seconds))
                end = time.monotonic()
            worker_cpu, _ = sampler.cpu_between(start, end)
        finally:
            stop_workers(workers)
        result["worker_cpu_share"] = worker_cpu / (end - start)
        return result


def stop_workers(workers: list[Worker]) -> None:
    for worker in workers:
        if worker.proc.poll() is None:
            worker.stop()
        else:
            worker.cleanup()


def syslog_stamp(epoch: float) -> str:
    """``Nov 22 08:46:00`` (15 characters, as the generated ssh log's lines start)."""
    return time.strftime("%b %e %H:%M:%S", time.gmtime(epoch))


async def paced_probes(bootstrap: str, names: TopicNames, partitions: int, background: list[str],
                       rate: float, seconds: float, tick: float = 0.05, probe_ticks: int = 5) -> dict:
    """Background ssh lines at ``rate`` lines/s plus one overflowing address every
    ``probe_ticks`` ticks; the latency of each address's ssh-bf alert."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(names.alerts, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    sent: dict[str, float] = {}
    got: dict[str, float] = {}

    async def collect() -> None:
        while True:
            for messages in (await consumer.getmany(timeout_ms=100)).values():
                now = time.time()
                for message in messages:
                    for alert in AlertBatch.decode(message.value).alerts:
                        ip = alert["source"].get("ip") or alert["source"].get("value")
                        if alert["scenario"] == "crowdsecurity/ssh-bf" and ip in sent:
                            got.setdefault(ip, now)

    def probe_batch(ip: str, count: int, number: int) -> RawBatch:
        stamp = syslog_stamp(time.time())
        return RawBatch("/var/log/ssh/probe.log", "file", {"type": "syslog"}, [
            RawLine(f"{stamp} bastion-01 sshd[{number}]: Failed password for root from {ip} "
                    f"port {40000 + i} ssh2", time.time()) for i in range(count)])

    collector = asyncio.create_task(collect())
    labels = {"type": "syslog"}
    carry, pos, produced, probes, pending = 0.0, 0, 0, 0, None
    start = time.monotonic()
    ticks = int(seconds / tick)
    try:
        for n in range(ticks):
            carry += rate * tick
            count, carry = int(carry), carry - int(carry)
            now = time.time()
            chunk = [RawLine(syslog_stamp(now) + background[(pos + i) % len(background)][15:], now)
                     for i in range(count)]
            pos += count
            source = f"/var/log/ssh/{n % partitions}.log"
            await producer.send(names.raw, RawBatch(source, "file", labels, chunk).encode(),
                                key=source.encode(), partition=n % partitions)
            produced += count
            if pending is not None:
                ip, pending = pending, None
                batch = probe_batch(ip, 1, probes)
                sent[ip] = time.time()
                await producer.send(names.raw, batch.encode(), key=batch.source.encode(),
                                    partition=probes % partitions)
            elif n % probe_ticks == 0:
                probes += 1
                pending = f"203.0.{113 + probes // 250}.{probes % 250 + 1}"
                batch = probe_batch(pending, 5, probes)
                await producer.send(names.raw, batch.encode(), key=batch.source.encode(),
                                    partition=probes % partitions)
            await asyncio.sleep(max(0.0, start + (n + 1) * tick - time.monotonic()))
        elapsed = time.monotonic() - start
        deadline = time.monotonic() + 20
        while set(sent) - set(got) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    finally:
        collector.cancel()
        await producer.stop()
        await consumer.stop()
    latencies = sorted(got[ip] - sent[ip] for ip in got)
    return {"rate": produced / elapsed, "samples": len(latencies), "probes": len(sent),
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "max": latencies[-1] if latencies else float("nan"),
            "mean": statistics.fmean(latencies) if latencies else float("nan")}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    return values[min(len(values), max(1, math.ceil(p / 100 * len(values)))) - 1]


def print_throughput(rows: list[Throughput], partitions: int) -> None:
    print(f"\nThroughput ({partitions} partitions; "
          "CPU = user+sys seconds per 100k lines)")
    head = (f"{'workload':8} {'workers':>7} {'store':>9} {'lines':>8} {'wall s':>7} {'lines/s':>8} "
            f"{'worker CPU':>10} {'broker CPU':>10} {'peak RSS MB/worker':>19} {'alerts':>6} "
            f"{'ref':>6} {'ready skew':>10} {'early':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        per = 100_000 / r.lines
        rss = "/".join(f"{x / MB:.0f}" for x in r.peak_rss)
        ref = "-" if r.reference is None else str(r.reference)
        print(f"{r.workload:8} {r.workers:>7} {r.store.split(':')[0]:>9} {r.lines:>8,} "
              f"{r.wall:>7.1f} {r.rate:>8,.0f} {r.worker_cpu * per:>10.1f} {r.broker_cpu * per:>10.1f} "
              f"{rss:>19} {r.alerts:>6} {ref:>6} {r.ready_skew:>9.1f}s {r.early:>5.1f}s")
        if r.stalled:
            print(f"{'':8} STALLED, figures up to the last output only: {r.stalled}")


def print_latency(result: dict, rate: float) -> None:
    print(f"\nLatency (1 worker, ssh content, target {rate:,.0f} lines/s, achieved "
          f"{result['rate']:,.0f} lines/s; worker CPU {result['worker_cpu_share']:.0%} of a core)")
    print(f"  overflowing line produced → ssh-bf alert consumed: {result['samples']}/{result['probes']} "
          f"samples, p50 {result['p50'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms, "
          f"mean {result['mean'] * 1000:.0f} ms, max {result['max'] * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000,
                        help="log lines per throughput run (the default keeps the whole run "
                             "under 10 minutes on 2 cores; the issue's figures use 100000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workloads", nargs="+", choices=sorted(COLLECTIONS), default=["ssh", "nginx"])
    parser.add_argument("--store", choices=["memory", "rocksdb"], default="memory")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500, help="lines per RawBatch message")
    parser.add_argument("--quiet", type=float, default=3.0,
                        help="seconds without output growth that end a throughput run")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per throughput run")
    parser.add_argument("--reference", action="store_true",
                        help="also count the alerts of a serial in-process engine run (as long "
                             "again as a 1-worker run)")
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="0: skip the latency run")
    parser.add_argument("--latency-rate", type=float, default=None,
                        help="lines/s of the latency run (default: half the 1-worker ssh throughput)")
    parser.add_argument("--hub", type=Path, default=ROOT.parent / "shared" / "crowdsec-hub")
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--produce-after-ready", action="store_true",
                        help="produce once every worker is ready and owns raw partitions "
                             "(the clock starts then) instead of before starting them")
    parser.add_argument("--stagger", type=float, default=0.0,
                        help="seconds between worker starts (0: all at once)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the temporary directory goes (default: the system's)")
    args = parser.parse_args()
    args.store = "memory://" if args.store == "memory" else "rocksdb://"

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-", dir=args.workdir) as tmp:
        cluster = KafkaCluster(nodes=1, workdir=Path(tmp) / "kafka")
        cluster.start()
        try:
            bench = Bench(args, cluster, Path(tmp))
            rows: list[Throughput] = []
            for kind in args.workloads:
                for count in args.workers:
                    rows.append(bench.throughput(kind, count))
                    print_throughput(rows[-1:], args.partitions)
            print_throughput(rows, args.partitions)
            if args.latency_seconds > 0:
                rate = args.latency_rate
                if rate is None:
                    single = [r for r in rows if r.workload == "ssh" and r.workers == 1]
                    if not single:
                        raise SystemExit("--latency-rate is needed without a 1-worker ssh run")
                    rate = single[0].rate / 2
                print_latency(bench.latency(rate), rate)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
