"""Engine and sessions from a database URL.

SQLite gets WAL (readers never block the writer), a busy timeout (writers queue instead of
failing with "database is locked"), foreign keys, and explicit transaction control:
pysqlite's own implicit BEGIN is disabled so SAVEPOINTs work, reading sessions start a
deferred ``BEGIN`` (one consistent snapshot) and writing sessions ``BEGIN IMMEDIATE`` (they
take the write lock up front, so they never fail on a stale snapshot when they upgrade).
Everything else is plain SQLAlchemy and stays portable to PostgreSQL (``psycopg``) and
MySQL/MariaDB (``pymysql``). The schema comes from the migrations (:mod:`lapi.db.migrate`).
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("crowdstream.lapi.db")

_TX_OPTION = "crowdstream_tx"


#: pooled connections kept open, and opened beyond them under load
POOL_SIZE = 20
POOL_OVERFLOW = 20

#: ``session.info`` key set by a transaction that took a change sequence value
CHANGED = "crowdstream_changed_decisions"


class Database:
    """An engine plus its session factories. Sessions are used from worker threads (the
    HTTP handlers and the consumer), one session per thread at a time. Change listeners are
    called (in the committing thread) after each commit of a transaction that created or
    ended decisions (:mod:`lapi.db.changes`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._change_listeners: list[Callable[[], None]] = []
        self._write = sessionmaker(bind=engine.execution_options(**{_TX_OPTION: "write"}),
                                   expire_on_commit=False)
        self._read = sessionmaker(bind=engine.execution_options(**{_TX_OPTION: "read"}),
                                  expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A writing session: committed when the block ends normally, else rolled back."""
        with self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            if session.info.pop(CHANGED, False):
                for listener in self._change_listeners:
                    listener()

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every commit that created or ended decisions."""
        self._change_listeners.append(listener)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A reading session (one snapshot on SQLite). Closed at the end (its transaction is
        rolled back by the pool); objects loaded stay readable, detached."""
        with self._read() as session:
            yield session

    def upgrade_schema(self) -> None:
        """Create or upgrade the schema to the newest migration and seed the counters
        (idempotent, safe when several processes start at once: :mod:`lapi.db.migrate`)."""
        from lapi.db.migrate import upgrade_schema

        with self.engine.execution_options(**{_TX_OPTION: "write"}).connect() as connection:
            upgrade_schema(connection)

    def refresh_statistics(self) -> None:
        """Give SQLite's query planner the statistics it needs to pick the right index
        (without them it prefers ``deleted_seq IS NULL``, a scan of every active decision, to
        the address index: 32 ms instead of 0.1 ms per ``?ip=`` lookup with 100k decisions).
        A sampled ANALYZE (at most 1,000 rows per index: milliseconds). PostgreSQL and
        MariaDB keep their statistics themselves."""
        if self.dialect != "sqlite":
            return
        with self.engine.execution_options(**{_TX_OPTION: "write"}).connect() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def create_db_engine(url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False) -> Engine:
    """An engine for ``url`` with the per-dialect set-up described in the module docstring."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.database not in (None, "", ":memory:"):
        # as many connections as the HTTP thread pool has threads (40): a connection
        # opened and closed per request costs more than the request's queries
        kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_recycle"] = 3600  # before MySQL's wait_timeout (8h) closes idle ones
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        _setup_sqlite(engine, busy_timeout_ms)
    return engine


def _enable_wal(cursor: Any, timeout_s: float) -> None:
    """``PRAGMA journal_mode=WAL``, retried while "database is locked": switching a new
    database to WAL needs an exclusive lock, which SQLite refuses at once, without its busy
    wait, when other connections (e.g. LAPI processes starting together) hold it briefly."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _setup_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see "begin")
        cursor = dbapi_connection.cursor()
        try:
            _enable_wal(cursor, busy_timeout_ms / 1000)
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_TX_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")


def open_database(url: str, *, create: bool = True, busy_timeout_ms: int = 10_000) -> Database:
    """Open the database at ``url`` and, by default, create or upgrade its schema to the
    newest migration (:meth:`Database.upgrade_schema`)."""
    database = Database(create_db_engine(url, busy_timeout_ms=busy_timeout_ms))
    if create:
        try:
            database.upgrade_schema()
        except BaseException:
            database.dispose()
            raise
    return database
