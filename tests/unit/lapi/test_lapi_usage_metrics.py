"""POST /v1/usage-metrics: log processors (machine token) and remediation components
(bouncer key) push snapshots; the swagger's schema is enforced (422), one item of the
sender's kind is required (400), and nothing is stored from a refused push."""
import copy

import orjson
from lapi_helpers import machine_headers
from sqlalchemy import select

from lapi.db.models import Bouncer, Machine, UsageMetric

PATH = "/v1/usage-metrics"

# what crowdsec-blocklist-import 3.9.0 sent (OBSERVED-REQUESTS.md)
LOG_PROCESSOR = {"log_processors": [{
    "datasources": {}, "feature_flags": [], "hub_items": {}, "metrics": [],
    "os": {"family": "debian", "name": "debian", "version": "12"},
    "utc_startup_timestamp": 1795320525, "version": "3.9.0"}]}

BOUNCER = {"remediation_components": [{
    "version": "v0.0.31", "type": "crowdsec-firewall-bouncer", "utc_startup_timestamp": 1795320000,
    "os": {"name": "debian", "version": "12"}, "feature_flags": [],
    "metrics": [{"meta": {"window_size_seconds": 1800, "utc_now_timestamp": 1795321800},
                 "items": [{"name": "dropped", "value": 12, "unit": "packet",
                            "labels": {"origin": "CAPI", "ip_type": "ipv4"}}]}]}]}


def _rows(database) -> list[tuple]:
    with database.read_session() as session:
        rows = session.execute(select(UsageMetric).order_by(UsageMetric.id)).scalars()
        return [(r.generated_type, r.generated_by, r.received_at, orjson.loads(r.payload),
                 r.pushed_at) for r in rows]


def test_log_processor_push_is_stored(client, lapi, clock) -> None:
    jwt = machine_headers(client, lapi.database)
    answer = client.post(PATH, json=LOG_PROCESSOR, headers=jwt)
    assert (answer.status_code, answer.content) == (201, b"")
    assert _rows(lapi.database) == [("LP", "agent-01", clock.now, {
        "datasources": {}, "feature_flags": [], "hub_items": {}, "metrics": [],
        "os": {"family": "debian", "name": "debian", "version": "12"},
        "utc_startup_timestamp": 1795320525, "version": "3.9.0"}, None)]
    with lapi.database.read_session() as session:
        assert session.execute(select(Machine.version)).scalar_one() == "3.9.0"


def test_bouncer_push_is_stored(client, lapi, auth, clock) -> None:
    answer = client.post(PATH, json=BOUNCER, headers=auth)
    assert (answer.status_code, answer.content) == (201, b"")
    assert _rows(lapi.database) == [("RC", "b1", clock.now, {
        "version": "v0.0.31", "type": "crowdsec-firewall-bouncer",
        "utc_startup_timestamp": 1795320000, "os": {"name": "debian", "version": "12"},
        "feature_flags": [],
        "metrics": [{"meta": {"window_size_seconds": 1800, "utc_now_timestamp": 1795321800},
                     "items": [{"name": "dropped", "value": 12.0, "unit": "packet",
                                "labels": {"origin": "CAPI", "ip_type": "ipv4"}}]}]}, None)]
    with lapi.database.read_session() as session:
        row = session.execute(select(Bouncer.version, Bouncer.type)).one()
        assert tuple(row) == ("v0.0.31", "crowdsec-firewall-bouncer")


def test_authentication(client, lapi, auth) -> None:
    assert client.post(PATH, json=BOUNCER).status_code == 403
    assert client.post(PATH, json=BOUNCER, headers={"X-Api-Key": "wrong"}).status_code == 403
    bad_token = client.post(PATH, json=LOG_PROCESSOR, headers={"Authorization": "Bearer x.y.z"})
    assert (bad_token.status_code, bad_token.json()["code"]) == (401, 401)
    agent = client.post(PATH, json=LOG_PROCESSOR, headers={"User-Agent": "crowdsec/v1.6.0"})
    assert agent.status_code == 401
    # authentication comes before the body is looked at
    assert client.post(PATH, json={"log_processors": "x"}).status_code == 403
    assert _rows(lapi.database) == []


def _with(body: dict, key: str, **changes) -> dict:
    changed = copy.deepcopy(body)
    changed[key][0].update(changes)
    return changed


def test_refused_pushes_store_nothing(client, lapi, auth) -> None:
    jwt = machine_headers(client, lapi.database)
    lp_item = LOG_PROCESSOR["log_processors"][0]
    refused = [
        (jwt, BOUNCER, 400, "Missing log processor data"),
        (jwt, {"log_processors": [lp_item, lp_item]}, 400,
         "Payload has more than one log processor"),
        (auth, LOG_PROCESSOR, 400, "Missing remediation component data"),
        (jwt, _with(LOG_PROCESSOR, "log_processors", version="v\x00"), 400,
         "NUL character in payload"),
    ]
    for headers, body, status, message in refused:
        answer = client.post(PATH, json=body, headers=headers)
        assert (answer.status_code, answer.json()) == (status, {"message": message})
    off_schema = [
        {"log_processors": [{k: v for k, v in lp_item.items() if k != "version"}]},
        {"log_processors": [{k: v for k, v in lp_item.items() if k != "hub_items"}]},
        _with(LOG_PROCESSOR, "log_processors", utc_startup_timestamp="1795320525"),
        _with(LOG_PROCESSOR, "log_processors", utc_startup_timestamp=1.5),
        _with(LOG_PROCESSOR, "log_processors", version="v" * 256),
        _with(LOG_PROCESSOR, "log_processors", os={"name": "debian"}),
        _with(LOG_PROCESSOR, "log_processors", datasources={"file": "one"}),
        _with(LOG_PROCESSOR, "log_processors", metrics=[{"meta": {
            "window_size_seconds": 1, "utc_now_timestamp": 2},
            "items": [{"name": "x", "value": 1}]}]),  # no unit
        [LOG_PROCESSOR],
    ]
    for body in off_schema:
        answer = client.post(PATH, json=body, headers=jwt)
        assert answer.status_code == 422, body
        assert answer.json()["message"]
    surrogate = client.post(PATH, content=b'{"log_processors": [{"version": "\\ud800",'
                            b' "utc_startup_timestamp": 1, "hub_items": {}, "datasources": {}}]}',
                            headers={**jwt, "content-type": "application/json"})
    assert (surrogate.status_code, surrogate.json()) == (422, {
        "message": "body.log_processors.0.version: Input should be a valid string, unable to "
                   "parse raw data as a unicode string"})
    bad_json = client.post(PATH, content=b"{", headers={**jwt, "content-type": "application/json"})
    assert (bad_json.status_code, bad_json.json()) == (400, {"message": "invalid JSON body"})
    assert _rows(lapi.database) == []
