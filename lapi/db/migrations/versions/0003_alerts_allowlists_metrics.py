"""Allowlists (with their IP/range items) and usage metrics.

Types spelled out as in revision 0001 (frozen): times naive UTC ``TIMESTAMP`` (MySQL
``DATETIME(6)``), ids ``BIGINT`` (SQLite ``INTEGER PRIMARY KEY``), unbounded text
``MEDIUMTEXT`` on MySQL, address keys byte-wise compared ``VARCHAR(32)``; MySQL/MariaDB tables
``utf8mb4`` with a binary no-pad collation. Alerts already keep their machine
(``alerts.machine_id``, revision 0001).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

from lapi.db.types import mysql_table_options

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
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


def upgrade() -> None:
    _table(
        "allowlists",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", LongText, nullable=False),
        sa.Column("from_console", sa.Boolean(), nullable=False),
        sa.Column("allowlist_id", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_allowlists"),
        sa.UniqueConstraint("name", name="uq_allowlists_name"),
    )
    op.create_index("ix_allowlists_allowlist_id", "allowlists", ["allowlist_id"])

    _table(
        "allowlist_items",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("allowlist_id", Id, nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("description", LongText, nullable=False),
        sa.Column("expires_at", Time, nullable=True),
        sa.Column("ip_size", sa.SmallInteger(), nullable=False),
        sa.Column("start_ip", IPKey, nullable=False),
        sa.Column("end_ip", IPKey, nullable=False),
        sa.ForeignKeyConstraint(["allowlist_id"], ["allowlists.id"], ondelete="CASCADE",
                                name="fk_allowlist_items_allowlist_id_allowlists"),
        sa.PrimaryKeyConstraint("id", name="pk_allowlist_items"),
    )
    op.create_index("ix_allowlist_items_allowlist_id", "allowlist_items", ["allowlist_id"])
    op.create_index("ix_allowlist_items_expires_at", "allowlist_items", ["expires_at"])
    op.create_index("ix_allowlist_items_ip", "allowlist_items",
                    ["ip_size", "start_ip", "end_ip"])

    _table(
        "usage_metrics",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("generated_type", sa.String(2), nullable=False),
        sa.Column("generated_by", sa.String(255), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("pushed_at", Time, nullable=True),
        sa.Column("payload", LongText, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_metrics"),
    )
    op.create_index("ix_usage_metrics_origin", "usage_metrics",
                    ["generated_type", "generated_by"])


def downgrade() -> None:
    for table in ("usage_metrics", "allowlist_items", "allowlists"):
        op.drop_table(table)
