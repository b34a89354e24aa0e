"""Schema migrations: :func:`upgrade_schema` brings a database to the newest revision.

The revisions live in :mod:`lapi.db.migrations` (an alembic environment shipped inside the
package, found from this file, so an installed LAPI migrates without the source tree or an
``alembic.ini``). :func:`lapi.db.session.open_database` calls :func:`upgrade_schema` on start.

* **Concurrent starts.** Several LAPI processes may start at once on one database; the
  upgrade runs under a lock so only one migrates and the others then find the schema at
  head: PostgreSQL ``pg_advisory_xact_lock`` (and transactional DDL), MySQL/MariaDB
  ``GET_LOCK`` (its DDL commits implicitly), SQLite ``BEGIN IMMEDIATE`` (the write lock).
* **Databases from before the migrations.** Those were created by ``metadata.create_all``
  with exactly the schema of the first revision (:data:`BASELINE`) and have no
  ``alembic_version`` table. When every LAPI table of that schema exists and
  ``alembic_version`` does not, the database is *stamped* at :data:`BASELINE` (recorded as
  being at it, nothing altered) and upgraded from there. Some but not all of those tables
  without ``alembic_version`` is refused (:class:`SchemaError`), not guessed at. (On MySQL
  such a database keeps the server's default collation; the first revision creates new
  tables with :func:`lapi.db.types.mysql_table_options`.)
* The ``changes`` counter row (:mod:`lapi.db.changes`) is seeded after the upgrade if
  missing, in the same transaction.

New revision (from the repository, against a scratch database at head)::

    python -c "from alembic import command; from lapi.db.migrate import alembic_config; \\
        command.revision(alembic_config('sqlite:////tmp/x.db'), 'what', autogenerate=True)"

then review it: types must stay portable (see :mod:`lapi.db.types`).
"""
from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection

from lapi.db.changes import CHANGES
from lapi.db.models import Sequence

log = logging.getLogger("crowdstream.lapi.db")

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
#: the revision whose schema is what ``create_all`` made before the migrations existed
BASELINE = "0001"
#: the tables of :data:`BASELINE`
BASELINE_TABLES = frozenset(
    {"lapi_sequences", "bouncers", "bouncer_stream_cursors", "alerts", "decisions", "events",
     "metas"})
VERSION_TABLE = "alembic_version"
_LOCK_NAME = "crowdstream_lapi_migrate"
_PG_LOCK_KEY = 0x6C61_7069_6D69_6772  # "lapimigr"
_LOCK_TIMEOUT_S = 120


class SchemaError(RuntimeError):
    """The database holds a schema the migrations cannot take over."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An alembic configuration of the shipped migrations, for ``url`` or ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _mysql_lock_name(connection: Connection) -> str:
    """MySQL's named locks are server-wide (PostgreSQL's advisory locks are per database):
    the name includes the database, within the 64 characters allowed."""
    return f"{_LOCK_NAME}.{connection.engine.url.database or ''}"[:64]


def _lock(connection: Connection) -> None:
    name = connection.dialect.name
    if name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif name in ("mysql", "mariadb"):
        got = connection.execute(text("SELECT GET_LOCK(:n, :t)"),
                                 {"n": _mysql_lock_name(connection), "t": _LOCK_TIMEOUT_S}).scalar()
        if got != 1:
            raise SchemaError(f"could not take the migration lock in {_LOCK_TIMEOUT_S}s")
    else:  # SQLite: the first statement of a writing transaction takes the write lock
        connection.execute(text("SELECT 1"))


def _unlock(connection: Connection) -> None:
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": _mysql_lock_name(connection)})


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database (``None``: none recorded)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(connection: Connection) -> None:
    """Upgrade the database of ``connection`` (a writing connection, not in a transaction)
    to the newest revision, stamping a pre-migrations database first (module docstring),
    and seed the counters; commits."""
    _lock(connection)
    try:
        tables = set(inspect(connection).get_table_names())
        config = alembic_config(connection=connection)
        if VERSION_TABLE not in tables and tables & BASELINE_TABLES:
            missing = BASELINE_TABLES - tables
            if missing:
                raise SchemaError(
                    "the database has LAPI tables but no alembic_version and lacks "
                    f"{', '.join(sorted(missing))}: not a schema the migrations know")
            log.info("database created before the migrations: stamping it at %s", BASELINE)
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        table = Sequence.__table__
        if connection.execute(select(table.c.name).where(table.c.name == CHANGES)).first() is None:
            connection.execute(insert(table).values(name=CHANGES, value=0))
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        _unlock(connection)


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest revision (see :func:`upgrade_schema`)."""
    from lapi.db.session import open_database

    open_database(url).dispose()


__all__ = ["BASELINE", "SchemaError", "alembic_config", "current_revision", "migrate",
           "upgrade_schema"]
