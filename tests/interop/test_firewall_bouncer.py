"""crowdsec-firewall-bouncer 0.0.25 against our LAPI, in its ``pf`` mode (the one mode that
needs no kernel firewall: on Linux it is "for testing purposes"): it runs ``/sbin/pfctl`` to
add each banned address to its table and to delete it again. The bouncer runs in a private
mount namespace where ``/sbin/pfctl`` is a script recording its arguments and ``/dev/pf``
exists; nothing outside the namespace changes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.crowdsec_clients import Clients, Lapi, ban_alert, running_bouncer, wait_for

IP4, IP6 = "192.0.2.91", "2001:db8::91"
TABLE4, TABLE6 = "crowdsec-blacklists", "crowdsec6-blacklists"

PFCTL = """#!{python}
import json, sys
with open({calls!r}, "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:] == ["-s", "Tables"]:
    print({tables!r})
"""


def _calls(path: Path) -> list[list[str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _namespaces_work(tmp_path: Path) -> str | None:
    """None if this process may make a private mount namespace with an overlay on /dev, else
    why not."""
    if not shutil.which("unshare"):
        return "no unshare command"
    (tmp_path / "probe-up").mkdir()
    (tmp_path / "probe-work").mkdir()
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount -t overlay overlay -o lowerdir=/dev,upperdir={tmp_path}/probe-up,"
         f"workdir={tmp_path}/probe-work /dev"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"no private mount namespace: {probe.stderr.strip()}"


@pytest.fixture
def pfctl_calls(crowdsec: Clients, lapi: Lapi, tmp_path: Path) -> Iterator[Path]:
    """The bouncer running against ``lapi``; yields the file where its pfctl calls go."""
    reason = _namespaces_work(tmp_path)
    if reason:
        pytest.skip(f"the pf mode needs a fake /sbin/pfctl and /dev/pf: {reason}")
    calls = tmp_path / "pfctl.jsonl"
    sbin, up, work = tmp_path / "sbin", tmp_path / "up", tmp_path / "work"
    for directory in (sbin, up, work):
        directory.mkdir()
    pfctl = sbin / "pfctl"
    pfctl.write_text(PFCTL.format(python=sys.executable, calls=str(calls),
                                  tables=f"{TABLE4}\n{TABLE6}"))
    pfctl.chmod(0o755)
    config = tmp_path / "crowdsec-firewall-bouncer.yaml"
    config.write_text(f"""
mode: pf
pid_dir: {tmp_path}
update_frequency: 1s
daemonize: false
log_mode: file
log_dir: {tmp_path}
log_level: info
api_url: {lapi.url}
api_key: {lapi.add_bouncer("firewall-bouncer")}
insecure_skip_verify: false
disable_ipv6: false
deny_action: DROP
deny_log: false
supported_decisions_types:
  - ban
blacklists_ipv4: {TABLE4}
blacklists_ipv6: {TABLE6}
pf:
  anchor_name: ""
prometheus:
  enabled: false
""")
    script = (f"mount --bind {sbin} /sbin && "
              f"mount -t overlay overlay -o lowerdir=/dev,upperdir={up},workdir={work} /dev && "
              f"touch /dev/pf && exec {crowdsec.bin('crowdsec-firewall-bouncer')} -c {config}")
    with running_bouncer(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                         tmp_path / "crowdsec-firewall-bouncer.log"):
        yield calls


def test_bans_enter_and_leave_the_pf_tables(lapi: Lapi, pfctl_calls: Path,
                                            tmp_path: Path) -> None:
    startup = [["-t", TABLE4, "-T", "flush"], ["-s", "Tables"],
               ["-t", TABLE6, "-T", "flush"], ["-s", "Tables"]]
    wait_for(lambda: len(_calls(pfctl_calls)) >= 4, "the bouncer to set up its tables")
    assert _calls(pfctl_calls) == startup

    with lapi.watcher("firewall-driver", tmp_path) as watcher:
        pushed = watcher.post("v1/alerts", json=[ban_alert(IP4), ban_alert(IP6)])
        assert pushed.status_code == 201, pushed.text
        added = wait_for(lambda: _calls(pfctl_calls)[4:] if len(_calls(pfctl_calls)) >= 8 else [],
                         "the bouncer to add the bans")
        assert sorted(added) == sorted([["-t", TABLE4, "-T", "add", IP4], ["-k", IP4],
                                        ["-t", TABLE6, "-T", "add", IP6], ["-k", IP6]])

        for ip in (IP4, IP6):
            deleted = watcher.delete("v1/decisions", params={"ip": ip})
            assert (deleted.status_code, deleted.json()) == (200, {"nbDeleted": "1"})
    removed = wait_for(lambda: _calls(pfctl_calls)[8:] if len(_calls(pfctl_calls)) >= 10 else [],
                       "the bouncer to delete the bans")
    assert sorted(removed) == sorted([["-t", TABLE4, "-T", "delete", IP4],
                                      ["-t", TABLE6, "-T", "delete", IP6]])
