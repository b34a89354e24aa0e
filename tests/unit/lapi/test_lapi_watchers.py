"""Machine endpoints: registration, login and its token, heartbeat, self-deletion, and the
token dependency (``require_machine``)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import jwt
import pytest
from lapi_helpers import T0, machine_headers
from sqlalchemy import select

from lapi.db.models import Machine
from lapi.machines import delete_machine, validate_machine

AGENT_UA = "crowdsec/v1.4.6-6~deb12u1+b1-linux-debian"
PASSWORD = "Secret-pass-123"
BAD_LOGIN = {"code": 401, "message": "incorrect Username or Password"}


def _login(client, machine_id="agent-01", password=PASSWORD, scenarios=None, **kwargs):
    return client.post("/v1/watchers/login", json={"machine_id": machine_id,
                                                     "password": password,
                                                     "scenarios": scenarios}, **kwargs)


def _machine(lapi, machine_id="agent-01") -> Machine:
    with lapi.database.read_session() as session:
        return session.execute(select(Machine).where(Machine.machine_id == machine_id)).scalar_one()


def test_register_pending_then_validated_login(client, lapi) -> None:
    answer = client.post("/v1/watchers", json={"machine_id": "agent-01", "password": PASSWORD},
                         headers={"User-Agent": AGENT_UA})
    assert answer.status_code == 201
    assert answer.content == b""
    machine = _machine(lapi)
    assert (machine.is_validated, machine.auth_type, machine.ip_address) == \
        (False, "password", "testclient")
    pending = _login(client)
    assert pending.status_code == 401
    assert pending.json() == {"code": 401, "message": "machine agent-01 not validated"}
    with lapi.database.session() as session:
        validate_machine(session, "agent-01")
    answer = _login(client, scenarios=["crowdsecurity/ssh-bf", "crowdsecurity/http-probing"],
                    headers={"User-Agent": AGENT_UA})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    body = answer.json()
    assert set(body) == {"code", "expire", "token"}
    assert body["code"] == 200
    # the fake clock is T0; the token lives one hour (CrowdSec's)
    assert body["expire"] == "2026-11-22T05:07:13Z"
    assert datetime.fromisoformat(body["expire"]) - T0 == timedelta(hours=1)
    claims = jwt.decode(body["token"], options={"verify_signature": False, "verify_exp": False})
    assert claims == {"id": "agent-01", "row": machine.id, "exp": int(T0.timestamp()) + 3600,
                      "orig_iat": int(T0.timestamp())}
    machine = _machine(lapi)
    assert machine.scenarios == "crowdsecurity/ssh-bf,crowdsecurity/http-probing"
    assert machine.version == "v1.4.6-6~deb12u1+b1-linux-debian"
    assert machine.ip_address == "testclient"


def test_duplicate_registration_is_forbidden(client, lapi) -> None:
    body = {"machine_id": "agent-01", "password": PASSWORD}
    assert client.post("/v1/watchers", json=body).status_code == 201
    again = client.post("/v1/watchers", json={"machine_id": "agent-01", "password": "other-pw"})
    assert again.status_code == 403
    assert again.json() == {"message": "user 'agent-01': user already exist"}
    with lapi.database.read_session() as session:
        assert len(session.execute(select(Machine)).all()) == 1


@pytest.mark.parametrize(("body", "message"), [
    ({"machine_id": "", "password": PASSWORD}, "the machine id cannot be empty"),
    ({"machine_id": "m", "password": ""}, "the password cannot be empty"),
    ({"machine_id": "m", "password": "x" * 73}, "the password is too long (72 bytes at most)"),
    ({"machine_id": "m" * 256, "password": PASSWORD},
     "the machine id is too long (255 characters at most)"),
])
def test_unusable_registration_is_400(client, body, message) -> None:
    answer = client.post("/v1/watchers", json=body)
    assert answer.status_code == 400
    assert answer.json() == {"message": message}


@pytest.mark.parametrize("path", ["/v1/watchers", "/v1/watchers/login"])
def test_invalid_json_is_400_and_missing_fields_422(client, path) -> None:
    answer = client.post(path, content=b'{"machine_id": "a", ',
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"message": "invalid JSON body"}
    answer = client.post(path, json={"machine_id": "a"})
    assert answer.status_code == 422
    assert answer.json() == {"message": "body.password: Field required"}
    answer = client.post(path, json={"machine_id": 12, "password": PASSWORD})
    assert answer.status_code == 422
    assert answer.json() == {"message": "body.machine_id: Input should be a valid string"}
    answer = client.post(path, json=["machine_id"])
    assert answer.status_code == 422


def test_login_ignores_an_authorization_header(client, lapi) -> None:
    headers = machine_headers(client, lapi.database)
    for sent in (headers, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic eDp5"}):
        answer = _login(client, headers=sent)
        assert answer.status_code == 200, answer.text
        assert answer.json()["expire"] == "2026-11-22T05:07:13Z"


def test_bad_credentials_are_401_alike(client, lapi) -> None:
    machine_headers(client, lapi.database)
    for machine_id, password in (("agent-01", "wrong"), ("nobody", PASSWORD),
                                 ("agent-01", ""), ("agent-01", "x" * 100), ("", ""),
                                 ("m" * 300, PASSWORD), ("agent-01", PASSWORD.lower())):
        answer = _login(client, machine_id, password)
        assert answer.status_code == 401
        assert answer.json() == BAD_LOGIN


def test_login_keeps_scenarios_when_none_sent_and_follows_the_address(client, lapi) -> None:
    machine_headers(client, lapi.database)
    assert _login(client, scenarios=["a/b"]).status_code == 200
    assert _login(client, scenarios=None, headers={"User-Agent": "no-version"}).status_code == 200
    machine = _machine(lapi)
    assert (machine.scenarios, machine.version) == ("a/b", None)


def test_expired_token_is_refused_on_the_app_clock(client, lapi, clock) -> None:
    headers = machine_headers(client, lapi.database)
    clock.advance(minutes=59, seconds=59)
    assert client.get("/v1/heartbeat", headers=headers).status_code == 200
    clock.advance(seconds=1)
    answer = client.get("/v1/heartbeat", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"code": 401, "message": "token is expired"}
    # logging in again gives a token valid from the new "now"
    body = _login(client).json()
    assert body["expire"] == "2026-11-22T06:07:13Z"
    fresh = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/v1/heartbeat", headers=fresh).status_code == 200


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "auth header is empty"),
    ({"Authorization": ""}, "auth header is empty"),
    ({"Authorization": "Bearer"}, "auth header is invalid"),
    ({"Authorization": "Token abc"}, "auth header is invalid"),
    ({"Authorization": "Bearer not.a.jwt"}, "token is invalid"),
])
def test_missing_or_malformed_token(client, headers, message) -> None:
    answer = client.get("/v1/heartbeat", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"code": 401, "message": message}


def test_forged_and_unsigned_tokens_are_refused(client, lapi) -> None:
    machine_headers(client, lapi.database)
    claims = {"id": "agent-01", "row": _machine(lapi).id, "exp": int(T0.timestamp()) + 3600,
              "orig_iat": int(T0.timestamp())}
    forged = jwt.encode(claims, "x" * 64, algorithm="HS256")
    answer = client.get("/v1/heartbeat", headers={"Authorization": f"Bearer {forged}"})
    assert answer.json() == {"code": 401, "message": "signature is invalid"}
    unsigned = jwt.encode(claims, None, algorithm="none")
    answer = client.get("/v1/heartbeat", headers={"Authorization": f"Bearer {unsigned}"})
    assert answer.status_code == 401
    assert answer.json() == {"code": 401, "message": "token is invalid"}
    # signed with the LAPI's secret but lacking or mistyping claims
    secret = lapi.tokens.secret
    assert client.get("/v1/heartbeat", headers={"Authorization": "Bearer " + jwt.encode(
        claims, secret, algorithm="HS256")}).status_code == 200
    for broken in ({"row": None}, {"row": True}, {"id": 7}, {"id": ""}, {"exp": "soon"},
                   {"row": claims["row"] + 1}):
        token = jwt.encode({**claims, **broken}, secret, algorithm="HS256")
        answer = client.get("/v1/heartbeat", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, broken
    token = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256")
    answer = client.get("/v1/heartbeat", headers={"Authorization": f"Bearer {token}"})
    assert answer.json() == {"code": 401, "message": "token is invalid"}


def test_token_of_a_deleted_machine_is_refused(client, lapi) -> None:
    headers = machine_headers(client, lapi.database)
    with lapi.database.session() as session:
        delete_machine(session, "agent-01")
    answer = client.get("/v1/heartbeat", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"code": 401, "message": "machine not found or not validated"}
    # a new machine with the same id: the old token is not its token
    fresh = machine_headers(client, lapi.database)
    assert client.get("/v1/heartbeat", headers=fresh).status_code == 200
    assert client.get("/v1/heartbeat", headers=headers).json() == \
        {"code": 401, "message": "machine not found or not validated"}


def test_heartbeat_records_the_time(client, lapi, clock) -> None:
    headers = machine_headers(client, lapi.database)
    assert _machine(lapi).last_heartbeat is None
    clock.advance(seconds=60)
    answer = client.get("/v1/heartbeat", headers=headers)
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-length"] == "0"
    assert _machine(lapi).last_heartbeat == T0 + timedelta(seconds=60)


def test_self_delete(client, lapi) -> None:
    headers = machine_headers(client, lapi.database)
    machine_headers(client, lapi.database, "agent-02")
    answer = client.delete("/v1/watchers/self", headers=headers)
    assert answer.status_code == 204
    assert answer.content == b""
    with lapi.database.read_session() as session:
        assert session.execute(select(Machine.machine_id)).scalars().all() == ["agent-02"]
    assert client.delete("/v1/watchers/self", headers=headers).status_code == 401
    assert _login(client).json() == BAD_LOGIN


def test_password_is_hashed_at_rest(client, lapi) -> None:
    assert client.post("/v1/watchers", json={"machine_id": "agent-01",
                                             "password": PASSWORD}).status_code == 201
    with lapi.database.engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(select(Machine.__table__))]
    assert len(rows) == 1
    assert all(PASSWORD not in str(column) for column in rows[0])
    stored = _machine(lapi).password
    assert stored.startswith("$2b$10$") and len(stored) == 60


def test_tokens_survive_a_restart_with_a_shared_secret(settings, clock) -> None:
    from fastapi.testclient import TestClient

    from lapi.app import create_app

    settings.jwt_secret = "s" * 64
    with TestClient(create_app(settings, clock=clock)) as first:
        headers = machine_headers(first, first.app.state.lapi.database)
    with TestClient(create_app(settings, clock=clock)) as second:
        assert second.get("/v1/heartbeat", headers=headers).status_code == 200


def test_without_a_secret_each_app_has_its_own(settings, clock, caplog) -> None:
    from fastapi.testclient import TestClient

    from lapi.app import create_app

    with TestClient(create_app(settings, clock=clock)) as first:
        headers = machine_headers(first, first.app.state.lapi.database)
    assert "no LAPI jwt_secret configured" in caplog.text
    with TestClient(create_app(settings, clock=clock)) as second:
        answer = second.get("/v1/heartbeat", headers=headers)
        assert answer.json() == {"code": 401, "message": "signature is invalid"}



def test_login_records_the_address_forwarded_by_a_trusted_proxy(settings, clock) -> None:
    from fastapi.testclient import TestClient

    from lapi.app import create_app
    from lapi.clientip import parse_networks

    settings.trusted_proxies = parse_networks(["10.0.0.0/8"])
    with TestClient(create_app(settings, clock=clock), client=("10.0.0.2", 5000)) as client:
        lapi = client.app.state.lapi
        machine_headers(client, lapi.database)
        assert _machine(lapi).ip_address == "10.0.0.2"
        assert _login(client, headers={"X-Forwarded-For": "198.51.100.3"}).status_code == 200
        assert _machine(lapi).ip_address == "198.51.100.3"


@pytest.mark.parametrize(("peer", "status"), [("127.0.0.1", 201), ("::1", 201),
                                              ("192.0.2.8", 403)])
def test_remote_registration_can_be_disabled(settings, clock, peer, status) -> None:
    from fastapi.testclient import TestClient

    from lapi.app import create_app

    settings.disable_remote_registration = True
    with TestClient(create_app(settings, clock=clock), client=(peer, 5000)) as client:
        answer = client.post("/v1/watchers", json={"machine_id": "m", "password": PASSWORD})
        assert answer.status_code == status
        if status == 403:
            assert answer.json() == {"message": "access forbidden"}


@pytest.mark.parametrize("path", ["/v1/watchers", "/v1/watchers/login"])
@pytest.mark.parametrize(("field", "value", "reason"), [
    ("machine_id", "a\x00b", "NUL character"),
    ("password", "pw\x00", "NUL character"),
    ("machine_id", "\ud800", "invalid Unicode (lone surrogate)"),
])
def test_unstorable_strings_are_422(client, path, field, value, reason) -> None:
    body = {"machine_id": "m", "password": PASSWORD, field: value}
    answer = client.post(path, content=json.dumps(body),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json() == {"message": f"body.{field}: Value error, {reason}"}


def test_unstorable_scenarios_are_422(client, lapi) -> None:
    machine_headers(client, lapi.database)
    answer = _login(client, scenarios=["ok", "bad\x00"])
    assert answer.status_code == 422
    assert answer.json() == {"message": "body.scenarios.1: Value error, NUL character"}


TOKEN = "auto-registration-token-0123456789abcdef"


@pytest.mark.parametrize(("peer", "token", "status", "message", "validated"), [
    ("10.1.2.3", TOKEN, 202, None, True),
    ("10.1.2.3", None, 201, None, False),                 # no token: pending, as always
    ("192.0.2.8", TOKEN, 401, "IP not in allowed range for auto registration", None),
    ("10.1.2.3", TOKEN[:-1] + "X", 401, "invalid token for auto registration", None),
    ("10.1.2.3", "short", 422, None, None),               # swagger: minLength 32
])
def test_auto_registration(settings, clock, peer, token, status, message, validated) -> None:
    from fastapi.testclient import TestClient

    from lapi.app import create_app
    from lapi.settings import AutoRegistrationSettings

    settings.auto_registration = AutoRegistrationSettings(token=TOKEN,
                                                          allowed_ranges=("10.0.0.0/8",))
    with TestClient(create_app(settings, clock=clock), client=(peer, 5000)) as client:
        body = {"machine_id": "auto-1", "password": PASSWORD}
        if token:
            body["registration_token"] = token
        answer = client.post("/v1/watchers", json=body)
        assert answer.status_code == status, answer.text
        if message:
            assert answer.json() == {"message": message}
        lapi = client.app.state.lapi
        if validated is None:
            with lapi.database.read_session() as session:
                assert session.execute(select(Machine)).first() is None
        else:
            assert _machine(lapi, "auto-1").is_validated is validated
            assert (_login(client, "auto-1").status_code == 200) is validated


def test_registration_token_without_auto_registration_is_pending(client, lapi) -> None:
    answer = client.post("/v1/watchers", json={"machine_id": "m2", "password": PASSWORD,
                                               "registration_token": TOKEN})
    assert answer.status_code == 201
    assert _machine(lapi, "m2").is_validated is False
