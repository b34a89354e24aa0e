"""Real Apache Kafka (KRaft) brokers for tests, run from Maven-fetched jars (no Docker).

All configuration, formatting and process handling lives in ``deploy/kafka/kafka-local.sh``;
this class only drives that script and checks readiness with aiokafka::

    cluster = KafkaCluster(nodes=3, workdir=tmp_path / "kafka")
    cluster.start()
    try:
        ...  # use cluster.bootstrap_servers
        cluster.kill_node(1)      # kill -9
        cluster.restart_node(1)   # back, and in the metadata again
    finally:
        cluster.stop()

The JVMs are detached from the test process, but each one is watched: if the process that
started it dies without calling ``stop()`` (e.g. a test run killed with SIGKILL), the node is
stopped by the script's watcher, so no JVM outlives its owner.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "deploy" / "kafka" / "kafka-local.sh"

#: First run on a fresh machine downloads the Kafka jars with Maven.
CLASSPATH_TIMEOUT = 900.0


class KafkaClusterError(RuntimeError):
    pass


def java_available() -> bool:
    java = os.environ.get("JAVA_HOME")
    java = os.path.join(java, "bin", "java") if java else "java"
    return shutil.which(java) is not None


def _ports_free(ports: list[int]) -> bool:
    socks = []
    try:
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def pick_base_port(nodes: int, controller_offset: int = 100, attempts: int = 200) -> int:
    """A base port B such that B..B+nodes-1 and B+offset..B+offset+nodes-1 are free on 127.0.0.1."""
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20000, 30000)  # below the usual ephemeral range (32768+)
        ports = [base + i for i in range(nodes)] + [base + controller_offset + i for i in range(nodes)]
        if _ports_free(ports):
            return base
    raise KafkaClusterError(f"no free port range found for {nodes} Kafka node(s)")


def _run_sync(coro_factory):
    """Run a coroutine to completion, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    result: dict = {}

    def target():
        try:
            result["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    t = threading.Thread(target=target, name="kafka-cluster-wait", daemon=True)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


class KafkaCluster:
    """N combined broker+controller KRaft nodes on 127.0.0.1, managed by kafka-local.sh."""

    controller_offset = 100  # controller port of node i = base_port + 100 + i (script default)

    def __init__(
        self,
        nodes: int = 1,
        workdir: Path | str = "kafka",
        base_port: int | None = None,
        *,
        start_timeout: float = 60.0,
        stop_timeout: float = 20.0,
    ) -> None:
        if nodes < 1:
            raise ValueError("nodes must be >= 1")
        self.nodes = nodes
        self.workdir = Path(workdir).resolve()
        self.base_port = base_port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._started = False
        self._atexit_registered = False

    # ------------------------------------------------------------------ properties

    @property
    def bootstrap_servers(self) -> str:
        if self.base_port is None:
            raise KafkaClusterError("cluster not started yet (no ports chosen)")
        return ",".join(f"127.0.0.1:{self.port(i)}" for i in range(self.nodes))

    def port(self, i: int) -> int:
        """Client (PLAINTEXT) port of node i."""
        self._check_index(i)
        assert self.base_port is not None
        return self.base_port + i

    def node_dir(self, i: int) -> Path:
        self._check_index(i)
        return self.workdir / f"node-{i}"

    def log_file(self, i: int) -> Path:
        return self.node_dir(i) / "logs" / "server.log"

    def pid(self, i: int) -> int | None:
        """Pid of node i's JVM, or None when it is not running."""
        try:
            pid = int((self.node_dir(i) / "kafka.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _is_node_process(pid, self.node_dir(i)) else None

    def is_running(self, i: int) -> bool:
        return self.pid(i) is not None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "KafkaCluster":
        self._script("classpath", timeout=CLASSPATH_TIMEOUT)  # first run: Maven download
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.base_port is None:
            self.base_port = pick_base_port(self.nodes, self.controller_offset)
        self._register_atexit()
        self._script(
            "start",
            "--nodes", str(self.nodes),
            "--dir", str(self.workdir),
            "--port", str(self.base_port),
            "--timeout", str(int(self.start_timeout)),
            "--owner-pid", str(os.getpid()),
            "--no-metadata-check",
            timeout=self.start_timeout + 60,
        )
        self._started = True
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM every node, SIGKILL whatever is left after ``timeout`` seconds."""
        timeout = self.stop_timeout if timeout is None else timeout
        if not (self.workdir / "cluster.env").exists():
            return
        pids = [(self.pid(i), self.node_dir(i)) for i in range(self.nodes)]
        try:
            self._script("stop", "--dir", str(self.workdir), "--timeout", str(int(timeout)),
                         timeout=timeout + 30)
        finally:
            # Belt and braces: no JVM may survive stop().
            for pid, node_dir in pids:
                if pid is not None:
                    _kill_and_reap(pid, node_dir, wait=5.0)
            self._started = False

    def kill_node(self, i: int) -> None:
        """kill -9 node i (no controlled shutdown, like a crash)."""
        self._check_index(i)
        pid = self.pid(i)
        self._script("kill-node", "--dir", str(self.workdir), "--node", str(i), timeout=30)
        if pid is not None:
            _kill_and_reap(pid, self.node_dir(i), wait=5.0)

    def stop_node(self, i: int, timeout: float | None = None) -> None:
        """Gracefully stop node i (SIGTERM, SIGKILL after timeout)."""
        self._check_index(i)
        timeout = self.stop_timeout if timeout is None else timeout
        pid = self.pid(i)
        self._script("stop-node", "--dir", str(self.workdir), "--node", str(i),
                     "--timeout", str(int(timeout)), timeout=timeout + 30)
        if pid is not None:
            _kill_and_reap(pid, self.node_dir(i), wait=5.0)

    def restart_node(self, i: int) -> None:
        """Start node i again (after kill_node/stop_node) and wait until all brokers are back."""
        self._check_index(i)
        self._script(
            "start-node",
            "--dir", str(self.workdir),
            "--node", str(i),
            "--timeout", str(int(self.start_timeout)),
            "--owner-pid", str(os.getpid()),
            timeout=self.start_timeout + 60,
        )
        self.wait_ready()

    # Async variants for use inside a running event loop (e.g. while a consumer is running):
    # the blocking work runs in a thread so the loop keeps serving heartbeats.
    async def akill_node(self, i: int) -> None:
        await asyncio.to_thread(self.kill_node, i)

    async def astop_node(self, i: int, timeout: float | None = None) -> None:
        await asyncio.to_thread(self.stop_node, i, timeout)

    async def arestart_node(self, i: int) -> None:
        await asyncio.to_thread(self.restart_node, i)

    async def await_ready(self, brokers: int | None = None, timeout: float | None = None) -> None:
        await asyncio.to_thread(self.wait_ready, brokers, timeout)

    def wait_ready(self, brokers: int | None = None, timeout: float | None = None) -> None:
        """Wait until the cluster metadata (as aiokafka sees it) lists ``brokers`` brokers (default: all)."""
        want = self.nodes if brokers is None else brokers
        timeout = self.start_timeout if timeout is None else timeout
        _run_sync(lambda: self._wait_brokers(want, timeout))

    async def _wait_brokers(self, want: int, timeout: float) -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            for i in range(self.nodes):
                # A node that should run but died during startup: fail fast, with its log.
                if self._started and not self.is_running(i) and not self._was_stopped(i):
                    raise KafkaClusterError(f"Kafka node {i} is not running\n{self.log_tail(i)}")
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000)
            try:
                await admin.start()
                info = await admin.describe_cluster()
                ids = sorted(b["node_id"] for b in info["brokers"])
                last = ids
                if len(ids) == want:
                    return
            except Exception as exc:  # noqa: BLE001 - broker not ready yet
                last = exc
            finally:
                try:
                    await admin.close()
                except Exception:  # noqa: BLE001
                    pass
            if time.monotonic() >= deadline:
                tails = "\n".join(self.log_tail(i) for i in range(self.nodes))
                raise KafkaClusterError(
                    f"Kafka cluster did not report {want} broker(s) within {timeout:.0f}s (last: {last!r})\n{tails}"
                )
            await asyncio.sleep(0.3)

    def _was_stopped(self, i: int) -> bool:
        # No pid file: stopped or killed on purpose via the script.
        return not (self.node_dir(i) / "kafka.pid").exists()

    def log_tail(self, i: int, lines: int = 30) -> str:
        out = [f"----- node {i}: {self.log_file(i)} -----"]
        try:
            out += self.log_file(i).read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            out.append("(no log)")
        return "\n".join(out)

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> "KafkaCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def _check_index(self, i: int) -> None:
        if not 0 <= i < self.nodes:
            raise IndexError(f"node {i} does not exist (cluster has {self.nodes} nodes)")

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._atexit_stop)
            self._atexit_registered = True

    def _atexit_stop(self) -> None:
        if self._started:
            try:
                self.stop(timeout=10)
            except Exception:  # noqa: BLE001
                pass

    def _script(self, *args: str, timeout: float) -> str:
        cmd = ["bash", str(SCRIPT), *args]
        try:
            proc = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise KafkaClusterError(f"{' '.join(cmd)} timed out after {timeout:.0f}s\n{exc.stderr or ''}") from exc
        if proc.returncode != 0:
            raise KafkaClusterError(
                f"{' '.join(cmd)} failed with exit code {proc.returncode}\n{proc.stderr}{proc.stdout}"
            )
        return proc.stdout

    def __repr__(self) -> str:
        ports = self.bootstrap_servers if self.base_port is not None else "not started"
        return f"KafkaCluster(nodes={self.nodes}, workdir={str(self.workdir)!r}, {ports})"


def _is_node_process(pid: int, node_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return f"kafka.Kafka {node_dir}/server.properties" in cmdline


def _kill_and_reap(pid: int, node_dir: Path, wait: float) -> None:
    """SIGKILL pid if it is still node_dir's JVM, and wait for it to disappear."""
    deadline = time.monotonic() + wait
    if not _is_node_process(pid, node_dir):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    while time.monotonic() < deadline and _is_node_process(pid, node_dir):
        time.sleep(0.05)
