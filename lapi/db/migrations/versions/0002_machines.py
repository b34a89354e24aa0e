"""Machines: the watchers that log in to the LAPI (password or TLS client certificate).

Types spelled out as in revision 0001 (frozen): times are naive UTC ``TIMESTAMP`` (MySQL
``DATETIME(6)``), the ``id`` ``BIGINT`` (SQLite ``INTEGER PRIMARY KEY``), ``scenarios``
unbounded text (MySQL ``MEDIUMTEXT``); MySQL/MariaDB tables ``utf8mb4`` with a binary no-pad
collation, so machine ids compare exactly.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from lapi.db.types import mysql_table_options

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "machines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("machine_id", sa.String(255), nullable=False),
        sa.Column("password", sa.String(128), nullable=False),
        sa.Column("ip_address", sa.String(64), nullable=False),
        sa.Column("scenarios", LongText, nullable=True),
        sa.Column("version", sa.String(255), nullable=True),
        sa.Column("is_validated", sa.Boolean(), nullable=False),
        sa.Column("auth_type", sa.String(32), nullable=False),
        sa.Column("last_push", Time, nullable=True),
        sa.Column("last_heartbeat", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_machines"),
        sa.UniqueConstraint("machine_id", name="uq_machines_machine_id"),
        sqlite_autoincrement=True,  # ids never reused: tokens name them
        **mysql_table_options(op.get_bind().dialect),
    )


def downgrade() -> None:
    op.drop_table("machines")
