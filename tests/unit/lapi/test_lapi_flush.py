"""The retention job (``db_config.flush``): alerts by age and count, detached decisions once
every live stream cursor saw them end, idle bouncers and machines, metrics, allowlist items."""
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lapi_helpers import T0, agent_alert, manual_alert
from sqlalchemy import func, select, update

from lapi.allowlists import NewItem, add_items, create_allowlist
from lapi.app import create_app
from lapi.bouncers import add_bouncer
from lapi.db.models import Alert, AllowListItem, Bouncer, Decision, Machine, UsageMetric
from lapi.decisions import expire_decisions
from lapi.flush import STALE_CURSOR, flush
from lapi.machines import add_machine
from lapi.settings import FlushPolicy

STREAM = "/v1/decisions/stream"


def alert_ids(database) -> list[int]:
    with database.read_session() as session:
        return list(session.execute(select(Alert.id).order_by(Alert.id)).scalars())


def decision_rows(database) -> list[tuple[int, int | None]]:
    with database.read_session() as session:
        return [tuple(r) for r in session.execute(
            select(Decision.id, Decision.alert_id).order_by(Decision.id))]


def quiet_alert(n: int) -> dict:
    """An alert the stock profile gives no decision (no remediation)."""
    return agent_alert(f"198.51.100.{n}", remediation=False)


def test_max_age_keeps_alerts_with_an_active_decision(lapi, clock) -> None:
    lapi.ingest([quiet_alert(1), agent_alert("203.0.113.1")])  # ban 4h
    lapi.ingest([manual_alert("203.0.113.2", duration="30d")])
    clock.advance(days=2)
    lapi.ingest([quiet_alert(2)])
    report = flush(lapi.database, FlushPolicy(max_age=timedelta(days=1)), clock())
    # alerts 1 and 2 are old and without an active decision; 3 holds a 30-day ban
    assert report.alerts_by_age == 2
    assert alert_ids(lapi.database) == [3, 4]
    # the expired ban is detached, and gone at once: no bouncer streams
    assert report.decisions == 1
    assert decision_rows(lapi.database) == [(2, 3)]


def test_max_items_keeps_the_newest_as_crowdsec(lapi, clock) -> None:
    lapi.ingest([quiet_alert(n) for n in range(1, 7)])
    lapi.ingest([manual_alert("203.0.113.9", duration="1h")])  # id 7, active
    report = flush(lapi.database, FlushPolicy(max_items=2), clock())
    # CrowdSec deletes ids below newest - max_items (7 - 2 = 5): 1 to 4
    assert report.alerts_by_count == 4
    assert alert_ids(lapi.database) == [5, 6, 7]
    clock.advance(hours=2)
    lapi.ingest([quiet_alert(10)])  # id 8: now ids below 6 go
    assert flush(lapi.database, FlushPolicy(max_items=2), clock()).alerts_by_count == 1
    assert alert_ids(lapi.database) == [6, 7, 8]


def test_detached_decisions_stay_until_every_live_cursor_saw_them_end(client, lapi, auth,
                                                                        clock) -> None:
    lapi.ingest([manual_alert("203.0.113.5", duration="1h")])
    lapi.ingest([manual_alert("203.0.113.6", duration="1h")])
    first = client.get(STREAM, params={"startup": "true"}, headers=auth).json()
    assert [d["value"] for d in first["new"]] == ["203.0.113.5", "203.0.113.6"]
    clock.advance(minutes=90)  # both expired after the bouncer's last pull
    policy = FlushPolicy(max_age=timedelta(minutes=30))
    report = flush(lapi.database, policy, clock())
    assert (report.alerts_by_age, report.decisions) == (2, 0)
    assert decision_rows(lapi.database) == [(1, None), (2, None)]
    second = client.get(STREAM, headers=auth).json()
    assert sorted(d["value"] for d in second["deleted"]) == ["203.0.113.5", "203.0.113.6"]
    assert flush(lapi.database, policy, clock()).decisions == 2
    assert decision_rows(lapi.database) == []
    assert client.get(STREAM, headers=auth).json() == {"new": [], "deleted": []}


def test_deleted_decision_waits_for_the_cursor_sequence(client, lapi, auth, clock) -> None:
    lapi.ingest([manual_alert("203.0.113.7", duration="30d")])
    assert len(client.get(STREAM, params={"startup": "true"}, headers=auth).json()["new"]) == 1
    clock.advance(minutes=1)
    with lapi.database.session() as session:
        assert expire_decisions(session, clock(), ids=[1]) == 1
    clock.advance(days=2)
    policy = FlushPolicy(max_age=timedelta(days=1))
    # the bouncer pulled two days ago: its cursor is stale and holds nothing back
    assert clock() - T0 > STALE_CURSOR
    report = flush(lapi.database, policy, clock())
    assert (report.alerts_by_age, report.decisions) == (1, 1)
    assert decision_rows(lapi.database) == []


def test_live_cursor_before_the_delete_holds_the_row(client, lapi, auth, clock) -> None:
    lapi.ingest([manual_alert("203.0.113.8", duration="30d")])
    client.get(STREAM, params={"startup": "true"}, headers=auth)
    with lapi.database.session() as session:
        expire_decisions(session, clock(), ids=[1])
    clock.advance(hours=2)
    policy = FlushPolicy(max_age=timedelta(hours=1))
    assert flush(lapi.database, policy, clock()).decisions == 0
    assert decision_rows(lapi.database) == [(1, None)]
    assert [d["value"] for d in client.get(STREAM, headers=auth).json()["deleted"]] == [
        "203.0.113.8"]
    assert flush(lapi.database, policy, clock()).decisions == 1


def test_idle_bouncers_and_machines_by_auth_type(lapi, clock) -> None:
    now = clock()
    with lapi.database.session() as session:
        for name, auth_type, pulled in (("old-key", "api-key", now - timedelta(hours=3)),
                                        ("new-key", "api-key", now - timedelta(minutes=5)),
                                        ("old-cert", "tls", now - timedelta(hours=3)),
                                        ("never", "api-key", None)):
            add_bouncer(session, name, now=now, auth_type=auth_type)
            session.execute(update(Bouncer).where(Bouncer.name == name)
                            .values(last_pull=pulled))
        for name, ip, beat in (("idle", "192.0.2.10", now - timedelta(days=3)),
                               ("local", "127.0.0.1", now - timedelta(days=3)),
                               ("busy", "192.0.2.11", now - timedelta(days=3)),
                               ("alive", "192.0.2.12", now - timedelta(hours=1))):
            add_machine(session, name, "Secret-pass-123", validated=True, ip_address=ip, now=now)
            session.execute(update(Machine).where(Machine.machine_id == name)
                            .values(last_heartbeat=beat))
    lapi.ingest([quiet_alert(1) | {"machine_id": "busy"}])
    with lapi.database.session() as session:
        session.execute(update(Alert).values(machine_id="busy"))
    policy = FlushPolicy(bouncers_autodelete={"api-key": timedelta(hours=1)},
                         agents_autodelete={"password": timedelta(days=1)})
    report = flush(lapi.database, policy, now)
    assert (report.bouncers, report.machines) == (1, 1)
    with lapi.database.read_session() as session:
        assert sorted(session.execute(select(Bouncer.name)).scalars()) == [
            "never", "new-key", "old-cert"]
        assert sorted(session.execute(select(Machine.machine_id)).scalars()) == [
            "alive", "busy", "local"]


def test_old_metrics_and_expired_allowlist_items(lapi, clock) -> None:
    now = clock()
    with lapi.database.session() as session:
        for age in (1, 8, 9):
            session.add(UsageMetric(generated_type="RC", generated_by="b1", payload="{}",
                                    received_at=now - timedelta(days=age)))
        create_allowlist(session, "office", now)
        add_items(session, "office", [
            NewItem("192.0.2.1", expires_at=now - timedelta(seconds=1)),
            NewItem("192.0.2.2", expires_at=now + timedelta(hours=1)),
            NewItem("192.0.2.0/28")], now)
    report = flush(lapi.database, FlushPolicy(), now)
    assert (report.metrics, report.allowlist_items) == (2, 1)
    with lapi.database.read_session() as session:
        assert session.execute(select(func.count()).select_from(UsageMetric)).scalar() == 1
        assert sorted(session.execute(select(AllowListItem.value)).scalars()) == [
            "192.0.2.0/28", "192.0.2.2"]


def test_chunks_delete_everything(lapi, clock, monkeypatch) -> None:
    monkeypatch.setattr("lapi.flush.CHUNK", 3)
    lapi.ingest([quiet_alert(n) for n in range(1, 11)])
    clock.advance(days=2)
    report = flush(lapi.database, FlushPolicy(max_age=timedelta(days=1)), clock())
    assert report.alerts_by_age == 10
    assert alert_ids(lapi.database) == []


def test_the_app_runs_the_job(settings, clock) -> None:
    with TestClient(create_app(settings, clock=clock)) as client:
        client.app.state.lapi.ingest([quiet_alert(n) for n in range(1, 6)])
    settings.flush = FlushPolicy(max_items=1, interval=0.05)
    with TestClient(create_app(settings, clock=clock)) as client:
        database = client.app.state.lapi.database
        deadline = time.monotonic() + 10
        while alert_ids(database) != [4, 5] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alert_ids(database) == [4, 5]


@pytest.mark.parametrize("bad", [{"max_items": 0}, {"max_age": timedelta(0)},
                                 {"interval": 0}])
def test_policy_refuses_non_positive_values(bad) -> None:
    with pytest.raises(ValueError, match="positive"):
        FlushPolicy(**bad)
