"""Allowlists: the DB functions, the JWT endpoints (swagger shapes), and CrowdSec's
semantics: agent alerts on an allowlisted source are dropped, alerts carrying their own
decisions are not, and adding items ends the decisions they cover (once in the stream)."""
from datetime import timedelta

import pytest
from lapi_helpers import T0, agent_alert, machine_headers, manual_alert
from sqlalchemy import func, select

from lapi.allowlists import (
    AllowlistError,
    AllowlistNotFound,
    NewItem,
    add_items,
    allowlisted_by,
    create_allowlist,
    delete_allowlist,
    remove_items,
)
from lapi.db.models import Alert, AllowListItem, Decision

CHECK = "/v1/allowlists/check"


def _lists(database, now=T0) -> None:
    """corp: a /24 (with a description) and an IPv6 address; partners: an address for
    20 minutes and one already expired."""
    with database.session() as session:
        create_allowlist(session, "corp", now, description="office networks")
        create_allowlist(session, "partners", now)
        add_items(session, "corp", [NewItem("192.0.2.0/24", "hq"), NewItem("2001:db8::1")], now)
        add_items(session, "partners", [
            NewItem("192.0.2.10", expires_at=now + timedelta(minutes=20)),
            NewItem("198.51.100.5", expires_at=now - timedelta(seconds=1)),
        ], now)


def _stream(client, auth, **params):
    answer = client.get("/v1/decisions/stream", params=params, headers=auth)
    assert answer.status_code == 200
    return {side: [(d["id"], d["value"]) for d in answer.json()[side]]
            for side in ("new", "deleted")}


def test_check_one_value(client, lapi, clock) -> None:
    _lists(lapi.database)
    jwt = machine_headers(client, lapi.database)

    def check(value: str):
        answer = client.get(f"{CHECK}/{value}", headers=jwt)
        return answer.status_code, answer.json()

    assert check("192.0.2.10") == (200, {
        "allowlisted": True, "reason": "192.0.2.0/24 from corp (hq), 192.0.2.10 from partners"})
    # a range holding allowlisted values, and one inside an allowlisted range
    assert check("192.0.0.0%2F16") == (200, {
        "allowlisted": True, "reason": "192.0.2.0/24 from corp (hq), 192.0.2.10 from partners"})
    assert check("192.0.2.128/25") == (200, {
        "allowlisted": True, "reason": "192.0.2.0/24 from corp (hq)"})
    assert check("2001:db8::1") == (200, {"allowlisted": True, "reason": "2001:db8::1 from corp"})
    assert check("::ffff:192.0.2.1") == (200, {
        "allowlisted": True, "reason": "192.0.2.0/24 from corp (hq)"})
    assert check("198.51.100.5") == (200, {"allowlisted": False})  # expired
    assert check("192.0.3.1") == (200, {"allowlisted": False})
    assert check("2001:db8::2") == (200, {"allowlisted": False})
    assert check("not-an-ip")[0] == 400
    assert "invalid ip or range" in check("not-an-ip")[1]["message"]
    assert client.head(f"{CHECK}/192.0.2.10", headers=jwt).status_code == 200
    assert client.head(f"{CHECK}/192.0.3.1", headers=jwt).status_code == 204
    assert client.head(f"{CHECK}/1.2.3.4.5", headers=jwt).status_code == 400

    clock.advance(minutes=30)  # partners' item expired
    assert check("192.0.2.10") == (200, {
        "allowlisted": True, "reason": "192.0.2.0/24 from corp (hq)"})


def test_check_in_bulk(client, lapi) -> None:
    _lists(lapi.database)
    jwt = machine_headers(client, lapi.database)
    answer = client.post(CHECK, json={"targets": ["192.0.2.1", "203.0.113.1", "2001:db8::1"]},
                         headers=jwt)
    assert (answer.status_code, answer.json()) == (200, {"results": [
        {"allowlists": ["192.0.2.0/24 from corp (hq)"], "target": "192.0.2.1"},
        {"allowlists": ["2001:db8::1 from corp"], "target": "2001:db8::1"},
    ]})
    none = client.post(CHECK, json={"targets": ["203.0.113.1"]}, headers=jwt)
    assert (none.status_code, none.json()) == (200, {"results": []})
    empty = client.post(CHECK, json={"targets": []}, headers=jwt)
    assert (empty.status_code, empty.json()) == (400, {"message": "targets list cannot be empty"})
    assert client.post(CHECK, json={}, headers=jwt).status_code == 422
    assert client.post(CHECK, json={"targets": [1]}, headers=jwt).status_code == 422
    assert client.post(CHECK, json={"targets": ["x"]}, headers=jwt).status_code == 400
    bad_json = client.post(CHECK, content=b"{", headers={**jwt, "content-type": "application/json"})
    assert (bad_json.status_code, bad_json.json()) == (400, {"message": "invalid JSON body"})


def test_list_and_get_shapes(client, lapi, clock) -> None:
    _lists(lapi.database)
    jwt = machine_headers(client, lapi.database)
    corp = {"created_at": "2026-11-22T04:07:13.000Z", "description": "office networks",
            "items": [], "name": "corp", "updated_at": "2026-11-22T04:07:13.000Z"}
    partners = {"created_at": "2026-11-22T04:07:13.000Z", "items": [], "name": "partners",
                "updated_at": "2026-11-22T04:07:13.000Z"}
    listed = client.get("/v1/allowlists", headers=jwt)
    assert (listed.status_code, listed.json()) == (200, [corp, partners])

    corp_items = [
        {"created_at": "2026-11-22T04:07:13.000Z", "description": "hq",
         "expiration": "0001-01-01T00:00:00.000Z", "value": "192.0.2.0/24"},
        {"created_at": "2026-11-22T04:07:13.000Z", "expiration": "0001-01-01T00:00:00.000Z",
         "value": "2001:db8::1"},
    ]
    partner_items = [{"created_at": "2026-11-22T04:07:13.000Z",
                      "expiration": "2026-11-22T04:27:13.000Z", "value": "192.0.2.10"}]
    full = client.get("/v1/allowlists", params={"with_content": "true"}, headers=jwt).json()
    assert full == [{**corp, "items": corp_items}, {**partners, "items": partner_items}]

    one = client.get("/v1/allowlists/partners", params={"with_content": "true"}, headers=jwt)
    assert (one.status_code, one.json()) == (200, {**partners, "items": partner_items})
    assert client.get("/v1/allowlists/partners", headers=jwt).json() == partners
    # only "true" asks for the content, as CrowdSec reads it
    one_is_not_true = client.get("/v1/allowlists/corp", params={"with_content": "1"}, headers=jwt)
    assert one_is_not_true.json() == corp
    missing = client.get("/v1/allowlists/nope", headers=jwt)
    assert (missing.status_code, missing.json()) == (404, {"message": "allowlist 'nope' not found"})
    assert client.get("/v1/allowlists/no%00pe", headers=jwt).status_code == 404
    assert client.head("/v1/allowlists/corp", headers=jwt).status_code == 200
    assert client.head("/v1/allowlists/nope", headers=jwt).status_code == 404

    clock.advance(minutes=30)  # expired items are not listed
    assert client.get("/v1/allowlists/partners", params={"with_content": "true"},
                      headers=jwt).json() == partners


def test_endpoints_need_a_machine_token(client, lapi, auth) -> None:
    _lists(lapi.database)
    requests = (("GET", "/v1/allowlists"), ("GET", "/v1/allowlists/corp"),
                ("HEAD", "/v1/allowlists/corp"), ("GET", f"{CHECK}/192.0.2.1"),
                ("HEAD", f"{CHECK}/192.0.2.1"), ("POST", CHECK))
    for method, path in requests:
        for headers in ({}, auth, {"Authorization": "Bearer not.a.token"}):
            answer = client.request(method, path, json={"targets": ["192.0.2.1"]}, headers=headers)
            assert answer.status_code == 401, (method, path, headers)


def test_agent_alerts_on_allowlisted_sources_are_dropped(client, lapi, auth) -> None:
    _lists(lapi.database)
    jwt = machine_headers(client, lapi.database)
    alerts = [agent_alert("192.0.2.7"), agent_alert("203.0.113.66"), agent_alert("2001:db8::1")]
    pushed = client.post("/v1/alerts", json=alerts, headers=jwt)
    assert (pushed.status_code, pushed.json()) == (201, ["1"])
    # alerts bringing their own decisions (cscli decisions add) are taken as they come
    manual = client.post("/v1/alerts", json=[manual_alert("192.0.2.8")], headers=jwt)
    assert (manual.status_code, manual.json()) == (201, ["2"])
    # the alerts-topic path is the same ingestion
    assert lapi.ingest([agent_alert("192.0.2.9"), agent_alert("203.0.113.67")]) == [3]
    with lapi.database.read_session() as session:
        rows = session.execute(select(Alert.id, Alert.source_value).order_by(Alert.id)).all()
        assert [tuple(r) for r in rows] == [
            (1, "203.0.113.66"), (2, "192.0.2.8"), (3, "203.0.113.67")]
    assert _stream(client, auth, startup="true") == {"new": [
        (1, "203.0.113.66"), (2, "192.0.2.8"), (3, "203.0.113.67")], "deleted": []}


def test_adding_items_ends_covered_decisions_once(client, lapi, auth) -> None:
    jwt = machine_headers(client, lapi.database)
    client.post("/v1/alerts", json=[
        manual_alert("203.0.113.7"), manual_alert("203.0.113.0/24", scope="Range"),
        manual_alert("203.0.113.200"), manual_alert("198.51.100.9"),
        manual_alert("2001:db8::5", type_="captcha")], headers=jwt)
    assert [d for d, _ in _stream(client, auth, startup="true")["new"]] == [1, 2, 3, 4, 5]
    with lapi.database.session() as session:
        create_allowlist(session, "ops", T0)
        # the address itself and the range holding it end; 203.0.113.200 stays
        assert add_items(session, "ops", [NewItem("203.0.113.7"), NewItem("2001:db8::/64")],
                         T0) == (2, 3)
    assert _stream(client, auth) == {"new": [], "deleted": [
        (1, "203.0.113.7"), (2, "203.0.113.0/24"), (5, "2001:db8::5")]}
    assert _stream(client, auth) == {"new": [], "deleted": []}
    with lapi.database.session() as session:  # nothing more to end
        assert add_items(session, "ops", [NewItem("203.0.113.7"), NewItem("192.0.2.1")],
                         T0) == (1, 0)
    left = client.get("/v1/decisions", headers=auth).json()
    assert [d["value"] for d in left] == ["203.0.113.200", "198.51.100.9"]


def test_db_functions(database) -> None:
    now = T0
    with database.session() as session:
        create_allowlist(session, "a", now, description="first")
        with pytest.raises(AllowlistError, match="allowlist 'a' already exists"):
            create_allowlist(session, "a", now)
        with pytest.raises(AllowlistError, match="invalid allowlist name"):
            create_allowlist(session, "", now)
        with pytest.raises(AllowlistError, match="invalid ip or range"):
            add_items(session, "a", [NewItem("10.0.0.1"), NewItem("10.0.0.300")], now)
        with pytest.raises(AllowlistNotFound, match="allowlist 'b' not found"):
            add_items(session, "b", [NewItem("10.0.0.1")], now)
        assert add_items(session, "a", [NewItem("10.0.0.1"), NewItem("10.0.0.1"),
                                        NewItem("10.1.0.0/16")], now) == (2, 0)
    with database.session() as session:
        assert allowlisted_by(session, "10.1.2.3", now) == ["10.1.0.0/16 from a"]
        with pytest.raises(ValueError):
            allowlisted_by(session, "10.1.2.3/33", now)
        assert remove_items(session, "a", ["10.1.0.0/16", "10.9.9.9"], now) == 1
        assert allowlisted_by(session, "10.1.2.3", now) == []
        delete_allowlist(session, "a")
        with pytest.raises(AllowlistNotFound):
            delete_allowlist(session, "a")
    with database.read_session() as session:
        assert session.execute(select(func.count()).select_from(AllowListItem)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Decision)).scalar() == 0
