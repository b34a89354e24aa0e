"""The schema migrations and the behaviours that differ between SQLite, PostgreSQL and
MariaDB unless the LAPI pins them down (collation, LIKE escaping, times, long text); every
test here runs on each backend (``db_url``) and expects the same values."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from lapi_helpers import T0, agent_alert, manual_alert
from sqlalchemy import inspect, insert, select, text

from lapi.bouncers import BouncerError, add_bouncer, authenticate, list_bouncers
from lapi.db.changes import CHANGES, allocate_change_seq, current_change_seq
from lapi.db.migrate import (
    BASELINE,
    BASELINE_TABLES,
    SchemaError,
    alembic_config,
    current_revision,
)
from lapi.db.models import Alert, Base, Bouncer, Decision, Meta, Sequence
from lapi.db.session import create_db_engine, open_database
from lapi.decisions import DecisionFilter, Page, query_decisions
from lapi.ingest import ingest_alerts

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _values(database, flt: DecisionFilter) -> list[str]:
    with database.read_session() as session:
        return [d["value"] for d in query_decisions(session, flt, Page(), T0)]


# -- migrations

def test_fresh_database_is_migrated_to_head_matching_the_models(database) -> None:
    with database.engine.connect() as connection:
        assert current_revision(connection) == HEAD
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        assert set(inspect(connection).get_table_names()) == \
            set(Base.metadata.tables) | {"alembic_version"}
    with database.read_session() as session:
        assert current_change_seq(session) == 0


def test_reopening_keeps_the_data(db_url) -> None:
    database = open_database(db_url)
    with database.session() as session:
        allocate_change_seq(session)
        add_bouncer(session, "b1", "key-1")
    database.dispose()
    again = open_database(db_url)
    try:
        with again.read_session() as session:
            assert current_change_seq(session) == 1
            assert authenticate(session, "key-1").name == "b1"
    finally:
        again.dispose()


def test_database_from_before_the_migrations_is_stamped_and_kept(db_url) -> None:
    engine = create_db_engine(db_url)
    # what the LAPI did before the migrations (the tables of that time)
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[t] for t in BASELINE_TABLES])
    with engine.begin() as connection:
        connection.execute(insert(Sequence).values(name=CHANGES, value=41))
    engine.dispose()
    database = open_database(db_url)
    try:
        with database.engine.connect() as connection:
            assert current_revision(connection) == HEAD
        with database.session() as session:
            assert allocate_change_seq(session) == 42
    finally:
        database.dispose()


def test_some_tables_without_a_version_are_refused(db_url) -> None:
    engine = create_db_engine(db_url)
    Base.metadata.tables["lapi_sequences"].create(engine)
    engine.dispose()
    with pytest.raises(SchemaError, match="lacks alerts, bouncer_stream_cursors"):
        open_database(db_url)


def test_downgrade_to_nothing_and_up_again(database) -> None:
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection=connection), "base")
        connection.commit()
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        command.upgrade(alembic_config(connection=connection), BASELINE)
        connection.commit()
        assert current_revision(connection) == BASELINE


def _together(count: int, work) -> list:
    """Run ``work()`` in ``count`` threads released at once; their results (raises the
    first error)."""
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def test_concurrent_starts_migrate_once(db_url) -> None:
    _together(3, lambda: open_database(db_url).dispose())
    database = open_database(db_url)
    try:
        with database.read_session() as session:
            rows = session.execute(select(Sequence.name, Sequence.value)).all()
        assert [tuple(r) for r in rows] == [(CHANGES, 0)]
    finally:
        database.dispose()


# -- the same answers on every backend

def test_strings_compare_exactly(database, profiles) -> None:
    """Case and trailing spaces matter (MariaDB's default collation ignores both)."""
    with database.session() as session:
        add_bouncer(session, "b1", "key-lower")
        add_bouncer(session, "B1", "key-upper")
        add_bouncer(session, "b1 ", "key-space")
        with pytest.raises(BouncerError, match="already exists"):
            add_bouncer(session, "b1", "key-other")
    with database.read_session() as session:
        assert [b["name"] for b in list_bouncers(session)] == ["B1", "b1", "b1 "]
        assert authenticate(session, "key-upper").name == "B1"
    alerts = [manual_alert(v, scope="Username", uuid=f"u-{i}") for i, v in
              enumerate(["alice", "Alice", "alice "])]
    with database.session() as session:
        ingest_alerts(session, alerts, profiles, T0)
    assert _values(database, DecisionFilter(value="Alice")) == ["Alice"]
    assert _values(database, DecisionFilter(value="alice")) == ["alice"]
    assert _values(database, DecisionFilter(scopes=("username",))) == []
    assert _values(database, DecisionFilter(scopes=("Username",))) == ["alice", "Alice", "alice "]


def test_racing_ingests_of_one_alert_store_it_once(database, profiles) -> None:
    def push() -> list[int]:
        with database.session() as session:
            return ingest_alerts(session, [agent_alert("192.0.2.7")], profiles, T0)

    results = _together(4, push)
    assert results == [[1]] * 4
    with database.read_session() as session:
        assert session.execute(select(Decision.value)).scalars().all() == ["192.0.2.7"]


def test_alert_uuids_are_case_sensitive(database, profiles) -> None:
    with database.session() as session:
        ids = ingest_alerts(session, [agent_alert("192.0.2.1", uuid="AbC"),
                                      agent_alert("192.0.2.2", uuid="abc")], profiles, T0)
    assert len(set(ids)) == 2


@pytest.mark.parametrize(("word", "expected"), [
    ("100%", ["100%x"]),
    ("a_b", ["a_b"]),
    ("back\\slash", ["back\\slash"]),
    ("/", ["sl/ash"]),
    ("SSH", ["SSH-bf", "ssh-bf"]),
    ("é", ["café-É"]),
])
def test_scenario_contains_is_literal_and_case_insensitive(database, profiles, word,
                                                           expected) -> None:
    scenarios = ["100%x", "100x", "a_b", "axb", "back\\slash", "backslash", "sl/ash",
                 "SSH-bf", "ssh-bf", "café-É"]
    alerts = [manual_alert(s, scope="Username", scenario=s, uuid=f"s-{i}")
              for i, s in enumerate(scenarios)]
    with database.session() as session:
        ingest_alerts(session, alerts, profiles, T0)
    assert _values(database, DecisionFilter(scenarios_containing=(word,))) == expected
    assert _values(database, DecisionFilter(scenarios_not_containing=(word,))) == \
        [s for s in scenarios if s not in expected]


def test_ip_ranges_compare_by_address(database, profiles) -> None:
    values = ["10.0.0.0/8", "10.1.2.3", "9.255.255.255", "11.0.0.0", "2001:db8::/32",
              "2001:db8:ffff::1", "2001:db9::1", "::ffff:10.1.2.3"]
    alerts = [manual_alert(v, scope="Range" if "/" in v else "Ip", uuid=f"ip-{i}")
              for i, v in enumerate(values)]
    with database.session() as session:
        ingest_alerts(session, alerts, profiles, T0)
    from lapi.iprange import parse_ip_range

    def inside(text_: str, contains: bool) -> list[str]:
        return _values(database, DecisionFilter(ip_range=parse_ip_range(text_),
                                                contains=contains))

    # an IPv4-mapped IPv6 address is its IPv4 address (as CrowdSec)
    assert inside("10.1.2.3", True) == ["10.0.0.0/8", "10.1.2.3", "::ffff:10.1.2.3"]
    assert inside("10.0.0.0/8", False) == ["10.0.0.0/8", "10.1.2.3", "::ffff:10.1.2.3"]
    assert inside("2001:db8:ffff::1", True) == ["2001:db8::/32", "2001:db8:ffff::1"]
    assert inside("2001:db8::/31", False) == ["2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1"]


def test_times_keep_microseconds_and_come_back_utc(database) -> None:
    moment = datetime(2026, 11, 22, 4, 7, 13, 123456, tzinfo=UTC)
    other_zone = moment.astimezone(UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=-5)))
    with database.session() as session:
        add_bouncer(session, "b1", "key-1", now=other_zone)
    with database.read_session() as session:
        bouncer = session.execute(select(Bouncer)).scalar_one()
        assert bouncer.created_at == moment and bouncer.created_at.tzinfo is UTC
        assert bouncer.created_at.microsecond == 123456
        # the stored value is the naive UTC time, whatever the session time zone
        stored = session.execute(text("SELECT created_at FROM bouncers")).scalar_one()
        if isinstance(stored, str):
            stored = datetime.fromisoformat(stored)
        assert stored == moment.replace(tzinfo=None)


def test_long_text_and_four_byte_characters(database, profiles) -> None:
    message = "x" * 70_000 + "🦀"  # more than MySQL's TEXT holds
    alert = agent_alert("192.0.2.9", message=message, scenario="crowdsecurity/🦀",
                        meta=[{"key": "k🦀", "value": "v" * 70_000}])
    with database.session() as session:
        (alert_id,) = ingest_alerts(session, [alert], profiles, T0)
    with database.read_session() as session:
        stored = session.get(Alert, alert_id)
        assert stored.message == message and stored.scenario == "crowdsecurity/🦀"
        meta = session.execute(select(Meta).where(Meta.alert_id == alert_id)).scalar_one()
        assert (meta.key, len(meta.value)) == ("k🦀", 70_000)
        assert session.execute(select(Decision.scenario)).scalar_one() == "crowdsecurity/🦀"
