"""POST /v1/alerts (JWT) and DELETE /v1/decisions[/{id}] (JWT): what agents and cscli do."""
from lapi_helpers import agent_alert, machine_headers, manual_alert
from sqlalchemy import select

from lapi.db.models import Alert, Machine

DECISIONS = "/v1/decisions"
STREAM = "/v1/decisions/stream"


def stream(client, auth, **params):
    response = client.get(STREAM, params=params, headers=auth)
    assert response.status_code == 200
    return {side: [(d["id"], d["value"]) for d in response.json()[side]]
            for side in ("new", "deleted")}


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
    for method, path in (("POST", "/v1/alerts"), ("DELETE", DECISIONS), ("DELETE", f"{DECISIONS}/1")):
        for headers in ({}, auth, {"Authorization": "Bearer not.a.token"}):
            answer = client.request(method, path, json=[], headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.json()["code"] == 401


def test_delete_by_filter_and_by_id_reach_the_stream_once(client, lapi, auth) -> None:
    jwt = machine_headers(client, lapi.database)
    pushed = client.post("/v1/alerts", json=[
        manual_alert("198.51.100.1"), manual_alert("198.51.100.2"),
        manual_alert("198.51.100.0/24", scope="Range"),
        manual_alert("198.51.100.3", scenario="other", simulated=True)], headers=jwt)
    assert pushed.json() == ["1", "2", "3", "4"]
    assert stream(client, auth, startup="true")["new"] == [
        (1, "198.51.100.1"), (2, "198.51.100.2"), (3, "198.51.100.0/24")]

    # ip=…: the decisions whose range contains it (the /24 too)
    one = client.delete(DECISIONS, params={"ip": "198.51.100.1"}, headers=jwt)
    assert (one.status_code, one.json()) == (200, {"nbDeleted": "2"})
    assert stream(client, auth) == {"new": [], "deleted": [(1, "198.51.100.1"), (3, "198.51.100.0/24")]}
    # by id; again: nothing left to delete
    assert client.delete(f"{DECISIONS}/2", headers=jwt).json() == {"nbDeleted": "1"}
    assert client.delete(f"{DECISIONS}/2", headers=jwt).json() == {"nbDeleted": "0"}
    assert stream(client, auth) == {"new": [], "deleted": [(2, "198.51.100.2")]}
    # exact scenario; simulated decisions are deletable too
    assert client.delete(DECISIONS, params={"scenario": "other"}, headers=jwt).json() == {
        "nbDeleted": "1"}
    assert stream(client, auth) == {"new": [], "deleted": []}
    assert client.get(DECISIONS, params={"ip": "198.51.100.1"}, headers=auth).json() is None


def test_delete_refuses_bad_filters(client, lapi) -> None:
    jwt = machine_headers(client, lapi.database)
    cases = [({"bogus": "1"}, "'bogus' doesn't exist"), ({"ip": "300.1.1.1"}, None),
             ({"contains": "maybe"}, None)]
    for params, message in cases:
        answer = client.delete(DECISIONS, params=params, headers=jwt)
        assert answer.status_code == 400, params
        if message:
            assert answer.json() == {"message": message}
    bad_id = client.delete(f"{DECISIONS}/x1", headers=jwt)
    assert (bad_id.status_code, bad_id.json()) == (400, {"message": "decision_id must be valid integer"})


def test_alerts_read_back_as_cscli_reads_them(client, lapi, clock) -> None:
    jwt = machine_headers(client, lapi.database)
    client.post("/v1/alerts", json=[agent_alert("203.0.113.66")], headers=jwt)
    clock.advance(seconds=20)
    client.post("/v1/alerts", json=[manual_alert("198.51.100.30", at="2026-11-22T04:07:32Z"),
                                    manual_alert("198.51.100.31", simulated=True)], headers=jwt)
    # cscli decisions list: newest first, only alerts with an active decision
    listed = client.get("/v1/alerts", params={"has_active_decision": "true",
                                              "include_capi": "false", "limit": "100"}, headers=jwt)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [2, 1]
    manual = listed.json()[0]
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
    assert agent["events"][0] == {"timestamp": "2026-11-22T04:07:11Z",
                                  "meta": agent_alert()["events"][0]["meta"]}
    assert agent["start_at"] == "2026-11-22 04:07:11 +0000 UTC"
    assert agent["decisions"][0]["duration"] == "3h59m39s"

    def ids(**params):
        answer = client.get("/v1/alerts", params=params, headers=jwt)
        assert answer.status_code == 200, answer.text
        return [a["id"] for a in answer.json() or []]

    assert ids(ip="198.51.100.30") == [2]
    assert ids(range="198.51.100.0/24", contains="false") == [2]
    assert ids(scenario="crowdsecurity/ssh-bf") == [1]
    assert ids(simulated="true") == [3, 2, 1]
    assert ids(since="10s") == [2]
    assert ids(until="10s") == [1]
    assert ids(limit="1") == [2]
    assert ids(decision_type="captcha") == []
    client.delete("/v1/decisions", params={"ip": "198.51.100.30"}, headers=jwt)
    assert ids(has_active_decision="true") == [1]
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
