"""Alert ingestion: profiles, expiry, idempotency, validation."""
from datetime import UTC, datetime

import pytest
from lapi_helpers import AGENT_ALERT, T0, agent_alert, manual_alert
from sqlalchemy import func, select

from lapi import ingest as ingest_module
from lapi.db.models import Alert, Decision, Event
from lapi.errors import InvalidAlert
from lapi.ingest import ingest_alerts


def _decisions(database):
    with database.read_session() as session:
        return session.execute(select(Decision).order_by(Decision.id)).scalars().all()


def _count(database, model) -> int:
    with database.read_session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_agent_alert_gets_a_4h_ban_from_the_stock_profile(database, profiles) -> None:
    with database.session() as session:
        ids = ingest_alerts(session, [AGENT_ALERT], profiles, T0)
    assert ids == [1]
    (decision,) = _decisions(database)
    assert (decision.type, decision.scope, decision.value, decision.origin, decision.scenario) == \
        ("ban", "Ip", "203.0.113.66", "crowdsec", "crowdsecurity/ssh-bf")
    # expiry = stop_at (04:07:12) + 4h
    assert decision.until == datetime(2026, 11, 22, 8, 7, 12, tzinfo=UTC)
    assert decision.simulated is False and decision.deleted_seq is None
    assert decision.ip_size == 4
    assert decision.start_ip == decision.end_ip == f"{0xCB007142:032x}"
    with database.read_session() as session:
        alert = session.get(Alert, 1)
        assert (alert.uuid, alert.events_count, alert.remediation, alert.source_value) == \
            (AGENT_ALERT["uuid"], 6, True, "203.0.113.66")
        assert alert.started_at == datetime(2026, 11, 22, 4, 7, 11, tzinfo=UTC)
    assert _count(database, Event) == 1


def test_same_uuid_twice_is_one_alert_and_one_decision(database, profiles) -> None:
    with database.session() as session:
        first = ingest_alerts(session, [AGENT_ALERT, AGENT_ALERT], profiles, T0)
    with database.session() as session:
        second = ingest_alerts(session, [AGENT_ALERT], profiles, T0)
    assert first == [1, 1]
    assert second == [1]
    assert _count(database, Alert) == 1
    assert _count(database, Decision) == 1


def test_concurrent_duplicate_insert_returns_the_winner(database, profiles, monkeypatch) -> None:
    """The uuid pre-check misses a row committed meanwhile: the unique constraint fires in
    the savepoint and the existing id is returned, the rest of the batch is kept."""
    with database.session() as session:
        ingest_alerts(session, [AGENT_ALERT], profiles, T0)
    monkeypatch.setattr(ingest_module, "known_alert_ids", lambda session, uuids: {})
    with database.session() as session:
        ids = ingest_alerts(session, [AGENT_ALERT, second := agent_alert("198.51.100.7")],
                            profiles, T0)
    # PostgreSQL sequences and InnoDB auto-increment keep the id the failed insert took
    # (SQLite reuses it): ids have gaps, so the new alert's id is looked up
    with database.read_session() as session:
        second_id = session.execute(select(Alert.id).where(Alert.uuid == second["uuid"])).scalar_one()
    assert ids == [1, second_id] and second_id > 1
    assert _count(database, Alert) == 2
    assert [d.value for d in _decisions(database)] == ["203.0.113.66", "198.51.100.7"]


def test_alert_with_decisions_keeps_them(database, profiles) -> None:
    blocklist = {
        **manual_alert("0.0.0.0", uuid="blocklist-1"),
        "decisions": [
            {"duration": "2h", "origin": "blocklist-import", "scenario": "external/blocklist",
             "scope": "Ip", "type": "ban", "value": "192.0.2.50"},
            {"duration": "2h", "origin": "blocklist-import", "scenario": "external/blocklist",
             "scope": "range", "type": "ban", "value": "203.0.113.128/25"},
        ],
        "start_at": "2026-11-22T04:08:45.000Z",
        "stop_at": "2026-11-22T04:08:45.000Z",
    }
    with database.session() as session:
        ingest_alerts(session, [blocklist], profiles, T0)
    ban_ip, ban_range = _decisions(database)
    assert (ban_ip.value, ban_ip.origin, ban_ip.until) == \
        ("192.0.2.50", "blocklist-import", datetime(2026, 11, 22, 6, 8, 45, tzinfo=UTC))
    assert (ban_range.scope, ban_range.start_ip, ban_range.end_ip) == \
        ("Range", f"{0xCB007180:032x}", f"{0xCB0071FF:032x}")


def test_replayed_old_alert_gives_an_expired_decision(database, profiles) -> None:
    old = agent_alert(start_at="2020-01-01T00:00:00Z", stop_at="2020-01-01T00:00:05Z")
    with database.session() as session:
        ingest_alerts(session, [old], profiles, T0)
    (decision,) = _decisions(database)
    assert decision.until == datetime(2020, 1, 1, 4, 0, 5, tzinfo=UTC)


def test_live_agent_nanosecond_times(database, profiles) -> None:
    live = agent_alert(start_at="2026-11-22T03:55:08.19330076Z",
                       stop_at="2026-11-22T03:55:09.194095781Z")
    with database.session() as session:
        ingest_alerts(session, [live], profiles, T0)
    (decision,) = _decisions(database)
    assert decision.until == datetime(2026, 11, 22, 7, 55, 9, 194095, tzinfo=UTC)


def test_event_without_a_time_takes_now(database, profiles) -> None:
    alert = agent_alert(events=[{"meta": [], "timestamp": ""}, {"meta": None}])
    with database.session() as session:
        assert ingest_alerts(session, [alert], profiles, T0) == [1]
    with database.read_session() as session:
        assert session.execute(select(Event.time)).scalars().all() == [T0, T0]


def test_no_remediation_no_decision(database, profiles) -> None:
    with database.session() as session:
        assert ingest_alerts(session, [agent_alert(remediation=False)], profiles, T0) == [1]
    assert _count(database, Decision) == 0


def test_simulated_alert_gives_simulated_decisions(database, profiles) -> None:
    with database.session() as session:
        ingest_alerts(session, [agent_alert(simulated=True)], profiles, T0)
    (decision,) = _decisions(database)
    assert decision.simulated is True


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"stop_at": "tomorrow"}, "'stop_at': invalid time 'tomorrow'"),
        ({"source": None}, "'source' is required"),
        ({"decisions": [{"duration": "1h", "scope": "Ip", "type": "ban", "value": "1.2.3"}]},
         "decision on Ip '1.2.3': invalid ip or range"),
        ({"decisions": [{"duration": "forever", "scope": "Ip", "type": "ban", "value": "1.2.3.4"}]},
         "decision duration: invalid duration 'forever'"),
        ({"scenario": 42}, "'scenario' must be a string"),
    ],
)
def test_invalid_alert_is_rejected_with_a_reason(database, profiles, change, reason) -> None:
    with pytest.raises(InvalidAlert) as err, database.session() as session:
        ingest_alerts(session, [agent_alert("198.51.100.1"), agent_alert(**change)], profiles, T0)
    assert str(err.value).startswith(f"alert #1: {reason}")
    assert _count(database, Alert) == 0


def test_invalid_alert_skipped_when_asked(database, profiles) -> None:
    skipped = []
    with database.session() as session:
        ids = ingest_alerts(session, [agent_alert(stop_at="x"), agent_alert("198.51.100.1")],
                            profiles, T0, on_invalid=skipped.append)
    assert ids == [1]
    assert [e.index for e in skipped] == [0]


def test_empty_source_value_is_accepted(database, profiles) -> None:
    """cscli decisions import: source {"scope": "cscli/manual-import", "value": ""}."""
    alert = {**manual_alert("198.51.100.31", origin="cscli-import", scenario="manual"),
             "source": {"scope": "cscli/manual-import", "value": ""}, "scenario": "add: 1 IPs"}
    with database.session() as session:
        assert ingest_alerts(session, [alert], profiles, T0) == [1]
    assert [d.value for d in _decisions(database)] == ["198.51.100.31"]
