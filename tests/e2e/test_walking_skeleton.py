"""The walking skeleton, end to end: `crowdstream run` (embedded broker, worker, LAPI,
shipper) → a line appended to a tailed file → a ban a bouncer can read."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.support.config import write_config
from tests.support.procs import free_port, processes_mentioning

pytestmark = pytest.mark.e2e

KEY = "e2e-bouncer-key-0123456789abcdef"
ATTACKER, BENIGN = "203.0.113.7", "198.51.100.9"


def syslog_line(ip: str, user: str = "root") -> str:
    stamp = datetime.now().strftime("%b %e %H:%M:%S")
    return f"{stamp} web-01 sshd[4242]: Failed password for {user} from {ip} port 50022 ssh2\n"


@pytest.fixture
def stack(tmp_path: Path):
    lapi_port, metrics_port, broker_port = free_port(), free_port(), free_port()
    log_file = tmp_path / "log" / "auth.log"
    log_file.parent.mkdir()
    (tmp_path / "acquis.yaml").write_text(f"filenames:\n  - {log_file}\nlabels:\n  type: syslog\n")
    config = write_config(tmp_path, f"""
crowdsec_service:
  acquisition_path: {tmp_path}/acquis.yaml
api:
  server:
    listen_uri: 127.0.0.1:{lapi_port}
prometheus:
  listen_addr: 127.0.0.1
  listen_port: {metrics_port}
kafka:
  embedded: true
  embedded_listen: 127.0.0.1:{broker_port}
  partitions: 4
""")
    cli = [sys.executable, "-m", "crowdstream", "-c", str(config)]
    added = subprocess.run([*cli, "bouncers", "add", "e2e", "--key", KEY, "-o", "raw"],
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == KEY

    output = (tmp_path / "run.log").open("w+")
    started = time.monotonic()
    proc = subprocess.Popen([*cli, "run"], stdout=output, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = started + 120
        while "crowdstream ready" not in (tmp_path / "run.log").read_text():
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            time.sleep(0.2)
        startup = time.monotonic() - started
        print(f"crowdstream run ready in {startup:.1f}s")
        yield {"proc": proc, "log_file": log_file, "config": config, "tmp": tmp_path,
               "broker": f"tcp://127.0.0.1:{broker_port}",
               "lapi": f"http://127.0.0.1:{lapi_port}", "metrics": f"http://127.0.0.1:{metrics_port}"}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        output.close()


def test_failed_logins_become_a_ban_a_bouncer_sees(stack) -> None:
    lapi, headers = stack["lapi"], {"X-Api-Key": KEY}
    with stack["log_file"].open("a") as log:
        for _ in range(6):
            log.write(syslog_line(ATTACKER))
        for _ in range(2):
            log.write(syslog_line(BENIGN, "alice"))
    written = time.monotonic()

    decisions = None
    while time.monotonic() - written < 15:
        answer = httpx.get(f"{lapi}/v1/decisions", params={"ip": ATTACKER}, headers=headers)
        assert answer.status_code == 200, answer.text
        decisions = answer.json()
        if decisions:
            break
        time.sleep(0.1)
    latency = time.monotonic() - written
    print(f"line written → ban served: {latency:.2f}s")
    assert decisions, f"no ban within 15 s\n{(stack['tmp'] / 'run.log').read_text()[-3000:]}"
    assert len(decisions) == 1
    ban = decisions[0]
    assert (ban["value"], ban["scope"], ban["type"], ban["origin"]) == (ATTACKER, "Ip", "ban", "crowdsec")
    assert ban["scenario"] == "crowdstream/ssh-bf"
    assert ban["duration"].startswith("3h59m")

    assert httpx.get(f"{lapi}/v1/decisions", params={"ip": BENIGN}, headers=headers).json() is None
    wrong = httpx.get(f"{lapi}/v1/decisions", params={"ip": ATTACKER}, headers={"X-Api-Key": "nope"})
    assert (wrong.status_code, wrong.json()) == (403, {"message": "access forbidden"})

    stream = httpx.get(f"{lapi}/v1/decisions/stream", params={"startup": "true"}, headers=headers).json()
    assert [(d["value"], d["type"]) for d in stream["new"]] == [(ATTACKER, "ban")]
    assert not stream["deleted"]

    metrics = httpx.get(f"{stack['metrics']}/metrics").text
    assert 'cs_filesource_hits_total{source="%s"} 8.0' % stack["log_file"] in metrics
    assert 'cs_bucket_overflowed_total{name="crowdstream/ssh-bf"} 1.0' in metrics


def test_sigterm_stops_everything_cleanly(stack) -> None:
    proc = stack["proc"]
    children = processes_mentioning(str(stack["config"]))
    assert len(children) >= 4  # supervisor, worker, lapi, ship
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    time.sleep(0.5)
    assert processes_mentioning(str(stack["config"])) == []
    assert processes_mentioning(stack["broker"]) == []  # the embedded broker is gone too
