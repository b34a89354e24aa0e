"""cscli 1.4.6 against our LAPI: status, decisions (add, list, delete, import), alerts (list,
inspect) and machine registration."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.crowdsec_clients import Clients, Lapi, crowdsec_config, run

MANUAL = "manual 'ban' from 'cscli'"


@pytest.fixture(scope="module")
def config(crowdsec: Clients, lapi: Lapi, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cscli")
    lapi.add_machine("cscli", directory / "local_api_credentials.yaml")
    return crowdsec_config(crowdsec, directory)


@pytest.fixture(scope="module")
def bouncer_key(lapi: Lapi) -> str:
    return lapi.add_bouncer("cscli-checker")


def cscli(crowdsec: Clients, config: Path, *args: str) -> str:
    """cscli's standard output; its log lines (standard error) are checked by the callers."""
    return run(crowdsec.bin("cscli"), "-c", str(config), *args).stdout


def cscli_log(crowdsec: Clients, config: Path, *args: str) -> str:
    return run(crowdsec.bin("cscli"), "-c", str(config), *args).stderr


def bouncer_view(lapi: Lapi, key: str, ip: str) -> list[dict] | None:
    answer = httpx.get(f"{lapi.url}v1/decisions", params={"ip": ip}, headers={"X-Api-Key": key})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_lapi_status(crowdsec: Clients, config: Path) -> None:
    log = cscli_log(crowdsec, config, "lapi", "status")
    assert "Trying to authenticate with username cscli on" in log
    assert "You can successfully interact with Local API (LAPI)" in log


def test_decisions_add_list_delete(crowdsec: Clients, config: Path, lapi: Lapi,
                                   bouncer_key: str) -> None:
    ip = "192.0.2.11"
    assert "Decision successfully added" in cscli_log(crowdsec, config, "decisions", "add",
                                                      "-i", ip)
    [alert] = json.loads(cscli(crowdsec, config, "decisions", "list", "-i", ip, "-o", "json"))
    [decision] = alert["decisions"]
    assert (alert["scenario"], alert["machine_id"], alert["source"]) == (
        MANUAL, "cscli", {"ip": ip, "scope": "Ip", "value": ip})
    assert (decision["value"], decision["scope"], decision["type"], decision["origin"],
            decision["scenario"], decision["simulated"]) == (
        ip, "Ip", "ban", "cscli", MANUAL, False)
    assert decision["duration"].startswith("3h59m")
    [seen] = bouncer_view(lapi, bouncer_key, ip)
    assert (seen["id"], seen["type"], seen["scenario"]) == (decision["id"], "ban", MANUAL)

    assert "1 decision(s) deleted" in cscli_log(crowdsec, config, "decisions", "delete", "-i", ip)
    assert cscli(crowdsec, config, "decisions", "list", "-i", ip, "-o", "json") == "null"
    assert bouncer_view(lapi, bouncer_key, ip) is None
    assert "0 decision(s) deleted" in cscli_log(crowdsec, config, "decisions", "delete", "-i", ip)


def test_decisions_add_with_duration_type_and_reason(crowdsec: Clients, config: Path, lapi: Lapi,
                                                     bouncer_key: str) -> None:
    cscli_log(crowdsec, config, "decisions", "add", "-r", "198.51.100.0/24", "-d", "30m",
              "-t", "captcha", "-R", "range test")
    [seen] = bouncer_view(lapi, bouncer_key, "198.51.100.200")
    assert (seen["value"], seen["scope"], seen["type"], seen["scenario"], seen["origin"]) == (
        "198.51.100.0/24", "Range", "captcha", "range test", "cscli")
    assert seen["duration"].startswith("29m")


def test_decisions_import(crowdsec: Clients, config: Path, lapi: Lapi, bouncer_key: str,
                          tmp_path: Path) -> None:
    csv = tmp_path / "decisions.csv"
    csv.write_text("value,duration,reason\n192.0.2.21,2h,import test\n192.0.2.22,,\n")
    log = cscli_log(crowdsec, config, "decisions", "import", "-i", str(csv))
    assert "2 decisions successfully imported" in log

    alerts = json.loads(cscli(crowdsec, config, "alerts", "list", "-o", "json"))
    [alert] = [a for a in alerts if a["source"]["scope"] == "cscli/manual-import"]
    assert (alert["scenario"], alert["source"], alert["machine_id"]) == (
        "add: 2 IPs", {"scope": "cscli/manual-import", "value": ""}, "cscli")
    decisions = sorted(alert["decisions"], key=lambda d: d["value"])
    assert [(d["value"], d["type"], d["origin"], d["scenario"]) for d in decisions] == [
        ("192.0.2.21", "ban", "cscli-import", "import test"),
        ("192.0.2.22", "ban", "cscli-import", "manual")]
    assert decisions[0]["duration"].startswith("1h59m")
    assert decisions[1]["duration"].startswith("3h59m")
    assert [d["id"] for d in bouncer_view(lapi, bouncer_key, "192.0.2.22")] == [decisions[1]["id"]]


def test_alerts_list_and_inspect(crowdsec: Clients, config: Path, lapi: Lapi) -> None:
    ip = "192.0.2.31"
    cscli_log(crowdsec, config, "decisions", "add", "-i", ip, "-R", "inspect me")
    [listed] = json.loads(cscli(crowdsec, config, "alerts", "list", "-i", ip, "-o", "json"))
    inspected = json.loads(cscli(crowdsec, config, "alerts", "inspect", str(listed["id"]),
                                 "-o", "json"))
    for alert in (listed, inspected):
        assert (alert["scenario"], alert["message"], alert["source"], alert["events_count"]) == (
            "inspect me", "inspect me", {"ip": ip, "scope": "Ip", "value": ip}, 1)
        assert [(d["value"], d["scenario"]) for d in alert["decisions"]] == [(ip, "inspect me")]
    assert inspected["id"] == listed["id"]
    assert inspected["decisions"][0]["id"] == listed["decisions"][0]["id"]
    assert inspected["start_at"] == listed["start_at"]
    assert inspected["start_at"].endswith(" +0000 UTC")


def test_lapi_register_then_validate(crowdsec: Clients, config: Path, lapi: Lapi,
                                     tmp_path: Path) -> None:
    credentials = tmp_path / "registered.yaml"
    log = cscli_log(crowdsec, config, "lapi", "register", "--url", lapi.url.rstrip("/"),
                    "--machine", "registered-agent", "-f", str(credentials))
    assert "Successfully registered to Local API (LAPI)" in log
    creds = yaml.safe_load(credentials.read_text())
    assert (creds["url"], creds["login"]) == (lapi.url, "registered-agent")
    login = {"machine_id": creds["login"], "password": creds["password"]}

    pending = httpx.post(f"{lapi.url}v1/watchers/login", json=login)
    assert pending.status_code == 401, pending.text
    assert pending.json()["code"] == 401

    lapi.cli("machines", "validate", "registered-agent")
    answer = httpx.post(f"{lapi.url}v1/watchers/login", json=login)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == 200

    # and cscli itself works with the new credentials
    (tmp_path / "new").mkdir()
    new_config = crowdsec_config(crowdsec, tmp_path / "new")
    (tmp_path / "new" / "local_api_credentials.yaml").write_text(credentials.read_text())
    status = cscli_log(crowdsec, new_config, "lapi", "status")
    assert "Trying to authenticate with username registered-agent on" in status
    assert "You can successfully interact with Local API (LAPI)" in status
