"""GET /v1/decisions and /health: CrowdSec wire shapes and status codes."""
import pytest
from lapi_helpers import agent_alert, manual_alert
from prometheus_client import REGISTRY

RANGE_V4 = manual_alert("1.2.3.0/24", scope="Range", duration="4h", scenario="interop range test")
RANGE_V6 = manual_alert("2001:db8::/32", scope="Range", duration="4h", scenario="v6 range")
IP_V6 = manual_alert("2001:db8::1", duration="2h", scenario="v6 ip")


def _values(response):
    assert response.status_code == 200
    body = response.json()
    return None if body is None else [d["value"] for d in body]


def test_health(client) -> None:
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_decision_shape_and_duration(client, lapi, auth, clock) -> None:
    lapi.ingest([agent_alert()])
    clock.advance(seconds=1, microseconds=500)  # 04:07:14.0005, until 08:07:12
    response = client.get("/v1/decisions", params={"ip": "203.0.113.66"}, headers=auth)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == [{
        "duration": "3h59m57.9995s", "id": 1, "origin": "crowdsec",
        "scenario": "crowdsecurity/ssh-bf", "scope": "Ip", "type": "ban",
        "value": "203.0.113.66",
    }]


def test_no_match_is_null(client, lapi, auth) -> None:
    lapi.ingest([agent_alert()])
    response = client.get("/v1/decisions", params={"ip": "203.0.113.67"}, headers=auth)
    assert (response.status_code, response.text) == (200, "null")


def test_ip_exact_and_range_containment(client, lapi, auth) -> None:
    lapi.ingest([agent_alert("1.2.3.4"), RANGE_V4, agent_alert("1.2.4.1")])
    assert _values(client.get("/v1/decisions", params={"ip": "1.2.3.4"}, headers=auth)) == \
        ["1.2.3.4", "1.2.3.0/24"]
    assert _values(client.get("/v1/decisions", params={"ip": "1.2.3.200"}, headers=auth)) == \
        ["1.2.3.0/24"]
    assert _values(client.get("/v1/decisions", params={"ip": "1.2.4.1"}, headers=auth)) == \
        ["1.2.4.1"]
    assert _values(client.get("/v1/decisions", params={"ip": "1.2.2.255"},
                              headers=auth)) is None
    # range=… with contains=false: the decisions inside it
    assert _values(client.get("/v1/decisions", params={"range": "1.2.0.0/16", "contains": "false"},
                              headers=auth)) == ["1.2.3.4", "1.2.3.0/24", "1.2.4.1"]
    assert _values(client.get("/v1/decisions", params={"range": "1.2.3.0/25"}, headers=auth)) == \
        ["1.2.3.0/24"]


def test_ipv6_containment_and_families_do_not_mix(client, lapi, auth) -> None:
    lapi.ingest([RANGE_V6, IP_V6, agent_alert("1.2.3.4"),
                 manual_alert("::/0", scope="Range", scenario="all v6")])
    assert _values(client.get("/v1/decisions", params={"ip": "2001:db8::1"}, headers=auth)) == \
        ["2001:db8::/32", "2001:db8::1", "::/0"]
    assert _values(client.get("/v1/decisions", params={"ip": "2001:db8:ffff::1"},
                              headers=auth)) == ["2001:db8::/32", "::/0"]
    assert _values(client.get("/v1/decisions", params={"ip": "2001:db9::1"}, headers=auth)) == \
        ["::/0"]
    # an IPv4 address (also written IPv4-mapped) never matches an IPv6 range
    assert _values(client.get("/v1/decisions", params={"ip": "1.2.3.4"}, headers=auth)) == \
        ["1.2.3.4"]
    assert _values(client.get("/v1/decisions", params={"ip": "::ffff:1.2.3.4"}, headers=auth)) == \
        ["1.2.3.4"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ip": "1.2.3.999"}, "invalid ip or range '1.2.3.999'"),
        ({"ip": ""}, "invalid ip or range ''"),
        ({"range": "1.2.3.0/33"}, "invalid ip or range '1.2.3.0/33'"),
        ({"ip": "1.2.3.4", "contains": "maybe"}, "invalid contains value 'maybe'"),
        ({"limit": "ten"}, "invalid limit value 'ten'"),
        ({"limit": "-1"}, "invalid limit value '-1'"),
        ({"limit": "99999999999999999999"}, "invalid limit value '99999999999999999999'"),
        ({"value": "a\x00b"}, "invalid query parameter 'value': NUL character"),
    ],
)
def test_malformed_query_is_400_with_a_reason(client, auth, params, message) -> None:
    response = client.get("/v1/decisions", params=params, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_filters_and_limit(client, lapi, auth) -> None:
    lapi.ingest([
        agent_alert("198.51.100.1"),
        manual_alert("198.51.100.2", type_="captcha", origin="cscli"),
        manual_alert("alice", scope="Username", origin="cscli"),
        manual_alert("198.51.100.3", origin="cscli-import", scenario="manual"),
        manual_alert("198.51.100.4", simulated=True),
    ])
    get = lambda **params: _values(client.get("/v1/decisions", params=params, headers=auth))  # noqa: E731
    assert get() == ["198.51.100.1", "198.51.100.2", "alice", "198.51.100.3"]
    assert get(limit="1") == ["198.51.100.1"]
    assert get(limit="2", offset="1") == ["198.51.100.2", "alice"]
    assert get(type="captcha") == ["198.51.100.2"]
    assert get(scope="Username") == ["alice"]
    assert get(scope="username") is None  # only ip/range/as/country are case-normalised
    assert get(scope="ip", value="198.51.100.3") == ["198.51.100.3"]
    assert get(origins="cscli-import,crowdsec") == ["198.51.100.1", "198.51.100.3"]
    assert get(scenarios_containing="SSH,manual") == ["198.51.100.1", "198.51.100.3"]
    assert get(scenarios_not_containing="test") == ["198.51.100.1", "198.51.100.3"]
    assert get(simulated="true", ip="198.51.100.4") == ["198.51.100.4"]


def test_expired_decisions_are_not_served(client, lapi, auth, clock) -> None:
    lapi.ingest([manual_alert("198.51.100.9", duration="10s")])
    assert _values(client.get("/v1/decisions", headers=auth)) == ["198.51.100.9"]
    clock.advance(seconds=9)  # stop_at 04:07:13 + 10s
    assert _values(client.get("/v1/decisions", headers=auth)) == ["198.51.100.9"]
    clock.advance(seconds=1)
    assert _values(client.get("/v1/decisions", headers=auth)) is None


def test_head_and_metrics(client, lapi, auth) -> None:
    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ok = sample("cs_lapi_decisions_ok_total", bouncer="b1")
    ko = sample("cs_lapi_decisions_ko_total", bouncer="b1")
    route = sample("cs_lapi_route_requests_total", route="/v1/decisions", method="GET")
    lapi.ingest([agent_alert()])
    head = client.head("/v1/decisions", headers=auth)
    assert (head.status_code, head.content) == (200, b"")
    client.get("/v1/decisions", params={"ip": "192.0.2.1"}, headers=auth)
    assert sample("cs_lapi_decisions_ok_total", bouncer="b1") == ok + 1
    assert sample("cs_lapi_decisions_ko_total", bouncer="b1") == ko + 1
    assert sample("cs_lapi_route_requests_total", route="/v1/decisions", method="GET") == route + 1
    assert client.get("/nope").json() == {"message": "Not Found"}


def test_active_decisions_gauge(lapi, clock) -> None:
    lapi.ingest([agent_alert("198.51.100.1"), agent_alert("198.51.100.2"),
                 manual_alert("198.51.100.3", duration="1s")])
    known = lapi.refresh_active_decisions(set())
    labels = {"reason": "crowdsecurity/ssh-bf", "origin": "crowdsec", "action": "ban"}
    assert REGISTRY.get_sample_value("cs_active_decisions", labels) == 2
    clock.advance(hours=5)
    lapi.refresh_active_decisions(known)
    assert REGISTRY.get_sample_value("cs_active_decisions", labels) == 0
