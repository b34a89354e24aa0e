"""Profiles with CrowdSec's database helpers: GetDecisionsCount (escalating bans),
GetDecisionsSinceCount, GetActiveDecisionsCount, GetActiveDecisionsTimeLeft."""
from datetime import timedelta

import pytest
from lapi_helpers import T0, agent_alert, manual_alert
from sqlalchemy import select

from lapi.db.models import Decision
from lapi.decision_helpers import DecisionHelpers
from lapi.decisions import expire_decisions
from lapi.errors import ProfileError
from lapi.gotime import format_rfc3339
from lapi.ingest import ingest_alerts
from lapi.profiles import parse_profiles

ESCALATING = """
name: escalating_ban
filters:
  - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
  - type: ban
duration_expr: Sprintf('%dh', (GetDecisionsCount(Alert.GetValue()) + 1) * 4)
on_success: break
"""


def offence(n: int, ip: str = "203.0.113.90") -> dict:
    at = format_rfc3339(T0 + timedelta(hours=5 * n))
    return agent_alert(ip, uuid=f"offence-{ip}-{n}", start_at=at, stop_at=at)


def durations(database) -> list[tuple[str, timedelta]]:
    with database.read_session() as session:
        return [(d.value, d.until - d.created_at) for d in session.execute(
            select(Decision).order_by(Decision.id)).scalars()]


def test_escalating_ban_duration(database) -> None:
    profiles = parse_profiles(ESCALATING)
    for n in range(3):
        with database.session() as session:
            # each offence 5 h after the previous one, when the last ban has expired
            ingest_alerts(session, [offence(n)], profiles, T0 + timedelta(hours=5 * n))
    with database.session() as session:
        ingest_alerts(session, [offence(0, "198.51.100.90")], profiles, T0)
    assert durations(database) == [
        ("203.0.113.90", timedelta(hours=4)), ("203.0.113.90", timedelta(hours=8)),
        ("203.0.113.90", timedelta(hours=12)), ("198.51.100.90", timedelta(hours=4))]


def test_counts_and_time_left(database, profiles) -> None:
    with database.session() as session:
        ingest_alerts(session, [manual_alert("203.0.113.0/24", scope="Range", duration="2h"),
                                manual_alert("203.0.113.91", duration="1h"),
                                manual_alert("203.0.113.91", type_="captcha", duration="30m",
                                             simulated=True),
                                manual_alert("198.51.100.1", duration="9h")], profiles, T0)
    with database.session() as session:
        expire_decisions(session, T0, ids=[2])  # the 1h ban on .91 is deleted
    now = T0 + timedelta(minutes=45)
    with database.read_session() as session:
        helpers = DecisionHelpers(session, now)
        # the /24 contains .91; deleted and simulated decisions count too (CrowdSec)
        assert helpers.count("203.0.113.91") == 3
        assert helpers.count("203.0.113.0/24") == 1
        assert helpers.count("2001:db8::1") == 0
        assert helpers.count("not an ip") == 0
        assert helpers.count_since("203.0.113.91", "30m") == 0
        assert helpers.count_since("203.0.113.91", "1h") == 3
        assert helpers.count_since("203.0.113.91", "soon") == 0
        # in force at 04:52: the /24 (until 06:07); the deleted ban and the captcha
        # (until 04:37) are not
        assert helpers.count_active("203.0.113.91") == 1
        left = helpers.time_left("203.0.113.91")
        assert left.String() == "1h15m0s"
        assert helpers.time_left("192.0.2.1").ns == 0


def test_active_count_in_a_filter(database) -> None:
    profiles = parse_profiles("""
name: only_first
filters:
  - GetActiveDecisionsCount(Alert.GetValue()) == 0
decisions:
  - type: ban
    duration: 1h
""")
    for n in range(3):
        with database.session() as session:
            ingest_alerts(session, [agent_alert("203.0.113.92", uuid=f"a{n}")], profiles, T0)
    assert len(durations(database)) == 1


def test_helpers_outside_the_lapi_fail_the_filter() -> None:
    profiles = parse_profiles(ESCALATING.replace(
        "Alert.Remediation == true", "GetDecisionsCount(Alert.GetValue()) == 0"))
    with pytest.raises(ProfileError, match="unknown func GetDecisionsCount"):
        profiles.decide(agent_alert())
