"""GET /v1/decisions/stream: per-bouncer cursor, exactly-once new/deleted."""
import threading
import time
from datetime import timedelta

from lapi_helpers import T0, agent_alert, manual_alert

from lapi.bouncers import add_bouncer
from lapi.db.changes import allocate_change_seq
from lapi.db.models import Decision
from lapi.decisions import DecisionFilter, expire_decisions
from lapi.iprange import parse_ip_range

STREAM = "/v1/decisions/stream"


def pull(client, auth, **params):
    response = client.get(STREAM, params=params, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"new", "deleted"}
    return body


def ids(body, side):
    return [d["id"] for d in body[side]]


def test_startup_then_nothing_then_expiry_once(client, lapi, auth, clock) -> None:
    lapi.ingest([agent_alert()])  # until 08:07:12
    first = pull(client, auth, startup="true", scopes="ip,range")
    assert first == {"new": [{
        "duration": "3h59m59s", "id": 1, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf",
        "scope": "Ip", "type": "ban", "value": "203.0.113.66"}], "deleted": []}
    assert pull(client, auth) == {"new": [], "deleted": []}
    clock.now = T0.replace(hour=8, minute=7, second=13, microsecond=85_348)
    expired = pull(client, auth, startup="false", scopes="ip,range")
    assert expired == {"new": [], "deleted": [{
        "duration": "-1.085348s", "id": 1, "origin": "crowdsec",
        "scenario": "crowdsecurity/ssh-bf", "scope": "Ip", "type": "ban",
        "value": "203.0.113.66"}]}
    assert pull(client, auth) == {"new": [], "deleted": []}
    clock.advance(hours=1)
    assert pull(client, auth) == {"new": [], "deleted": []}


def test_decision_inserted_between_pulls_appears_once(client, lapi, auth, clock) -> None:
    lapi.ingest([agent_alert("198.51.100.10")])
    assert ids(pull(client, auth, startup="true"), "new") == [1]
    clock.advance(seconds=5)
    lapi.ingest([agent_alert("198.51.100.11"), agent_alert("198.51.100.12")])
    assert pull(client, auth) == {"new": [
        {"duration": "3h59m54s", "id": 2, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf",
         "scope": "Ip", "type": "ban", "value": "198.51.100.11"},
        {"duration": "3h59m54s", "id": 3, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf",
         "scope": "Ip", "type": "ban", "value": "198.51.100.12"}], "deleted": []}
    assert pull(client, auth) == {"new": [], "deleted": []}


def test_first_pull_without_startup_is_a_full_sync(client, lapi, auth) -> None:
    lapi.ingest([agent_alert("198.51.100.10"), agent_alert("198.51.100.11",
                 start_at="2020-01-01T00:00:00Z", stop_at="2020-01-01T00:00:00Z")])
    body = pull(client, auth)  # crowdsec-custom-bouncer's later pulls have no query string
    assert (ids(body, "new"), ids(body, "deleted")) == ([1], [2])
    assert pull(client, auth) == {"new": [], "deleted": []}


def test_deleted_decision_appears_once_under_deleted(client, lapi, auth, clock) -> None:
    lapi.ingest([manual_alert("198.51.100.30")])
    assert ids(pull(client, auth, startup="true"), "new") == [1]
    clock.advance(seconds=30)
    with lapi.database.session() as session:
        assert expire_decisions(session, clock(), flt=DecisionFilter(
            ip_range=parse_ip_range("198.51.100.30"))) == 1
    clock.advance(seconds=1, microseconds=85_348)
    body = pull(client, auth)
    assert body["new"] == []
    assert [(d["id"], d["duration"]) for d in body["deleted"]] == [(1, "-1.085348s")]
    assert pull(client, auth) == {"new": [], "deleted": []}
    clock.advance(hours=2)  # its original expiry passes: not reported again
    assert pull(client, auth) == {"new": [], "deleted": []}


def test_created_and_gone_between_pulls_is_never_sent(client, lapi, auth, clock) -> None:
    assert pull(client, auth, startup="true") == {"new": [], "deleted": []}
    lapi.ingest([manual_alert("198.51.100.40", duration="10s")])
    clock.advance(seconds=11)
    assert pull(client, auth) == {"new": [], "deleted": []}
    lapi.ingest([manual_alert("198.51.100.41")])
    with lapi.database.session() as session:
        expire_decisions(session, clock(), ids=[2])
    assert pull(client, auth) == {"new": [], "deleted": []}


def test_late_commit_with_smaller_id_and_older_timestamp_is_not_lost(client, lapi, auth,
                                                                    clock) -> None:
    """PostgreSQL/MySQL: a transaction takes its id and created_at, another one commits a
    bigger id first, a bouncer pulls, then the first commits. An id or timestamp cursor
    loses it (CrowdSec 1.4.6); the change sequence, allocated in commit order, does not."""
    taken_at = clock()
    clock.advance(seconds=1)
    lapi.ingest([manual_alert("198.51.100.51")])  # id 1
    with lapi.database.session() as session:  # id 11: committed first
        seq = allocate_change_seq(session)
        session.add(_decision(11, "198.51.100.52", seq, created_at=taken_at))
    assert ids(pull(client, auth, startup="true"), "new") == [1, 11]
    clock.advance(seconds=1)
    with lapi.database.session() as session:  # id 10, older created_at: committed last
        seq = allocate_change_seq(session)
        session.add(_decision(10, "198.51.100.53", seq, created_at=taken_at))
    assert ids(pull(client, auth), "new") == [10]
    assert pull(client, auth) == {"new": [], "deleted": []}


def _decision(id_, ip, seq, *, created_at, hours=1):
    rng = parse_ip_range(ip)
    return Decision(id=id_, created_at=created_at, until=created_at + timedelta(hours=hours),
                    scenario="race", type="ban", scope="Ip", value=ip, origin="cscli",
                    simulated=False, ip_size=rng.size, start_ip=rng.start_key,
                    end_ip=rng.end_key, created_seq=seq)


def test_commit_racing_a_pull_is_delivered_exactly_once(client, lapi, auth) -> None:
    """A real concurrent writer: its transaction is open (and committed) while a pull runs."""
    pull(client, auth, startup="true")
    results = []
    with lapi.database.session() as session:  # holds the write lock until the block ends
        from lapi.ingest import ingest_alerts
        ingest_alerts(session, [agent_alert("198.51.100.60")], lapi.profiles, lapi.clock())
        puller = threading.Thread(target=lambda: results.append(pull(client, auth)))
        puller.start()
        time.sleep(0.3)  # the pull reads now (WAL: not blocked), its cursor write waits
    puller.join(10)
    results.append(pull(client, auth))
    results.append(pull(client, auth))
    delivered = [d["value"] for body in results for d in body["new"]]
    assert delivered == ["198.51.100.60"]
    assert all(body["deleted"] == [] for body in results)


def test_one_decision_per_key_the_longest(client, lapi, auth, clock) -> None:
    lapi.ingest([agent_alert("198.51.100.70")])  # 4h, id 1
    lapi.ingest([manual_alert("198.51.100.70", duration="1h")])  # 1h, id 2
    assert ids(pull(client, auth, startup="true"), "new") == [1]
    lapi.ingest([manual_alert("198.51.100.70", duration="8h", uuid="longer")])  # id 3
    assert ids(pull(client, auth), "new") == [3]
    with lapi.database.session() as session:
        expire_decisions(session, clock(), ids=[3])
    # 1 and 2 still ban the IP: no deletion for it
    assert pull(client, auth) == {"new": [], "deleted": []}
    clock.advance(hours=1)  # 2 expires, 1 still active
    assert pull(client, auth) == {"new": [], "deleted": []}
    clock.advance(hours=3)  # 1 expires: the IP is free, one entry
    body = pull(client, auth)
    assert (body["new"], [d["value"] for d in body["deleted"]]) == ([], ["198.51.100.70"])
    assert pull(client, auth) == {"new": [], "deleted": []}


def test_scopes_origins_and_simulated(client, lapi, auth) -> None:
    lapi.ingest([
        agent_alert("198.51.100.80"),
        manual_alert("1.2.3.0/24", scope="Range"),
        manual_alert("alice", scope="Username"),
        manual_alert("198.51.100.81", simulated=True),
    ])
    assert [d["value"] for d in pull(client, auth, startup="true")["new"]] == \
        ["198.51.100.80", "1.2.3.0/24"]
    body = pull(client, auth, startup="true", scopes="ip,range,Username", origins="cscli")
    assert [d["value"] for d in body["new"]] == ["1.2.3.0/24", "alice"]
    body = pull(client, auth, startup="true", scenarios_not_containing="ssh")
    assert [d["value"] for d in body["new"]] == ["1.2.3.0/24"]


def test_cursors_are_per_bouncer(client, lapi, auth) -> None:
    with lapi.database.session() as session:
        other = {"X-Api-Key": add_bouncer(session, "b2")}
    lapi.ingest([agent_alert("198.51.100.90")])
    assert ids(pull(client, auth, startup="true"), "new") == [1]
    lapi.ingest([agent_alert("198.51.100.91")])
    assert ids(pull(client, other), "new") == [1, 2]
    assert ids(pull(client, auth), "new") == [2]
    assert pull(client, other) == {"new": [], "deleted": []}


def test_startup_resends_everything_and_head_does_not_move_the_cursor(client, lapi, auth) -> None:
    lapi.ingest([agent_alert("198.51.100.95")])
    pull(client, auth, startup="true")
    assert ids(pull(client, auth, startup="true"), "new") == [1]
    lapi.ingest([agent_alert("198.51.100.96")])
    head = client.head(STREAM, headers=auth)
    assert (head.status_code, head.content) == (200, b"")
    assert ids(pull(client, auth), "new") == [2]


def test_malformed_stream_query_is_400(client, auth) -> None:
    response = client.get(STREAM, params={"startup": "yes"}, headers=auth)
    assert response.status_code == 400
    assert response.json() == {"message": "invalid startup value 'yes': expected true or false"}


def test_get_decisions_does_not_disturb_the_stream(client, lapi, auth, clock) -> None:
    """CrowdSec shares last_pull between both endpoints; the stream cursor is separate."""
    pull(client, auth, startup="true")
    lapi.ingest([agent_alert("198.51.100.97")])
    clock.advance(minutes=2)
    assert client.get("/v1/decisions", headers=auth).status_code == 200
    assert ids(pull(client, auth), "new") == [1]


def test_cursor_ahead_of_the_database_resyncs(client, lapi, auth) -> None:
    """A restored or replaced database (counter behind the cursor): full answer."""
    lapi.ingest([agent_alert("198.51.100.98")])
    pull(client, auth, startup="true")
    from sqlalchemy import update

    from lapi.db.models import StreamCursor
    with lapi.database.session() as session:
        session.execute(update(StreamCursor).values(seq=1000))
    assert ids(pull(client, auth), "new") == [1]
    assert pull(client, auth) == {"new": [], "deleted": []}
