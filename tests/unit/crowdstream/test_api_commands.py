"""``crowdstream decisions|alerts|lapi status|register``: the cscli-style commands that go
through the HTTP API, against a real `crowdstream lapi` process (SQLite, no Kafka)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from crowdstream.cli import main
from tests.support.config import BASE
from tests.support.crowdsec_clients import Lapi, running_lapi
from tests.support.procs import free_port

PROFILES = Path(__file__).resolve().parents[3] / "crowdstream" / "defaults" / "profiles.yaml"


@pytest.fixture(scope="module")
def lapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lapi]:
    with running_lapi(tmp_path_factory.mktemp("lapi"), PROFILES) as running:
        yield running


def client_config(directory: Path, credentials: Path) -> Path:
    """A client-side config whose ``api.client.credentials_path`` is ``credentials``."""
    path = directory / "client.yaml"
    path.write_text(BASE.format(dir=directory) +
                    f"common:\n  log_level: warning\napi:\n  client:\n"
                    f"    credentials_path: {credentials}\n")
    return path


@pytest.fixture(scope="module")
def cli(lapi: Lapi, tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("client")
    credentials = directory / "creds.yaml"
    lapi.add_machine("cli-user", credentials)
    config = client_config(directory, credentials)

    def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(["-c", str(config), *args])
        out, err = capsys.readouterr()
        return status, out, err
    return run


def stream_values(lapi: Lapi, key: str) -> list[str]:
    answer = httpx.get(f"{lapi.url}v1/decisions/stream", params={"startup": "true"},
                       headers={"X-Api-Key": key})
    return sorted(d["value"] for d in answer.json()["new"])


def test_lapi_status(cli, capsys) -> None:
    status, out, err = cli(capsys, "lapi", "status")
    assert status == 0, err
    assert "You can successfully interact with the Local API (LAPI)" in out


def test_add_list_delete(cli, lapi, capsys) -> None:
    key = lapi.add_bouncer("cmd-bouncer")
    assert cli(capsys, "decisions", "add", "--ip", "192.0.2.10", "-d", "1h")[1] == \
        "Decision successfully added\n"
    assert cli(capsys, "decisions", "add", "--range", "198.51.100.0/24", "-t", "captcha",
               "-R", "office scan")[0] == 0
    status, out, _ = cli(capsys, "decisions", "list", "-o", "json")
    assert status == 0
    decisions = [d for alert in json.loads(out) for d in alert["decisions"]]
    assert sorted((d["value"], d["type"], d["origin"], d["scope"]) for d in decisions) == [
        ("192.0.2.10", "ban", "cscli", "Ip"), ("198.51.100.0/24", "captcha", "cscli", "Range")]
    # an IP inside the range: the range decision only
    out = cli(capsys, "decisions", "list", "--ip", "198.51.100.7", "-o", "raw")[1]
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "source", "ip", "reason", "action", "country", "as",
                       "events_count", "expiration", "simulated", "alert_id"]
    assert [(r[1], r[2], r[3], r[4]) for r in rows[1:]] == [
        ("cscli", "Range:198.51.100.0/24", "office scan", "captcha")]
    human = cli(capsys, "decisions", "list")[1].splitlines()
    assert human[0].split() == ["ID", "Source", "Scope:Value", "Reason", "Action", "Country",
                                "AS", "Events", "Expiration", "Alert", "ID"]
    assert len(human) == 3
    assert stream_values(lapi, key) == ["192.0.2.10", "198.51.100.0/24"]
    assert cli(capsys, "decisions", "delete", "--ip", "192.0.2.10")[1] == "1 decision(s) deleted\n"
    assert stream_values(lapi, key) == ["198.51.100.0/24"]
    status, _, err = cli(capsys, "decisions", "delete")
    assert (status, err) == (1, "crowdstream: give at least one filter, --id or --all\n")
    assert cli(capsys, "decisions", "delete", "--all")[1] == "1 decision(s) deleted\n"
    assert cli(capsys, "decisions", "list")[1] == "No active decisions\n"


def test_import_csv_json_and_values(cli, lapi, capsys, tmp_path) -> None:
    key = lapi.add_bouncer("import-bouncer")
    (tmp_path / "d.csv").write_text("value,duration,type\n203.0.113.1,2h,ban\n"
                                    "203.0.113.2,,captcha\n")
    (tmp_path / "d.json").write_text(json.dumps([{"value": "203.0.113.3", "duration": "1h"}]))
    (tmp_path / "d.txt").write_text("203.0.113.4\n\n203.0.113.5\n")
    for name, count in (("d.csv", 2), ("d.json", 1), ("d.txt", 2)):
        status, out, err = cli(capsys, "decisions", "import", "-i", str(tmp_path / name))
        assert (status, out) == (0, f"Imported {count} decisions\n"), err
    assert stream_values(lapi, key) == [f"203.0.113.{n}" for n in range(1, 6)]
    out = cli(capsys, "decisions", "list", "-o", "json", "--ip", "203.0.113.2")[1]
    (alert,) = json.loads(out)
    assert alert["source"]["scope"] == "cscli/manual-import"
    assert [(d["type"], d["origin"], d["scenario"]) for d in alert["decisions"]
            if d["value"] == "203.0.113.2"] == [("captcha", "cscli-import", "manual")]
    (tmp_path / "bad.csv").write_text("value,type\n,ban\n")
    status, out, err = cli(capsys, "decisions", "import", "-i", str(tmp_path / "bad.csv"))
    assert (status, out) == (1, "")
    assert err == f"crowdstream: {tmp_path / 'bad.csv'}: entry 1: no value\n"


def test_alerts_list_inspect_delete(cli, lapi, capsys) -> None:
    cli(capsys, "decisions", "add", "--ip", "192.0.2.77", "-R", "alert test")
    out = cli(capsys, "alerts", "list", "-o", "json", "--value", "192.0.2.77")[1]
    (alert,) = json.loads(out)
    assert alert["scenario"] == "alert test"
    inspected = json.loads(cli(capsys, "alerts", "inspect", str(alert["id"]), "-o", "json")[1])
    assert (inspected["id"], inspected["source"]["value"]) == (alert["id"], "192.0.2.77")
    human = cli(capsys, "alerts", "inspect", str(alert["id"]))[1]
    assert f" - ID           : {alert['id']}" in human
    assert " - Scope:Value  : Ip:192.0.2.77" in human
    raw = list(csv.reader(io.StringIO(cli(capsys, "alerts", "list", "-o", "raw",
                                          "--value", "192.0.2.77")[1])))
    assert raw[0] == ["id", "scope", "value", "reason", "country", "as", "decisions",
                      "created_at"]
    assert raw[1][:4] + raw[1][6:7] == [str(alert["id"]), "Ip", "192.0.2.77", "alert test",
                                         "ban:1"]
    assert cli(capsys, "alerts", "delete", "--id", str(alert["id"]))[1] == "1 alert(s) deleted\n"
    status, _, err = cli(capsys, "alerts", "inspect", str(alert["id"]))
    assert status == 1
    assert err == (f"crowdstream: GET /v1/alerts/{alert['id']}: HTTP 404: object not found\n")


def test_wrong_password_and_unreachable_lapi(lapi, capsys, tmp_path) -> None:
    creds = tmp_path / "bad.yaml"
    creds.write_text(yaml.safe_dump({"url": lapi.url, "login": "cli-user", "password": "nope"}))
    config = client_config(tmp_path, creds)
    assert main(["-c", str(config), "lapi", "status"]) == 1
    assert capsys.readouterr().err == ("crowdstream: POST /v1/watchers/login: HTTP 401: "
                                       "incorrect Username or Password\n")
    port = free_port()
    creds.write_text(yaml.safe_dump({"url": f"http://127.0.0.1:{port}", "login": "x",
                                     "password": "y"}))
    assert main(["-c", str(config), "decisions", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"crowdstream: cannot reach the LAPI at http://127.0.0.1:{port}/: ")
    assert err.count("\n") == 1


def test_register_then_validate(lapi, capsys, tmp_path) -> None:
    creds = tmp_path / "registered.yaml"
    config = client_config(tmp_path, creds)
    url = lapi.url.rstrip("/")
    assert main(["-c", str(config), "lapi", "register", "--machine", "agent-7", "-u", url]) == 0
    err = capsys.readouterr().err
    assert "Run 'crowdstream machines validate agent-7' on the LAPI" in err
    written = yaml.safe_load(creds.read_text())
    assert (written["url"], written["login"]) == (url, "agent-7")
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    assert main(["-c", str(config), "lapi", "status"]) == 1  # pending
    capsys.readouterr()
    lapi.cli("machines", "validate", "agent-7")
    assert main(["-c", str(config), "lapi", "status"]) == 0
