"""The alert endpoints (JWT): POST /v1/alerts as agents, cscli and blocklist-import push,
GET|HEAD /v1/alerts with CrowdSec's filters, GET|HEAD /v1/alerts/{id}, and DELETE
/v1/alerts[/{id}] (trusted addresses), whose decisions reach bouncers as deleted once."""
import copy
import json
import warnings

from lapi_helpers import stream_pairs as stream, agent_alert, machine_headers, manual_alert
from sqlalchemy import func, select

from lapi.db.models import Alert, Decision, Event, Machine

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

DECISIONS = "/v1/decisions"


def test_push_stores_alerts_once_with_profile_decisions(client, lapi, auth, clock) -> None:
    jwt = machine_headers(client, lapi.database)
    alerts = [agent_alert("203.0.113.66"), agent_alert("203.0.113.67")]
    first = client.post("/v1/alerts", json=alerts, headers=jwt)
    assert (first.status_code, first.json()) == (201, ["1", "2"])
    # an agent retry (or a redelivery) is the same alerts: same ids, no second decision
    again = client.post("/v1/alerts", json=alerts[:1], headers=jwt)
    assert (again.status_code, again.json()) == (201, ["1"])
    answer = client.get(DECISIONS, params={"ip": "203.0.113.66"}, headers=auth).json()
    assert [(d["value"], d["type"], d["duration"]) for d in answer] == [
        ("203.0.113.66", "ban", "3h59m59s")]
    with lapi.database.read_session() as session:
        assert session.execute(select(Alert.machine_id)).scalars().all() == ["agent-01"] * 2
        assert session.execute(select(Machine.last_push)).scalar_one() == clock.now


def test_push_refuses_bad_input_and_stores_nothing(client, lapi) -> None:
    jwt = machine_headers(client, lapi.database)
    bad_json = client.post("/v1/alerts", content=b"[{", headers={**jwt, "content-type": "application/json"})
    assert (bad_json.status_code, bad_json.json()) == (400, {"message": "invalid JSON body"})
    not_a_list = client.post("/v1/alerts", json={"scenario": "x"}, headers=jwt)
    assert not_a_list.status_code == 422
    invalid = agent_alert("203.0.113.68", start_at="yesterday")
    answer = client.post("/v1/alerts", json=[agent_alert("203.0.113.69"), invalid], headers=jwt)
    assert answer.status_code == 422
    assert "start_at" in answer.json()["message"]
    with lapi.database.read_session() as session:
        assert session.execute(select(Alert.id)).all() == []


def test_machine_endpoints_need_a_machine_token(client, auth) -> None:
    for method, path in (("POST", "/v1/alerts"), ("GET", "/v1/alerts"), ("HEAD", "/v1/alerts"),
                         ("DELETE", "/v1/alerts"), ("GET", "/v1/alerts/1"),
                         ("HEAD", "/v1/alerts/1"), ("DELETE", "/v1/alerts/1")):
        for headers in ({}, auth, {"Authorization": "Bearer not.a.token"}):
            answer = client.request(method, path, json=[], headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            if method != "HEAD":
                assert answer.json()["code"] == 401


def test_alerts_read_back_as_cscli_reads_them(client, lapi, clock) -> None:
    jwt = machine_headers(client, lapi.database)
    client.post("/v1/alerts", json=[agent_alert("203.0.113.66")], headers=jwt)
    clock.advance(seconds=20)
    client.post("/v1/alerts", json=[manual_alert("198.51.100.30", at="2026-11-22T04:07:32Z"),
                                    manual_alert("198.51.100.31", simulated=True)], headers=jwt)
    # cscli decisions list: newest first, only alerts with an active decision; simulated
    # ones too (CrowdSec drops them only for simulated=false, cscli's --no-simu)
    listed = client.get("/v1/alerts", params={"has_active_decision": "true",
                                              "include_capi": "false", "limit": "100"}, headers=jwt)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [3, 2, 1]
    manual = listed.json()[1]
    assert manual == {
        "capacity": 0, "created_at": "2026-11-22T04:07:33Z",
        "decisions": [{"duration": "59m59s", "id": 2, "origin": "cscli", "scenario": "test",
                       "scope": "Ip", "simulated": False, "type": "ban", "value": "198.51.100.30"}],
        "events": None, "events_count": 1, "id": 2, "labels": None, "leakspeed": "0",
        "machine_id": "agent-01", "message": "test", "scenario": "test", "scenario_hash": "",
        "scenario_version": "", "simulated": False,
        "source": {"scope": "Ip", "value": "198.51.100.30"},
        "start_at": "2026-11-22 04:07:32 +0000 UTC", "stop_at": "2026-11-22 04:07:32 +0000 UTC",
        "uuid": "manual-Ip-198.51.100.30-ban-1h-cscli"}
    agent = client.get("/v1/alerts/1", headers=jwt).json()
    assert agent["events"][0] == {"timestamp": "2026-11-22 04:07:11 +0000 UTC",
                                  "meta": agent_alert()["events"][0]["meta"]}
    assert agent["start_at"] == "2026-11-22 04:07:11 +0000 UTC"
    assert agent["decisions"][0]["duration"] == "3h59m39s"

    def ids(**params):
        answer = client.get("/v1/alerts", params=params, headers=jwt)
        assert answer.status_code == 200, answer.text
        return [a["id"] for a in answer.json() or []]

    assert ids(ip="198.51.100.30") == [2]
    assert ids(range="198.51.100.0/24", contains="false") == [3, 2]
    assert ids(scenario="crowdsecurity/ssh-bf") == [1]
    assert ids(simulated="true") == [3, 2, 1]
    assert ids(simulated="false") == [2, 1]
    # since/until: by start time (alert 2 started 04:07:32, 3 at 04:07:13, 1 at 04:07:11)
    assert ids(since="10s") == [2]
    assert ids(until="10s") == [3, 1]
    assert ids(limit="1") == [3]
    assert ids(decision_type="captcha") == []
    client.delete("/v1/decisions", params={"ip": "198.51.100.30"}, headers=jwt)
    assert ids(has_active_decision="true") == [3, 1]
    assert client.get("/v1/alerts", params={"scope": "Country"}, headers=jwt).json() is None


def test_alert_queries_refuse_bad_input(client, lapi) -> None:
    jwt = machine_headers(client, lapi.database)
    for params in ({"bogus": "1"}, {"since": "yesterday"}, {"limit": "-1"}, {"ip": "1.2.3"},
                   {"has_active_decision": "maybe"}):
        answer = client.get("/v1/alerts", params=params, headers=jwt)
        assert answer.status_code == 400, params
        assert answer.json()["message"]
    assert client.get("/v1/alerts/99", headers=jwt).json() == {"message": "object not found"}
    assert client.get("/v1/alerts/99", headers=jwt).status_code == 404
    assert client.get("/v1/alerts/x", headers=jwt).status_code == 400
    assert client.get("/v1/alerts").status_code == 401


# what cscli decisions import and crowdsec-blocklist-import 3.9.0 posted (OBSERVED-REQUESTS.md)
CSCLI_IMPORT = {
    "capacity": 0, "created_at": "2026-11-22T04:07:34Z",
    "decisions": [{"duration": "1h", "origin": "cscli-import", "scenario": "manual", "scope": "Ip",
                   "simulated": False, "type": "ban", "value": v}
                  for v in ("198.51.100.31", "198.51.100.32")],
    "events": [], "events_count": 2, "labels": None, "leakspeed": "", "message": "",
    "scenario": "add: 2 IPs", "scenario_hash": "", "scenario_version": "", "simulated": False,
    "source": {"scope": "cscli/manual-import", "value": ""},
    "start_at": "2026-11-22T04:07:34Z", "stop_at": "2026-11-22T04:07:34Z"}
BLOCKLIST_IMPORT = {
    "capacity": 0,
    "decisions": [{"duration": "2h", "origin": "blocklist-import", "scenario": "external/blocklist",
                   "scope": scope, "type": "ban", "value": value}
                  for scope, value in (("Ip", "192.0.2.50"), ("Range", "203.0.113.128/25"))],
    "events": [], "events_count": 1, "labels": None, "leakspeed": "0",
    "message": "external_blocklist", "scenario": "external/blocklist", "scenario_hash": "",
    "scenario_version": "", "simulated": False, "source": {"scope": "Ip", "value": "0.0.0.0"},
    "start_at": "2026-11-22T04:08:45.000Z", "stop_at": "2026-11-22T04:08:45.000Z"}


def test_cscli_and_blocklist_imports_are_stored(client, lapi, auth) -> None:
    jwt = machine_headers(client, lapi.database)
    pushed = client.post("/v1/alerts", json=[CSCLI_IMPORT, BLOCKLIST_IMPORT], headers=jwt)
    assert (pushed.status_code, pushed.json()) == (201, ["1", "2"])
    decisions = client.get(DECISIONS, headers=auth).json()
    assert [(d["value"], d["origin"], d["scenario"], d["duration"]) for d in decisions] == [
        ("198.51.100.31", "cscli-import", "manual", "1h0m21s"),
        ("198.51.100.32", "cscli-import", "manual", "1h0m21s"),
        ("192.0.2.50", "blocklist-import", "external/blocklist", "2h1m32s"),
        ("203.0.113.128/25", "blocklist-import", "external/blocklist", "2h1m32s")]
    imported = client.get("/v1/alerts/1", headers=jwt).json()
    assert imported["source"] == {"scope": "cscli/manual-import", "value": ""}
    assert (imported["scenario"], imported["leakspeed"], imported["machine_id"]) == (
        "add: 2 IPs", "", "agent-01")
    # cscli decisions list --ip: found through the decision, not the alert's source
    ids = [a["id"] for a in client.get("/v1/alerts", params={
        "has_active_decision": "true", "ip": "203.0.113.200"}, headers=jwt).json()]
    assert ids == [2]


def _post(client, jwt, *alerts) -> list[int]:
    answer = client.post("/v1/alerts", json=list(alerts), headers=jwt)
    assert answer.status_code == 201, answer.text
    return [int(i) for i in answer.json()]


def test_alert_filters_as_crowdsec(client, lapi, clock) -> None:
    jwt = machine_headers(client, lapi.database)
    assert _post(client, jwt,
                 agent_alert("203.0.113.66", kind="leaky"),                         # 1
                 manual_alert("198.51.100.7"),                                      # 2
                 manual_alert("192.0.2.60", origin="CAPI",
                              scenario="crowdsecurity/community-blocklist"),        # 3
                 manual_alert("192.0.2.61", origin="lists", scenario="firehol"),    # 4
                 agent_alert("203.0.113.67", remediation=False),                    # 5
                 copy.deepcopy(CSCLI_IMPORT)) == [1, 2, 3, 4, 5, 6]
    # 7: a decision-less alert from a blocklist, pushed later
    clock.advance(seconds=30)
    listed = agent_alert("192.0.2.62", remediation=False)
    listed["source"] = {"scope": "lists:firehol", "value": "192.0.2.62"}
    assert _post(client, jwt, listed) == [7]
    # 8: from the alerts topic (no owner machine)
    assert lapi.ingest([agent_alert("203.0.113.68")]) == [8]

    def ids(**params):
        answer = client.get("/v1/alerts", params=params, headers=jwt)
        assert answer.status_code == 200, answer.text
        return [a["id"] for a in answer.json() or []]

    assert ids() == [8, 7, 6, 5, 4, 3, 2, 1]
    assert ids(sort="ASC", limit="3") == [1, 2, 3]
    assert ids(limit="0") == [8, 7, 6, 5, 4, 3, 2, 1]
    assert ids(include_capi="false") == [8, 6, 5, 2, 1]
    assert ids(include_capi="true") == ids()
    assert ids(origin="CAPI", include_capi="false") == [3]
    assert ids(origin="cscli-import") == [6]
    assert ids(has_active_decision="false") == [7, 5]
    assert ids(scope="ip", value="203.0.113.66") == [1]
    assert ids(scope="lists:firehol") == [7]
    assert ids(scenario="manual") == [6]  # a decision's scenario
    assert ids(scenario="add: 2 IPs") == [6]  # the alert's
    assert ids(kind="leaky") == [1]
    assert ids(created_before="10s") == [6, 5, 4, 3, 2, 1]
    assert ids(decision_type="ban", with_decisions="true") == [8, 6, 4, 3, 2, 1]
    assert ids(range="192.0.2.0/24", contains="false") == [4, 3]
    assert ids(ip="2001:db8::1") == []
    machines = {a["id"]: a["machine_id"] for a in client.get("/v1/alerts", headers=jwt).json()}
    assert (machines[8], machines[1]) == ("N/A", "agent-01")
    head = client.head("/v1/alerts", params={"scope": "Ip"}, headers=jwt)
    assert (head.status_code, head.content) == (200, b"")
    for params in ({"sort": "up"}, {"contains": "maybe"}, {"simulated": "maybe"},
                   {"include_capi": "maybe"}, {"until": "1x"}, {"created_before": "-"},
                   {"range": "192.0.2.0/33"}, {"limit": "1.5"}):
        answer = client.get("/v1/alerts", params=params, headers=jwt)
        assert answer.status_code == 400, params
        assert answer.json()["message"]
        assert client.head("/v1/alerts", params=params, headers=jwt).status_code == 400
    assert client.head("/v1/alerts/1", headers=jwt).status_code == 200
    assert client.head("/v1/alerts/99", headers=jwt).status_code == 404


def test_deleted_alerts_end_their_decisions_once(client, lapi, auth) -> None:
    jwt = machine_headers(client, lapi.database)
    local = TestClient(client.app, client=("127.0.0.1", 40000))
    assert _post(client, jwt, agent_alert("203.0.113.66"), manual_alert("198.51.100.7"),
                 manual_alert("198.51.100.0/24", scope="Range"),
                 manual_alert("192.0.2.1")) == [1, 2, 3, 4]
    assert [d for d, _ in stream(client, auth, startup="true")["new"]] == [1, 2, 3, 4]

    # from an untrusted address: refused, as CrowdSec
    far = client.delete("/v1/alerts", headers=jwt)
    assert (far.status_code, far.json()) == (
        403, {"message": "access forbidden from this IP (testclient)"})
    assert client.delete("/v1/alerts/1", headers=jwt).status_code == 403

    by_ip = local.delete("/v1/alerts", params={"ip": "198.51.100.7"}, headers=jwt)
    assert (by_ip.status_code, by_ip.json()) == (200, {"nbDeleted": "2"})
    assert stream(client, auth) == {
        "new": [], "deleted": [(2, "198.51.100.7"), (3, "198.51.100.0/24")]}
    assert stream(client, auth) == {"new": [], "deleted": []}
    assert client.get("/v1/alerts/2", headers=jwt).status_code == 404

    by_id = local.delete("/v1/alerts/1", headers=jwt)
    assert (by_id.status_code, by_id.json()) == (200, {"nbDeleted": "1"})
    again = local.delete("/v1/alerts/1", headers=jwt)
    assert (again.status_code, again.json()) == (404, {"message": "object not found"})
    assert stream(client, auth) == {"new": [], "deleted": [(1, "203.0.113.66")]}

    # a decision already deleted is not reported again when its alert goes
    assert client.delete(f"{DECISIONS}/4", headers=jwt).json() == {"nbDeleted": "1"}
    assert stream(client, auth) == {"new": [], "deleted": [(4, "192.0.2.1")]}
    everything = local.delete("/v1/alerts", headers=jwt)
    assert (everything.status_code, everything.json()) == (200, {"nbDeleted": "1"})
    assert stream(client, auth) == {"new": [], "deleted": []}
    assert client.get("/v1/alerts", headers=jwt).json() is None

    with lapi.database.read_session() as session:
        assert session.execute(select(func.count()).select_from(Event)).scalar() == 0
        kept = session.execute(select(Decision.id, Decision.alert_id).order_by(Decision.id)).all()
        assert [tuple(row) for row in kept] == [(1, None), (2, None), (3, None), (4, None)]
    for params in ({"bogus": "1"}, {"ip": "x"}):
        assert local.delete("/v1/alerts", params=params, headers=jwt).status_code == 400
    assert local.delete("/v1/alerts/x", headers=jwt).status_code == 400


def test_push_refuses_text_no_database_stores(client, lapi) -> None:
    jwt = machine_headers(client, lapi.database)
    refused = [
        (manual_alert("192.0.2.1", scenario="te\x00st"), "'scenario' holds a NUL character"),
        ({**manual_alert("192.0.2.2"), "uuid": "a\x00"}, "'uuid' holds a NUL character"),
        (agent_alert("192.0.2.3", message="a\ud800b"),
         "'message' is not valid Unicode (lone surrogate)"),
        ({**manual_alert("192.0.2.4"), "labels": ["\ud800"]},
         "'labels' is not valid Unicode (lone surrogate)"),
        (agent_alert("192.0.2.5", events=[{"meta": [{"key": "k", "value": "\ud800"}]}]),
         "'meta' is not valid Unicode (lone surrogate)"),
    ]
    for alert, reason in refused:
        # stdlib json escapes lone surrogates (\ud800), as a client's JSON encoder may
        answer = client.post("/v1/alerts", content=json.dumps([alert]).encode(),
                             headers={**jwt, "content-type": "application/json"})
        assert (answer.status_code, answer.json()) == (422, {"message": f"alert #0: {reason}"})
    # a NUL inside an event's meta is kept: it is stored escaped in the event's JSON
    kept = agent_alert("192.0.2.6", events=[{"meta": [{"key": "k", "value": "a\x00b"}],
                                             "timestamp": "2026-11-22T04:07:11Z"}])
    assert client.post("/v1/alerts", json=[kept], headers=jwt).json() == ["1"]
    assert client.get("/v1/alerts/1", headers=jwt).json()["events"] == [
        {"meta": [{"key": "k", "value": "a\x00b"}], "timestamp": "2026-11-22 04:07:11 +0000 UTC"}]
