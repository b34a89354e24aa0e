"""Alembic environment of the LAPI schema.

Normally run by :func:`lapi.db.migrate.upgrade_schema`, which passes an open connection
(already in its transaction and holding the migration lock) as
``config.attributes["connection"]``. Run standalone (``alembic revision --autogenerate``
through :func:`lapi.db.migrate.alembic_config`), it connects to ``sqlalchemy.url``.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from lapi.db.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite's ALTER is limited
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    _run(given)
else:
    from lapi.db.session import create_db_engine

    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()
