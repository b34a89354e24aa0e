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


def test_containing_starts_are_every_enclosing_block() -> None:
    import ipaddress
    import random

    from lapi.iprange import IPRange, containing_starts, parse_ip_range

    assert containing_starts(parse_ip_range("10.1.2.3")) == sorted(
        {f"{int(ipaddress.ip_network(f'10.1.2.3/{p}', strict=False).network_address):032x}"
         for p in range(33)})
    assert containing_starts(IPRange(4, 5, 6)) is None  # not a CIDR block
    rng = random.Random(3)
    for _ in range(200):  # brute force: a block contains the query iff its start is listed
        query = parse_ip_range(f"{ipaddress.IPv4Address(rng.getrandbits(32))}/{rng.randint(8, 32)}")
        starts = set(containing_starts(query))
        for p in range(33):
            block = parse_ip_range(f"{ipaddress.IPv4Address(rng.getrandbits(32))}/{p}")
            if block.contains(query):
                assert block.start_key in starts
            other = parse_ip_range(f"{ipaddress.IPv4Address(query.start)}/{p}")
            assert other.start_key in starts or not other.contains(query)


def test_ip_lookup_seeks_the_address_index_once_statistics_exist(tmp_path) -> None:
    """SQLite without statistics scans every active decision for ``?ip=``; the LAPI's
    periodic sampled ANALYZE makes it seek the address index (PostgreSQL and MariaDB keep
    statistics themselves)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select

    from lapi.db.changes import allocate_change_seq
    from lapi.db.models import Decision
    from lapi.db.session import open_database
    from lapi.decisions import DECISION_COLUMNS, DecisionFilter, active_clauses
    from lapi.iprange import parse_ip_range

    database = open_database(f"sqlite:///{tmp_path / 'plan.db'}")
    now = datetime(2026, 11, 22, tzinfo=UTC)
    rows = []
    for n in range(3000):
        rng = parse_ip_range(f"10.0.{n // 250}.{n % 250}")
        rows.append({"created_at": now, "until": now + timedelta(hours=4), "scenario": "s",
                     "type": "ban", "scope": "Ip", "value": f"10.0.{n // 250}.{n % 250}",
                     "origin": "crowdsec", "simulated": False, "ip_size": 4,
                     "start_ip": rng.start_key, "end_ip": rng.end_key})
    with database.session() as session:
        seq = allocate_change_seq(session)
        session.execute(insert(Decision), [dict(r, created_seq=seq) for r in rows])
    flt = DecisionFilter(ip_range=parse_ip_range("10.0.3.7"))
    stmt = select(*DECISION_COLUMNS).where(*active_clauses(Decision, now), *flt.clauses(Decision))

    def plan() -> str:
        with database.engine.connect() as connection:
            sql = str(stmt.compile(dialect=connection.dialect,
                                   compile_kwargs={"literal_binds": True}))
            return " ".join(r[-1] for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

    database.refresh_statistics()
    assert "USING INDEX ix_decisions_ip (ip_size=? AND start_ip=? AND end_ip>?)" in plan()
    database.dispose()
