"""LAPI figures with a real load generator (Debian's `wrk`) against a real `crowdstream lapi`
process (alerts by HTTP, no Kafka), on SQLite and on PostgreSQL (the local server, as the
test suite reaches it: tests/support/databases.py).

    .venv/bin/python benchmarks/bench_lapi.py [--db sqlite postgresql] [--decisions N]
        [--duration S] [--connections C]

Per database, with N active decisions inserted first (90 % single IPv4, 5 % single IPv6, 5 %
IPv4 /24 ranges; one change-sequence value, as one big import):

* ``GET /v1/decisions?ip=`` at ``--connections`` (32): wrk rotates over 2,000 addresses, half
  banned (one of the singles, or inside a range), half not; req/s, p50, p99;
* ``GET /v1/decisions/stream?startup=true`` for a new bouncer (3 runs): seconds and bytes;
* ``POST /v1/alerts`` at 8 connections: agent alerts (no decisions: the profiles decide, a
  4h ban each), 1 and 10 per request, every alert a new uuid and address; alerts/s.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lapi.db.changes import allocate_change_seq  # noqa: E402
from lapi.db.models import Decision  # noqa: E402
from lapi.db.session import open_database  # noqa: E402
from lapi.iprange import parse_ip_range  # noqa: E402
from tests.support import databases  # noqa: E402
from tests.support.crowdsec_clients import wait_for  # noqa: E402
from tests.support.procs import free_port  # noqa: E402
from tests.support.shared import ROOT  # noqa: E402

PASSWORD = "Secret-pass-123"
LOOKUP_LUA = """
local ips = {%s}
local i = 0
wrk.headers["X-Api-Key"] = "%s"
request = function()
  i = i + 1
  return wrk.format("GET", "/v1/decisions?ip=" .. ips[(i %% #ips) + 1])
end
"""
POST_LUA = """
local n = 0
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %s"
wrk.headers["Content-Type"] = "application/json"
local per = %d
local template = [[%s]]
request = function()
  local parts = {}
  for k = 1, per do
    n = n + 1
    local id = string.format("%%d-%%d-%%d", tid, n, math.random(1, 1000000000))
    local ip = string.format("100.%%d.%%d.%%d", tid, math.floor(n / 250) %% 250, n %% 250 + 1)
    parts[k] = template:gsub("UUID", id):gsub("ADDR", ip)
  end
  return wrk.format(nil, "/v1/alerts", nil, "[" .. table.concat(parts, ",") .. "]")
end
"""
AGENT_ALERT = {
    "uuid": "UUID", "scenario": "crowdsecurity/ssh-bf", "scenario_hash": "",
    "scenario_version": "0.1", "message": "bench", "events_count": 6,
    "start_at": "START", "stop_at": "START", "capacity": 5, "leakspeed": "10s",
    "simulated": False, "remediation": True, "decisions": None, "labels": None,
    "events": [], "source": {"scope": "Ip", "value": "ADDR", "ip": "ADDR"},
}


def seed(url: str, count: int, rng: random.Random) -> list[str]:
    """Insert ``count`` active decisions; returns 2,000 lookup addresses (half banned)."""
    database = open_database(url)
    now = datetime.now(UTC)
    hits: list[str] = []
    rows = []
    for n in range(count):
        kind = rng.random()
        if kind < 0.90:
            value, scope = str(ipaddress.IPv4Address(0x0B000000 + n * 7)), "Ip"
            lookup = value
        elif kind < 0.95:
            value, scope = str(ipaddress.IPv6Address((0x20010DB8 << 96) + n)), "Ip"
            lookup = value
        else:
            base = 0x0C000000 + (n << 8)
            value = f"{ipaddress.IPv4Address(base)}/24"
            scope, lookup = "Range", str(ipaddress.IPv4Address(base + 77))
        if len(hits) < 1000 and rng.random() < 0.02:
            hits.append(lookup)
        rng_ = parse_ip_range(value)
        rows.append({"created_at": now, "until": now + timedelta(hours=4), "scenario":
                     "crowdsecurity/ssh-bf", "type": "ban", "scope": scope, "value": value,
                     "origin": "crowdsec", "simulated": False, "ip_size": rng_.size,
                     "start_ip": rng_.start_key, "end_ip": rng_.end_key})
    with database.session() as session:
        seq = allocate_change_seq(session)
        for start in range(0, len(rows), 5000):
            chunk = [dict(r, created_seq=seq) for r in rows[start:start + 5000]]
            session.execute(insert(Decision), chunk)
    database.dispose()
    misses = [str(ipaddress.IPv4Address(0x0D000000 + rng.randrange(1 << 20)))
              for _ in range(2000 - len(hits))]
    lookups = hits + misses
    rng.shuffle(lookups)
    return lookups


def db_config(url: str, directory: Path) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"db_config:\n  type: sqlite\n  db_path: {parsed.database}\n"
    return (f"db_config:\n  type: postgresql\n  host: {parsed.host}\n  port: {parsed.port}\n"
            f"  user: {parsed.username}\n  password: {parsed.password}\n"
            f"  db_name: {parsed.database}\n  sslmode: disable\n")


@contextmanager
def lapi(url: str, directory: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    config = directory / "config.yaml"
    config.write_text(f"""
config_paths:
  config_dir: ${{CROWDSTREAM_DEFAULTS}}
  data_dir: {directory}
{db_config(url, directory)}api:
  server:
    listen_uri: 127.0.0.1:{port}
    alerts_consumer: false
prometheus:
  enabled: false
common:
  log_level: warning
""")
    log = directory / "lapi.log"
    with log.open("wb") as output:
        proc = subprocess.Popen([sys.executable, "-m", "crowdstream", "-c", str(config), "lapi"],
                                stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base) or proc.poll() is not None, "the LAPI", timeout=60)
        if proc.poll() is not None:
            raise SystemExit(log.read_text()[-3000:])
        yield base, config
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def cli(config: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "crowdstream", "-c", str(config), *args],
                          check=True, capture_output=True, text=True, cwd=ROOT).stdout


def wrk(base: str, script: str, directory: Path, connections: int, duration: int) -> dict:
    lua = directory / "bench.lua"
    lua.write_text(script)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", str(lua), base], check=True, capture_output=True,
                         text=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for label, key in (("50%", "p50"), ("99%", "p99")):
        m = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", out, re.M)
        factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        result[key] = float(m.group(1)) * factor
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(bad.group(1)) if bad else 0
    return result


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def run(backend: str, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        server = None
        if backend == "sqlite":
            url = f"sqlite:///{directory / 'lapi.db'}"
        else:
            server = databases.SERVERS[backend]()
            server.prepare()
            name, url = server.create()
        try:
            started = time.perf_counter()
            lookups = seed(url, args.decisions, rng)
            print(f"[{backend}] {args.decisions:,} decisions inserted in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            with lapi(url, directory) as (base, config):
                key = cli(config, "bouncers", "add", "bench", "-o", "raw").strip()
                script = LOOKUP_LUA % (",".join(f'"{ip}"' for ip in lookups), key)
                got = wrk(base, script, directory, args.connections, args.duration)
                print(f"[{backend}] GET /v1/decisions?ip= c={args.connections}: "
                      f"{got['rps']:,.0f} req/s, p50 {got['p50']:.1f} ms, "
                      f"p99 {got['p99']:.1f} ms, non-2xx {got['non2xx']} ({load()})",
                      flush=True)
                for n in range(3):
                    fresh = cli(config, "bouncers", "add", f"startup-{n}", "-o", "raw").strip()
                    t0 = time.perf_counter()
                    body = httpx.get(f"{base}/v1/decisions/stream", params={"startup": "true"},
                                     headers={"X-Api-Key": fresh}, timeout=300).content
                    seconds = time.perf_counter() - t0
                    print(f"[{backend}] stream?startup=true: {seconds:.2f} s, "
                          f"{len(body) / 1e6:.1f} MB, {len(json.loads(body)['new']):,} new "
                          f"({load()})", flush=True)
                cli(config, "machines", "add", "bench-agent", "-p", PASSWORD, "-f", "-")
                token = httpx.post(f"{base}/v1/watchers/login", json={
                    "machine_id": "bench-agent", "password": PASSWORD}).json()["token"]
                start = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                template = json.dumps(AGENT_ALERT).replace("START", start)
                for per in (1, 10):
                    got = wrk(base, POST_LUA % (token, per, template), directory, 8,
                              args.duration)
                    print(f"[{backend}] POST /v1/alerts, {per}/request, c=8: "
                          f"{got['rps'] * per:,.0f} alerts/s ({got['rps']:,.0f} req/s, "
                          f"p50 {got['p50']:.1f} ms, p99 {got['p99']:.1f} ms, "
                          f"non-2xx {got['non2xx']}) ({load()})", flush=True)
        finally:
            if server is not None:
                server.drop(name)
                server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for backend in args.db:
        run(backend, args)


if __name__ == "__main__":
    main()
