"""``crowdstream run``: the all-in-one process tree.

The supervisor starts the embedded broker (when configured), creates the topics, then runs
each component as a child process (``crowdstream worker|lapi|ship``) whose output it relays
with a prefix. A component is ready when it logs a line containing the word ``ready``; once
all are, one banner says where the LAPI is. SIGINT/SIGTERM, or any child exiting, stops
everything in reverse order; children also die with the supervisor (PDEATHSIG).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from crowdstream.broker import EmbeddedBroker
from crowdstream.children import die_with_parent
from crowdstream.components import check, create_topics
from crowdstream.config import Config
from crowdstream.metrics_server import MetricsServer

log = logging.getLogger("crowdstream.run")

_READY = re.compile(r"\bready\b")


@dataclass
class Child:
    name: str
    args: list[str]
    proc: asyncio.subprocess.Process | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    relay: asyncio.Task[None] | None = None


class Supervisor:
    def __init__(self, config: Config, config_path: Path | None) -> None:
        self.config = config
        self.config_path = config_path
        self.children: list[Child] = []
        self.broker: EmbeddedBroker | None = None
        self.metrics: MetricsServer | None = None
        self._stop = asyncio.Event()

    def _child_args(self, *command: str) -> list[str]:
        base = [sys.executable, "-m", "crowdstream"]
        if self.config_path:
            base += ["-c", str(self.config_path)]
        return base + list(command) + ["--no-metrics"]

    async def _spawn(self, child: Child, env: dict[str, str]) -> None:
        child.proc = await asyncio.create_subprocess_exec(
            *child.args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, env=env, preexec_fn=die_with_parent,
        )
        child.relay = asyncio.create_task(self._relay(child))

    async def _relay(self, child: Child) -> None:
        assert child.proc is not None and child.proc.stdout is not None
        async for raw in child.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            sys.stderr.write(f"[{child.name}] {line}\n")
            if not child.ready.is_set() and _READY.search(line):
                child.ready.set()
        code = await child.proc.wait()
        if not self._stop.is_set():
            log.error("%s exited with status %s: stopping everything", child.name, code)
            self._stop.set()

    async def run(self) -> int:
        check(self.config)  # a config or content error stops us before anything starts
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        data_dir = self.config.config_paths.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="crowdstream-metrics-") as metrics_dir:
            env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=metrics_dir, PYTHONUNBUFFERED="1")
            try:
                return await self._run(env, metrics_dir)
            finally:
                await self._shutdown()

    async def _run(self, env: dict[str, str], metrics_dir: str) -> int:
        if self.config.kafka.embedded:
            self.broker = EmbeddedBroker(self.config.kafka.embedded_listen,
                                         self.config.config_paths.data_dir / "broker.log")
            await self.broker.start()
        await create_topics(self.config)
        if self.config.prometheus.enabled:
            self.metrics = MetricsServer(self.config.prometheus.listen_addr,
                                         self.config.prometheus.listen_port, metrics_dir, self)
            await self.metrics.start()
        self.children = [Child(f"worker-{i}", self._child_args("worker", "--id", str(i)))
                         for i in range(self.config.pipeline.workers)]
        self.children += [Child("lapi", self._child_args("lapi")),
                          Child("ship", self._child_args("ship"))]
        for child in self.children:
            await self._spawn(child, env)
        waiters = [asyncio.create_task(c.ready.wait()) for c in self.children]
        stop = asyncio.create_task(self._stop.wait())
        await asyncio.wait([stop, asyncio.gather(*waiters)], return_when=asyncio.FIRST_COMPLETED)
        if not self._stop.is_set():
            print(self.banner(), file=sys.stderr, flush=True)
        await stop
        failed = [c.name for c in self.children if c.proc and c.proc.returncode not in (None, 0, -15)]
        return 1 if failed else 0

    def banner(self) -> str:
        server = self.config.api.server.listen_uri
        conf = f" -c {self.config_path}" if self.config_path else ""
        lines = [
            "crowdstream ready",
            f"  LAPI:     http://{server}  (CrowdSec LAPI v1: /v1/decisions, /v1/decisions/stream)",
            f"  bouncer:  .venv/bin/crowdstream{conf} bouncers add my-bouncer",
            f"  then:     curl -H 'X-Api-Key: <key>' http://{server}/v1/decisions/stream?startup=true",
        ]
        if self.metrics:
            lines.append(f"  metrics:  http://{self.metrics.address}/metrics   debug: /debug")
        if self.broker:
            lines.append(f"  broker:   embedded tansu on {self.broker.bootstrap_servers} (memory only)")
        return "\n".join(lines)

    def status(self) -> list[dict[str, object]]:
        """Per-component state, for ``/debug``."""
        return [{"name": c.name, "pid": c.proc.pid if c.proc else None,
                 "returncode": c.proc.returncode if c.proc else None, "ready": c.ready.is_set()}
                for c in self.children]

    async def _shutdown(self) -> None:
        self._stop.set()
        for child in reversed(self.children):
            if child.proc and child.proc.returncode is None:
                child.proc.terminate()
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                await asyncio.wait_for(child.proc.wait(), 15)
            except asyncio.TimeoutError:
                log.warning("%s did not stop in 15 s: killing it", child.name)
                child.proc.kill()
                await child.proc.wait()
            if child.relay:
                with contextlib.suppress(asyncio.CancelledError):
                    await child.relay
        if self.metrics:
            await self.metrics.stop()
        if self.broker:
            await self.broker.stop()
        log.info("crowdstream stopped")
