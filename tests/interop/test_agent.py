"""The crowdsec 1.4.6 agent (no local API of its own) with the hub's sshd collection from
the Debian package replays an ssh brute force, pushes its alert to our LAPI, the stock
profile bans the attacker for 4h, and a bouncer sees the ban."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pycrowdsec.client import QueryClient

from tests.support.crowdsec_clients import (
    SSHD_ITEMS,
    Clients,
    Lapi,
    crowdsec_config,
    run,
    wait_for,
)

ATTACKER, BENIGN = "203.0.113.99", "198.51.100.44"


def auth_log(path: Path) -> None:
    """Eight failed logins from the attacker and two from a benign address, one a second,
    ending now (the decision lasts from the alert's stop_at)."""
    start = datetime.now() - timedelta(seconds=10)
    lines = []
    for second in range(10):
        ip = BENIGN if second in (3, 7) else ATTACKER
        stamp = (start + timedelta(seconds=second)).strftime("%b %e %H:%M:%S")
        lines.append(f"{stamp} web-01 sshd[4242]: Failed password for root from {ip} "
                     f"port {50000 + second} ssh2\n")
    path.write_text("".join(lines))


def test_agent_alert_becomes_a_ban_a_bouncer_sees(crowdsec: Clients, lapi: Lapi,
                                                  tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    auth_log(log)
    acquis = tmp_path / "acquis.yaml"
    acquis.write_text(f"filenames:\n  - {log}\nlabels:\n  type: syslog\n")
    config = crowdsec_config(crowdsec, tmp_path, items=SSHD_ITEMS, acquis=acquis)
    lapi.add_machine("agent-01", tmp_path / "local_api_credentials.yaml")

    done = run(crowdsec.bin("crowdsec"), "-c", str(config), "-no-api",
               "-dsn", f"file://{log}", "-type", "syslog")
    assert f"Ip {ATTACKER} performed 'crowdsecurity/ssh-bf' (6 events over 6s)" in done.stderr

    bouncer = QueryClient(lapi.add_bouncer("agent-checker"), lapi_url=lapi.url)
    decisions = wait_for(lambda: bouncer.get_decisions_for(ATTACKER), "the agent's ban")
    assert [(d["value"], d["scope"], d["type"], d["origin"], d["scenario"])
            for d in decisions] == [(ATTACKER, "Ip", "ban", "crowdsec", "crowdsecurity/ssh-bf")]
    assert decisions[0]["duration"].startswith("3h59m")
    assert bouncer.get_decisions_for(BENIGN) is None

    with lapi.watcher("agent-inspector", tmp_path) as watcher:
        answer = watcher.get("v1/alerts", params={"ip": ATTACKER})
    assert answer.status_code == 200, answer.text
    [alert] = answer.json()
    assert (alert["machine_id"], alert["scenario"], alert["events_count"], alert["capacity"],
            alert["leakspeed"], alert["simulated"]) == (
        "agent-01", "crowdsecurity/ssh-bf", 6, 5, "10s", False)
    assert alert["source"]["ip"] == ATTACKER
    assert len(alert["scenario_hash"]) == 64
    assert [d["id"] for d in alert["decisions"]] == [decisions[0]["id"]]
    assert len(alert["events"]) == 6
