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
