"""DELETE /v1/decisions (CrowdSec's filter: ip/range with contains, scopes, value, type,
origin, scenario, uuid) and DELETE /v1/decisions/{id}, JWT only: deleting ends the decisions
now (simulated ones too) and bouncers get each one under ``deleted`` exactly once."""
from lapi_helpers import stream_pairs as stream, machine_headers, manual_alert
from sqlalchemy import select

from lapi.db.models import Decision

DECISIONS = "/v1/decisions"


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
    missing = client.delete(f"{DECISIONS}/99", headers=jwt)
    assert (missing.status_code, missing.json()) == (
        404, {"message": "decision with id '99' doesn't exist"})
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



def test_delete_by_each_filter(client, lapi, auth, clock) -> None:
    jwt = machine_headers(client, lapi.database)
    client.post("/v1/alerts", json=[
        manual_alert("192.0.2.1"),                                        # 1
        manual_alert("192.0.2.2", type_="captcha"),                       # 2
        manual_alert("192.0.2.3", origin="cscli-import"),                 # 3
        manual_alert("192.0.2.0/28", scope="Range"),                      # 4
        manual_alert("2001:db8::1"),                                      # 5
        manual_alert("2001:db8::/48", scope="Range"),                     # 6
        manual_alert("FR", scope="Country"),                              # 7
        manual_alert("192.0.2.9", scenario="crowdsecurity/ssh-bf"),       # 8
    ], headers=jwt)
    assert len(stream(client, auth, startup="true", scopes="ip,range,country")["new"]) == 8

    def delete(**params) -> str:
        answer = client.delete(DECISIONS, params=params, headers=jwt)
        assert answer.status_code == 200, answer.text
        return answer.json()["nbDeleted"]

    assert delete(type="captcha") == "1"                              # 2
    assert delete(origin="cscli-import") == "1"                       # 3
    assert delete(scopes="country", value="FR") == "1"                # 7 (scope normalised)
    assert delete(scenario="crowdsecurity/ssh") == "0"                # exact scenario only
    assert delete(scenario="crowdsecurity/ssh-bf") == "1"             # 8
    # contains=false: the decisions inside the range, not the range holding it
    assert delete(range="2001:db8::/32", contains="false") == "2"     # 5, 6
    with lapi.database.read_session() as session:
        uuid = session.execute(select(Decision.uuid).where(Decision.id == 1)).scalar_one()
    assert delete(uuid=uuid) == "1"                                   # 1
    assert delete() == "1"                                            # 4: no filter, all
    assert delete() == "0"
    assert stream(client, auth, scopes="ip,range,country")["deleted"] == [
        (1, "192.0.2.1"), (2, "192.0.2.2"), (3, "192.0.2.3"), (4, "192.0.2.0/28"),
        (5, "2001:db8::1"), (6, "2001:db8::/48"), (7, "FR"), (8, "192.0.2.9")]
    assert stream(client, auth, scopes="ip,range,country") == {"new": [], "deleted": []}
    # deleting set the end to now: the decisions show a zero time left, then negative
    with lapi.database.read_session() as session:
        ends = set(session.execute(select(Decision.deleted_at)).scalars())
    assert ends == {clock.now}


def test_delete_needs_a_machine_token(client, lapi, auth) -> None:
    jwt = machine_headers(client, lapi.database)
    client.post("/v1/alerts", json=[manual_alert("192.0.2.1")], headers=jwt)
    for path in (DECISIONS, f"{DECISIONS}/1"):
        for headers in ({}, auth, {"Authorization": "Bearer not.a.token"}):
            answer = client.delete(path, headers=headers)
            assert (answer.status_code, answer.json()["code"]) == (401, 401), (path, headers)
    assert stream(client, auth, startup="true")["new"] == [(1, "192.0.2.1")]
