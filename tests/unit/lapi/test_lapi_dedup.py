"""No pile of duplicate decisions under a flood (CrowdSec #827): with a dedup window, a
decision the profiles give is skipped while an active one of the same type on the same value
already lasts until at most the window before its end; alerts are all stored."""
from datetime import timedelta

from lapi_helpers import T0, agent_alert, manual_alert
from sqlalchemy import func, select

from lapi.db.models import Alert, Decision
from lapi.decisions import expire_decisions
from lapi.gotime import format_rfc3339
from lapi.ingest import ingest_alerts

WINDOW = timedelta(minutes=10)


def flood(n: int, ip: str = "203.0.113.77", every: timedelta = timedelta(seconds=10),
          **changes) -> list[dict]:
    """n overflows on one attacker, ``every`` apart (each: a 4h ban from the stock profile)."""
    alerts = []
    for k in range(n):
        at = format_rfc3339(T0 + k * every)
        alerts.append(agent_alert(ip, uuid=f"flood-{ip}-{k}", start_at=at, stop_at=at, **changes))
    return alerts


def ingest(database, profiles, alerts, *, window=WINDOW, now=T0) -> list[int]:
    with database.session() as session:
        return ingest_alerts(session, alerts, profiles, now, dedup_window=window)


def decisions(database) -> list[tuple[str, str, bool]]:
    with database.read_session() as session:
        return [(d.value, d.until.isoformat(), d.simulated) for d in session.execute(
            select(Decision).order_by(Decision.id)).scalars()]


def count(database, model) -> int:
    with database.read_session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_flood_in_one_batch_makes_one_decision(database, profiles) -> None:
    assert ingest(database, profiles, flood(50)) == list(range(1, 51))
    assert count(database, Alert) == 50
    assert decisions(database) == [("203.0.113.77", "2026-11-22T08:07:13+00:00", False)]


def test_a_flood_longer_than_the_window_makes_one_decision_per_window(database,
                                                                       profiles) -> None:
    for alert in flood(130):  # 10 s apart, one alert per request
        ingest(database, profiles, [alert])
    # k=0 until 08:07:13; covered while 10k s <= 600 s: k=61 (08:17:23) is stored, covers
    # up to k=121 (08:27:23); k=122 (08:27:33) is stored
    assert [until for _, until, _ in decisions(database)] == [
        "2026-11-22T08:07:13+00:00", "2026-11-22T08:17:23+00:00", "2026-11-22T08:27:33+00:00"]
    assert count(database, Alert) == 130


def test_off_every_alert_gets_its_decision(database, profiles) -> None:
    ingest(database, profiles, flood(5), window=None)
    assert len(decisions(database)) == 5


def test_zero_window_skips_only_decisions_ending_sooner(database, profiles) -> None:
    ingest(database, profiles, flood(3), window=timedelta(0))
    assert len(decisions(database)) == 3  # each lasts 10 s longer than the previous one
    ingest(database, profiles, [agent_alert("203.0.113.77", uuid="again",
                                            start_at="2026-11-22T04:07:13Z",
                                            stop_at="2026-11-22T04:07:13Z")],
           window=timedelta(0))
    assert len(decisions(database)) == 3


def test_other_values_types_and_simulation_are_not_covered(database, profiles) -> None:
    ingest(database, profiles, flood(1))
    ingest(database, profiles, flood(1, ip="203.0.113.78"))
    # a simulated ban does not stand for a real one, nor the reverse
    ingest(database, profiles, flood(1, ip="203.0.113.79", simulated=True))
    ingest(database, profiles, [agent_alert("203.0.113.79", uuid="real-79")])
    assert [(v, s) for v, _, s in decisions(database)] == [
        ("203.0.113.77", False), ("203.0.113.78", False), ("203.0.113.79", True),
        ("203.0.113.79", False)]
    # a manual captcha and a manual ban on a banned IP are stored as given
    ingest(database, profiles, [manual_alert("203.0.113.77", type_="captcha"),
                                manual_alert("203.0.113.77", duration="1h")])
    assert len(decisions(database)) == 6


def test_ended_decisions_do_not_cover(database, profiles) -> None:
    ingest(database, profiles, flood(1))
    with database.session() as session:
        assert expire_decisions(session, T0, ids=[1]) == 1
    ingest(database, profiles, [agent_alert("203.0.113.77", uuid="after-delete")])
    later = T0 + timedelta(hours=5)  # the first ban has expired by then
    ingest(database, profiles, [agent_alert("203.0.113.77", uuid="after-expiry",
                                            start_at=format_rfc3339(later),
                                            stop_at=format_rfc3339(later))], now=later)
    assert len(decisions(database)) == 3
