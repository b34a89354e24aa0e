"""The schema and every query the LAPI issues compile for PostgreSQL and MySQL (no
SQLite-only SQL), without a server; test_lapi_databases and every test using ``db_url``
run live on PostgreSQL and MariaDB too."""
from datetime import timedelta

import pytest
from lapi_helpers import T0
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from lapi.db.changes import allocate_change_seq
from lapi.db.models import Base
from lapi.decisions import DecisionFilter, Page, count_active, expire_decisions, query_decisions
from lapi.ingest import known_alert_ids
from lapi.iprange import parse_ip_range
from lapi.stream import Cursor, advance_cursor, compute_stream

DIALECTS = {"postgresql": postgresql.dialect(), "mysql": mysql.dialect()}
FULL_FILTER = DecisionFilter(
    scopes=("Ip", "Range"), value="1.2.3.4", type="ban", origins=("crowdsec",),
    scenarios_containing=("ssh", "100%_"), scenarios_not_containing=("http",),
    ip_range=parse_ip_range("2001:db8::/32"),
)


class _Result:
    def scalar_one(self):
        return 7

    def all(self):
        return []

    def first(self):
        return None

    def __iter__(self):
        return iter(())

    rowcount = 1


class RecordingSession:
    """Compiles every statement for each dialect instead of running it."""

    def __init__(self, dialect):
        self.dialect = dialect
        self.sql: list[str] = []
        self.info: dict[str, object] = {}

    def execute(self, statement, *args, **kwargs):
        self.sql.append(str(statement.compile(dialect=self.dialect)))
        return _Result()

    def begin_nested(self):
        import contextlib
        return contextlib.nullcontext()


@pytest.mark.parametrize("name", DIALECTS)
def test_schema_compiles(name) -> None:
    dialect = DIALECTS[name]
    for table in Base.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))
        assert "AUTOINCREMENT" not in ddl  # SQLite's keyword
        for index in table.indexes:
            CreateIndex(index).compile(dialect=dialect)
    decisions = str(CreateTable(Base.metadata.tables["decisions"]).compile(dialect=dialect))
    if name == "mysql":
        assert "until DATETIME(6) NOT NULL" in decisions
        assert "start_ip VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin" in decisions
    else:
        assert 'start_ip VARCHAR(32) COLLATE "C"' in decisions
        assert "id BIGSERIAL NOT NULL" in decisions


@pytest.mark.parametrize("name", DIALECTS)
def test_queries_compile(name) -> None:
    session = RecordingSession(DIALECTS[name])
    previous = Cursor(3, T0)
    compute_stream(session, previous, FULL_FILTER, False, T0 + timedelta(seconds=5))
    compute_stream(session, None, FULL_FILTER, True, T0)
    query_decisions(session, FULL_FILTER, Page(limit=10, offset=5, id_gt=2), T0)
    expire_decisions(session, T0, ids=[1, 2], flt=FULL_FILTER)
    count_active(session, T0)
    allocate_change_seq(session)
    known_alert_ids(session, ["a", "b"])
    advance_cursor(session, 1, previous, Cursor(4, T0), T0)
    advance_cursor(session, 1, None, Cursor(4, T0), T0)
    text = "\n".join(session.sql)
    assert "NOT (EXISTS" in text and "lower(decisions.scenario) LIKE" in text
    assert "sqlite" not in text.lower()
