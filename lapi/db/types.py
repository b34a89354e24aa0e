"""Column types that behave the same on SQLite, PostgreSQL and MySQL/MariaDB."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime stored as a naive UTC timestamp with microseconds.

    MySQL gets ``DATETIME(6)`` (its default has whole seconds); SQLite stores SQLAlchemy's
    fixed-width text, whose string order is time order. Naive datetimes are refused so a
    local time can never be stored by mistake."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the LAPI only stores aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


#: unbounded text: MySQL's ``TEXT`` stops at 64 KiB (an insert beyond fails in strict mode),
#: so it gets ``MEDIUMTEXT`` (16 MiB) like the other databases' unbounded ``TEXT``
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def mysql_table_options(dialect: Dialect) -> dict[str, str]:
    """Table options of every LAPI table on MySQL/MariaDB (empty elsewhere).

    ``utf8mb4`` (all of Unicode) with a *binary, no-pad* collation, so strings compare as on
    SQLite and PostgreSQL: case-sensitive (``'B1' != 'b1'``, unique keys included) and with
    trailing spaces significant. The server's default (``utf8mb4_general_ci``) is neither.
    MariaDB calls it ``utf8mb4_nopad_bin``, MySQL 8 ``utf8mb4_0900_bin``."""
    if dialect.name not in ("mysql", "mariadb"):
        return {}
    collation = "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
    return {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": collation}


class IPKey(TypeDecorator[str]):
    """A 32 hex digit address number (:func:`lapi.iprange.ip_key`) compared byte-wise.

    A binary collation is forced where the default one could reorder characters
    (PostgreSQL ``COLLATE "C"``, MySQL ``ascii_bin``); SQLite compares with BINARY already."""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.VARCHAR(32, collation="C"))
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(
                mysql.VARCHAR(32, charset="ascii", collation="ascii_bin"))
        return dialect.type_descriptor(String(32))
