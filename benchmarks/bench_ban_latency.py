"""How long from an agent's alert to a bouncer holding the ban, through real `crowdstream lapi`
processes (SQLite, no Kafka: alerts come by POST /v1/alerts).

    .venv/bin/python benchmarks/bench_ban_latency.py [--trials N] [--poll S]

A bouncer thread pulls /v1/decisions/stream in a loop, as a bouncer does; another thread, the
agent, posts an alert on a new IP every 0.2–0.4 s. Latency: from just before the POST to the
moment the bouncer's pull returns that IP. Modes:

* ``long-poll``: the bouncer pulls with ``?wait=30s`` (crowdstream's extension) from the LAPI
  the agent posts to;
* ``long-poll, other replica``: the same, the agent posting to a second LAPI process on the
  same database (the bouncer's LAPI learns of it by re-reading every 0.5 s);
* ``poll every S``: a plain pull every ``--poll`` seconds (CrowdSec bouncers: 10 s by
  default), for comparison.
"""
from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.config import BASE  # noqa: E402
from tests.support.crowdsec_clients import ban_alert, wait_for  # noqa: E402
from tests.support.procs import free_port  # noqa: E402
from tests.support.shared import ROOT  # noqa: E402


@contextmanager
def lapi_process(directory: Path, name: str) -> Iterator[str]:
    """A `crowdstream lapi` on a free port, its database in ``directory`` (shared by every
    process started on the same directory); yields its URL."""
    port = free_port()
    config = directory / f"{name}.yaml"
    config.write_text(BASE.format(dir=directory) + f"""
api:
  server:
    listen_uri: 127.0.0.1:{port}
    profiles_path: ${{CROWDSTREAM_DEFAULTS}}/profiles.yaml
    alerts_consumer: false
    jwt_secret: {"s" * 64}
prometheus:
  enabled: false
""")
    log = directory / f"{name}.log"
    with log.open("wb") as output:
        proc = subprocess.Popen([sys.executable, "-m", "crowdstream", "-c", str(config), "lapi"],
                                stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_for(lambda: "lapi ready" in log.read_text() or proc.poll() is not None,
                 f"{name} to start", timeout=60)
        if proc.poll() is not None:
            raise SystemExit(log.read_text()[-2000:])
        if name == "lapi-a":
            cli = [sys.executable, "-m", "crowdstream", "-c", str(config)]
            subprocess.run([*cli, "machines", "add", "agent", "-p", "Secret-pass-123", "-f", "-"],
                           check=True, capture_output=True, cwd=ROOT)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def bouncer_key(directory: Path, name: str) -> str:
    done = subprocess.run([sys.executable, "-m", "crowdstream", "-c",
                           str(directory / "lapi-a.yaml"), "bouncers", "add", name, "-o", "raw"],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    return done.stdout.strip()


def agent_client(url: str) -> httpx.Client:
    token = httpx.post(f"{url}/v1/watchers/login", json={
        "machine_id": "agent", "password": "Secret-pass-123", "scenarios": []}).json()["token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def measure(bouncer_url: str, agent_url: str, key: str, trials: int, *, wait: str | None,
            poll: float) -> list[float]:
    """Latencies (s) of ``trials`` bans."""
    seen: dict[str, float] = {}
    stop = threading.Event()
    headers = {"X-Api-Key": key}

    def bouncer() -> None:
        with httpx.Client(base_url=bouncer_url, headers=headers, timeout=40) as client:
            client.get("/v1/decisions/stream", params={"startup": "true"})
            while not stop.is_set():
                params = {"wait": wait} if wait else {}
                body = client.get("/v1/decisions/stream", params=params).json()
                now = time.perf_counter()
                for decision in body["new"]:
                    seen.setdefault(decision["value"], now)
                if not wait:
                    stop.wait(poll)

    thread = threading.Thread(target=bouncer, daemon=True)
    thread.start()
    time.sleep(1)
    sent: dict[str, float] = {}
    with agent_client(agent_url) as agent:
        base = random.randrange(1, 200)
        for n in range(trials):
            ip = f"198.{base}.{n // 250}.{n % 250 + 1}"
            sent[ip] = time.perf_counter()
            answer = agent.post("/v1/alerts", json=[ban_alert(ip)])
            assert answer.status_code == 201, answer.text
            time.sleep(random.uniform(0.2, 0.4))
    deadline = time.monotonic() + poll + 5
    while len(seen.keys() & sent.keys()) < trials and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    missing = sent.keys() - seen.keys()
    if missing:
        raise SystemExit(f"{len(missing)} ban(s) never reached the bouncer")
    return [seen[ip] - sent[ip] for ip in sent]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--poll", type=float, default=10.0,
                        help="plain-pull interval of the comparison bouncer (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        directory = Path(tmp)
        (directory / "data").mkdir()
        url_a = stack.enter_context(lapi_process(directory, "lapi-a"))
        url_b = stack.enter_context(lapi_process(directory, "lapi-b"))
        modes = [("long-poll, same LAPI", url_a, url_a, "30s"),
                 ("long-poll, other replica", url_a, url_b, "30s"),
                 (f"poll every {args.poll:g} s", url_a, url_a, None)]
        print(f"{'mode':<28} {'trials':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for n, (label, bouncer_url, agent_url, wait) in enumerate(modes):
            key = bouncer_key(directory, f"bouncer-{n}")
            got = measure(bouncer_url, agent_url, key, args.trials, wait=wait, poll=args.poll)
            print(f"{label:<28} {len(got):>6} {statistics.median(got) * 1000:>8.1f} "
                  f"{percentile(got, 0.99) * 1000:>8.1f} {max(got) * 1000:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
