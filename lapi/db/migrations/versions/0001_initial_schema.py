"""Initial schema: the tables ``create_all`` made before the migrations existed.

Generated from the models, then reviewed: the column types are spelled out here (frozen, not
imported from :mod:`lapi.db.types`, so later model changes cannot alter this revision), with
what those types compile to on each database: ``UTCDateTime`` is a naive UTC ``TIMESTAMP``
(MySQL ``DATETIME(6)``: microseconds), ``IPKey`` a byte-wise compared ``VARCHAR(32)``, ids
``BIGINT`` (SQLite ``INTEGER PRIMARY KEY`` to autoincrement), unbounded text ``MEDIUMTEXT`` on
MySQL. MySQL/MariaDB tables are ``utf8mb4`` with a binary no-pad collation
(:func:`lapi.db.types.mysql_table_options`); the longest index, ``ix_decisions_key``
(255 + 64 + 64 characters × 4 bytes = 1532 bytes), fits InnoDB's 3072-byte limit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

from lapi.db.types import mysql_table_options

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
IPKey = (sa.String(32)
         .with_variant(postgresql.VARCHAR(32, collation="C"), "postgresql")
         .with_variant(mysql.VARCHAR(32, charset="ascii", collation="ascii_bin"),
                       "mysql", "mariadb"))


def _table(name: str, *items: sa.SchemaItem) -> None:
    op.create_table(name, *items, **mysql_table_options(op.get_bind().dialect))


def _id_and_times() -> list[sa.Column]:
    return [sa.Column("id", Id, autoincrement=True, nullable=False),
            sa.Column("created_at", Time, nullable=False),
            sa.Column("updated_at", Time, nullable=False)]


def upgrade() -> None:
    _table(
        "lapi_sequences",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_lapi_sequences"),
    )

    _table(
        "bouncers",
        *_id_and_times(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("api_key", sa.String(128), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("ip_address", sa.String(64), nullable=False),
        sa.Column("type", sa.String(255), nullable=True),
        sa.Column("version", sa.String(255), nullable=True),
        sa.Column("last_pull", Time, nullable=True),
        sa.Column("auth_type", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bouncers"),
        sa.UniqueConstraint("name", name="uq_bouncers_name"),
    )
    op.create_index("ix_bouncers_api_key", "bouncers", ["api_key"])

    _table(
        "bouncer_stream_cursors",
        sa.Column("bouncer_id", Id, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.ForeignKeyConstraint(["bouncer_id"], ["bouncers.id"], ondelete="CASCADE",
                                name="fk_bouncer_stream_cursors_bouncer_id_bouncers"),
        sa.PrimaryKeyConstraint("bouncer_id", name="pk_bouncer_stream_cursors"),
    )

    _table(
        "alerts",
        *_id_and_times(),
        sa.Column("uuid", sa.String(64), nullable=True),
        sa.Column("machine_id", sa.String(255), nullable=True),
        sa.Column("scenario", sa.String(255), nullable=False),
        sa.Column("bucket_id", sa.String(255), nullable=False),
        sa.Column("message", LongText, nullable=False),
        sa.Column("events_count", sa.Integer(), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("stopped_at", Time, nullable=False),
        sa.Column("source_ip", sa.String(64), nullable=True),
        sa.Column("source_range", sa.String(64), nullable=True),
        sa.Column("source_as_number", sa.String(32), nullable=True),
        sa.Column("source_as_name", sa.String(255), nullable=True),
        sa.Column("source_country", sa.String(16), nullable=True),
        sa.Column("source_latitude", sa.Float(), nullable=True),
        sa.Column("source_longitude", sa.Float(), nullable=True),
        sa.Column("source_scope", sa.String(64), nullable=False),
        sa.Column("source_value", sa.String(255), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("leak_speed", sa.String(64), nullable=False),
        sa.Column("scenario_version", sa.String(255), nullable=False),
        sa.Column("scenario_hash", sa.String(255), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("remediation", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=True),
        sa.Column("labels", LongText, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("uuid", name="uq_alerts_uuid"),
    )
    for column in ("created_at", "machine_id", "scenario", "source_value"):
        op.create_index(f"ix_alerts_{column}", "alerts", [column])

    _table(
        "decisions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("alert_id", Id, nullable=True),
        sa.Column("uuid", sa.String(64), nullable=True),
        sa.Column("until", Time, nullable=False),
        sa.Column("scenario", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("ip_size", sa.SmallInteger(), nullable=True),
        sa.Column("start_ip", IPKey, nullable=True),
        sa.Column("end_ip", IPKey, nullable=True),
        sa.Column("created_seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted_seq", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", Time, nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name="fk_decisions_alert_id_alerts"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )
    for column in ("alert_id", "created_seq", "deleted_seq", "until"):
        op.create_index(f"ix_decisions_{column}", "decisions", [column])
    op.create_index("ix_decisions_ip", "decisions", ["ip_size", "start_ip", "end_ip"])
    op.create_index("ix_decisions_key", "decisions", ["value", "scope", "type"])

    _table(
        "events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("alert_id", Id, nullable=False),
        sa.Column("time", Time, nullable=False),
        sa.Column("serialized", LongText, nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name="fk_events_alert_id_alerts"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_alert_id", "events", ["alert_id"])

    _table(
        "metas",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("alert_id", Id, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name="fk_metas_alert_id_alerts"),
        sa.PrimaryKeyConstraint("id", name="pk_metas"),
    )
    op.create_index("ix_metas_alert_id", "metas", ["alert_id"])


def downgrade() -> None:
    for table in ("metas", "events", "decisions", "alerts", "bouncer_stream_cursors",
                  "bouncers", "lapi_sequences"):
        op.drop_table(table)  # drops its indexes too
