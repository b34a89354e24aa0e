"""The real CrowdSec 1.4.6 clients (agent, cscli, custom and firewall bouncers) for interop
tests, and a LAPI process for them to talk to.

The clients are Debian's packages unpacked by ``../shared/tools/crowdsec-clients.sh`` into
``${XDG_CACHE_HOME:-~/.cache}/crowdsec-clients`` (``CROWDSTREAM_CLIENTS`` overrides the
place). Tests needing them skip when they are absent, or fail with
``CROWDSTREAM_REQUIRE_CLIENTS=1`` (CI).

The LAPI under test is a real process serving on a loopback port, with SQLite and without
Kafka: ``python -m tests.support.crowdsec_clients CONFIG`` is ``crowdstream -c CONFIG lapi``
less the alerts-topic consumer and topic creation (alerts come through ``POST /v1/alerts``).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.support.config import write_config
from tests.support.procs import free_port
from tests.support.shared import ROOT

REQUIRE_ENV = "CROWDSTREAM_REQUIRE_CLIENTS"
BINARIES = ("crowdsec", "cscli", "crowdsec-custom-bouncer", "crowdsec-firewall-bouncer")
T = TypeVar("T")


def _default_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get("CROWDSTREAM_CLIENTS", Path(cache) / "crowdsec-clients"))


@dataclass(frozen=True)
class Clients:
    """Where the unpacked packages are."""

    root: Path

    def bin(self, name: str) -> Path:
        return self.root / "usr" / "bin" / name

    @property
    def etc(self) -> Path:
        """The stock configuration (``/etc/crowdsec``)."""
        return self.root / "etc" / "crowdsec"

    @property
    def hub(self) -> Path:
        """The package's offline hub snapshot (with its ``.index.json``)."""
        return self.root / "usr" / "share" / "crowdsec" / "hub"


#: the hub items of the sshd collection (with the linux collection's syslog and date parsers;
#: geoip-enrich would need MaxMind's databases), relative to the hub
SSHD_ITEMS = (
    "parsers/s00-raw/crowdsecurity/syslog-logs.yaml",
    "parsers/s01-parse/crowdsecurity/sshd-logs.yaml",
    "parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml",
    "scenarios/crowdsecurity/ssh-bf.yaml",
    "scenarios/crowdsecurity/ssh-slow-bf.yaml",
)


def crowdsec_config(found: Clients, directory: Path, *, items: tuple[str, ...] = (),
                    acquis: Path | None = None) -> Path:
    """A ``config.yaml`` for cscli and the agent, in ``directory``: the LAPI credentials in
    ``directory/local_api_credentials.yaml``, the package's hub snapshot with ``items`` enabled
    (linked under ``directory`` as the Debian package does), the stock patterns, logs on
    standard output, no daemon, no metrics; ``acquis``: the agent's acquisition file."""
    for item in items:
        parts = Path(item).parts  # [parsers/<stage>|scenarios]/<author>/<file>: no author
        target = directory.joinpath(*parts[:-2], parts[-1])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(found.hub / item)
    (directory / "patterns").symlink_to(found.etc / "patterns")
    (directory / "data").mkdir()
    shutil.copy(found.etc / "simulation.yaml", directory / "simulation.yaml")
    config = directory / "config.yaml"
    service = f"crowdsec_service:\n  acquisition_path: {acquis}\n" if acquis else ""
    config.write_text(f"""\
common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: .
config_paths:
  config_dir: {directory}/
  data_dir: {directory}/data/
  simulation_path: {directory}/simulation.yaml
  hub_dir: {found.hub}/
  index_path: {found.hub}/.index.json
{service}cscli:
  output: human
db_config:
  type: sqlite
  db_path: {directory}/data/crowdsec.db
api:
  client:
    credentials_path: {directory}/local_api_credentials.yaml
prometheus:
  enabled: false
""")
    return config


def run(binary: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a client to its end; fails the test on a non-zero exit status."""
    done = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{binary.name} {' '.join(args)}: exit {done.returncode}\n{output}"
    return done


def clients() -> Clients:
    """The unpacked clients; skips the test when they are missing (fails when required)."""
    found = Clients(_default_dir())
    missing = [name for name in BINARIES if not os.access(found.bin(name), os.X_OK)]
    if missing:
        reason = (f"CrowdSec clients missing in {found.root} ({', '.join(missing)}): "
                  "run ../shared/tools/crowdsec-clients.sh")
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    return found


def wait_for(probe: Callable[[], T], what: str, timeout: float = 20.0,
             every: float = 0.1) -> T:
    """``probe()``'s first truthy answer, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class Lapi:
    """A running LAPI process."""

    url: str  # with a trailing slash, as the clients' api_url
    config: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``crowdstream -c CONFIG ARGS`` on this LAPI's database; fails the test on an error."""
        done = subprocess.run([sys.executable, "-m", "crowdstream", "-c", str(self.config), *args],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 0, f"crowdstream {' '.join(args)}: {done.stderr}"
        return done

    def add_bouncer(self, name: str) -> str:
        """A new bouncer's API key."""
        return self.cli("bouncers", "add", name, "-o", "raw").stdout.strip()

    def add_machine(self, name: str, credentials: Path) -> dict[str, str]:
        """A new validated machine; its credentials (CrowdSec's ``local_api_credentials.yaml``
        with this LAPI's URL) are written to ``credentials`` and returned."""
        self.cli("machines", "add", name, "--auto", "-f", str(credentials), "-u", self.url)
        return yaml.safe_load(credentials.read_text())

    def watcher(self, name: str, directory: Path) -> httpx.Client:
        """An HTTP client of this LAPI logged in as a new machine ``name`` (its token in the
        ``Authorization`` header)."""
        creds = self.add_machine(name, directory / f"{name}.yaml")
        answer = httpx.post(f"{self.url}v1/watchers/login",
                            json={"machine_id": creds["login"], "password": creds["password"]})
        assert answer.status_code == 200, answer.text
        return httpx.Client(base_url=self.url, timeout=10,
                            headers={"Authorization": f"Bearer {answer.json()['token']}"})


def ban_alert(value: str, *, scope: str = "Ip", duration: str = "1h",
              scenario: str = "interop test") -> dict[str, Any]:
    """An alert carrying one ban of ``value`` (an IP, or a range with ``scope="Range"``), as
    ``cscli decisions add`` makes it."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "capacity": 0, "events": [], "events_count": 1, "labels": None, "leakspeed": "0",
        "message": scenario, "scenario": scenario, "scenario_hash": "", "scenario_version": "",
        "simulated": False, "source": {"scope": scope, "value": value}, "start_at": now,
        "stop_at": now,
        "decisions": [{"duration": duration, "origin": "cscli", "scenario": scenario,
                       "scope": scope, "type": "ban", "value": value}],
    }


@contextmanager
def running_lapi(directory: Path, profiles: Path) -> Iterator[Lapi]:
    """A LAPI process on a free loopback port, its SQLite database and config in
    ``directory``, deciding with the profiles in ``profiles``; stopped by SIGTERM on exit."""
    port = free_port()
    config = write_config(directory, f"""
api:
  server:
    listen_uri: 127.0.0.1:{port}
    profiles_path: {profiles}
    alerts_consumer: false
prometheus:
  enabled: false
""")
    log = directory / "lapi.log"
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crowdstream", "-c", str(config), "lapi"],
            stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_for(lambda: "lapi ready" in log.read_text() or proc.poll() is not None,
                 "the LAPI to start", timeout=60)
        assert proc.poll() is None, log.read_text()[-3000:]
        yield Lapi(url=f"http://127.0.0.1:{port}/", config=config)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()



@contextmanager
def running_bouncer(argv: list[str], log: Path) -> Iterator[None]:
    """A bouncer process for the duration of the block; its log is printed when it ends
    (shown for a failing test)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(20)
        print(log.read_text()[-4000:] if log.exists() else f"{log}: no log")
