"""crowdsec-custom-bouncer 0.0.15 against our LAPI: it runs its script with
``add <ip> <duration> <reason> <json>`` for a new ban and ``del ...`` once it is deleted."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.crowdsec_clients import Clients, Lapi, ban_alert, running_bouncer, wait_for

IP = "192.0.2.51"
SCENARIO = "interop/custom-bouncer"

RECORDER = """#!{python}
import json, sys
with open({calls!r}, "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def _calls(path: Path) -> list[list[str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def bouncer(crowdsec: Clients, lapi: Lapi, tmp_path: Path) -> Iterator[Path]:
    """The bouncer running against ``lapi``; yields the file its script appends its
    arguments to (one JSON list per call)."""
    calls = tmp_path / "calls.jsonl"
    script = tmp_path / "record.py"
    script.write_text(RECORDER.format(python=sys.executable, calls=str(calls)))
    script.chmod(0o755)
    config = tmp_path / "crowdsec-custom-bouncer.yaml"
    config.write_text(f"""
bin_path: {script}
feed_via_stdin: false
total_retries: 0
scenarios_containing: []
scenarios_not_containing: []
origins: []
piddir: {tmp_path}
update_frequency: 1s
cache_retention_duration: 10s
daemonize: false
log_mode: file
log_dir: {tmp_path}
log_level: info
api_url: {lapi.url}
api_key: {lapi.add_bouncer("custom-bouncer")}
prometheus:
  enabled: false
""")
    with running_bouncer([str(crowdsec.bin("crowdsec-custom-bouncer")), "-c", str(config)],
                         tmp_path / "crowdsec-custom-bouncer.log"):
        yield calls


def test_ban_then_deletion_run_the_script(lapi: Lapi, bouncer: Path, tmp_path: Path) -> None:
    with lapi.watcher("custom-bouncer-driver", tmp_path) as watcher:
        pushed = watcher.post("v1/alerts", json=[ban_alert(IP, scenario=SCENARIO)])
        assert pushed.status_code == 201, pushed.text

        calls = wait_for(lambda: _calls(bouncer), "the bouncer's add call")
        assert len(calls) == 1
        action, value, duration, reason, decision = calls[0]
        assert (action, value, reason) == ("add", IP, SCENARIO)
        assert 3590 <= int(duration) <= 3600
        decision = json.loads(decision)
        assert (decision["value"], decision["scope"], decision["type"], decision["origin"],
                decision["scenario"]) == (IP, "Ip", "ban", "cscli", SCENARIO)

        deleted = watcher.delete("v1/decisions", params={"ip": IP})
        assert (deleted.status_code, deleted.json()) == (200, {"nbDeleted": "1"})

    calls = wait_for(lambda: _calls(bouncer)[1:], "the bouncer's del call")
    assert len(calls) == 1
    action, value, _, reason, decision = calls[0]
    assert (action, value, reason) == ("del", IP, SCENARIO)
    assert json.loads(decision)["id"] == json.loads(_calls(bouncer)[0][4])["id"]
