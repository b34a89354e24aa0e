"""The LAPI schema: SQLAlchemy 2 typed declarative models.

Portable to SQLite, PostgreSQL and MySQL/MariaDB: every string has a length (MySQL), the
integer keys are BIGINT except on SQLite (where only ``INTEGER PRIMARY KEY`` autoincrements),
times are :class:`~lapi.db.types.UTCDateTime`, unbounded text is
:data:`~lapi.db.types.LongText`, constraint names follow a naming convention (stable names for
the alembic migrations of :mod:`lapi.db.migrate`; on MySQL/MariaDB the tables are created
``utf8mb4`` with a binary collation, :func:`~lapi.db.types.mysql_table_options`). Table and column names follow CrowdSec's
where the concept is the same.

Decisions and the stream
------------------------
A decision row is never updated except to be *deleted*, which is a soft delete: ``deleted_at``
and ``deleted_seq`` are set and ``until`` (the scheduled expiry) is kept. A decision is
active while ``deleted_seq IS NULL AND until > now``; its effective end (what clients are
shown) is ``deleted_at`` when deleted, else ``until``. ``created_seq`` and ``deleted_seq`` are
values of the *change sequence* (:mod:`lapi.db.changes`), allocated in commit order; with the
scheduled ``until`` they let :mod:`lapi.stream` compute every bouncer's delta exactly. Rows
are hard-deleted only by the retention job (:mod:`lapi.flush`), once detached from their alert
and ended before every live stream cursor.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from lapi.db.types import IPKey, LongText, UTCDateTime

#: BIGINT ids, but SQLite needs INTEGER PRIMARY KEY to autoincrement
IdType = BigInteger().with_variant(Integer(), "sqlite")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: bounded lengths, checked by ingestion before they reach the database
SCOPE_LEN = 64
TYPE_LEN = 64
VALUE_LEN = 255
NAME_LEN = 255


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Sequence(Base):
    """Named counters. ``changes`` is the change sequence: writers increment it first thing
    in their transaction, which row-locks it until commit, so its values are handed out in
    commit order (see :mod:`lapi.db.changes`)."""

    __tablename__ = "lapi_sequences"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Bouncer(Base):
    """A remediation component; ``api_key`` is the SHA-512 hex digest of its key (CrowdSec
    stores the same digest), never the key itself."""

    __tablename__ = "bouncers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, unique=True)
    api_key: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ip_address: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    type: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(255))
    last_pull: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auth_type: Mapped[str] = mapped_column(String(32), nullable=False, default="api-key")


class StreamCursor(Base):
    """Where a bouncer's ``/v1/decisions/stream`` left off: ``seq`` (change sequence value)
    and ``at`` (the LAPI time of that pull). One row per bouncer; a later version can key it
    by (bouncer, filter) without changing the algorithm."""

    __tablename__ = "bouncer_stream_cursors"

    bouncer_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("bouncers.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Alert(Base):
    """An alert (CrowdSec ``models.Alert``). ``uuid`` is the pipeline's deterministic alert id:
    unique, so a redelivered alert is recognised. ``machine_id`` is the pushing watcher
    (``None`` for alerts from the alerts topic)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    uuid: Mapped[str | None] = mapped_column(String(64), unique=True)
    machine_id: Mapped[str | None] = mapped_column(String(NAME_LEN), index=True)
    scenario: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, index=True)
    bucket_id: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, default="")
    message: Mapped[str] = mapped_column(LongText, nullable=False, default="")
    events_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    stopped_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    source_ip: Mapped[str | None] = mapped_column(String(64))
    source_range: Mapped[str | None] = mapped_column(String(64))
    source_as_number: Mapped[str | None] = mapped_column(String(32))
    source_as_name: Mapped[str | None] = mapped_column(String(NAME_LEN))
    source_country: Mapped[str | None] = mapped_column(String(16))
    source_latitude: Mapped[float | None] = mapped_column(Float)
    source_longitude: Mapped[float | None] = mapped_column(Float)
    source_scope: Mapped[str] = mapped_column(String(SCOPE_LEN), nullable=False, default="")
    source_value: Mapped[str] = mapped_column(String(VALUE_LEN), nullable=False, default="",
                                              index=True)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    leak_speed: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    scenario_version: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, default="")
    scenario_hash: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, default="")
    simulated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    remediation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    kind: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[str | None] = mapped_column(LongText)  # JSON list, as received

    decisions: Mapped[list[Decision]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", passive_deletes=True,
        lazy="raise_on_sql",
    )
    events: Mapped[list[Event]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )
    metas: Mapped[list[Meta]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )


class Decision(Base):
    """A decision (ban, captcha…) on a scope/value, until a time. See the module docstring
    for ``until``/``deleted_*`` and the change sequence columns. For ``Ip`` and ``Range``
    scopes, ``ip_size``/``start_ip``/``end_ip`` hold the address interval (:mod:`lapi.iprange`)."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_ip", "ip_size", "start_ip", "end_ip"),
        Index("ix_decisions_key", "value", "scope", "type"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    alert_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    uuid: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    scenario: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    type: Mapped[str] = mapped_column(String(TYPE_LEN), nullable=False)
    scope: Mapped[str] = mapped_column(String(SCOPE_LEN), nullable=False)
    value: Mapped[str] = mapped_column(String(VALUE_LEN), nullable=False)
    origin: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    simulated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ip_size: Mapped[int | None] = mapped_column(SmallInteger)
    start_ip: Mapped[str | None] = mapped_column(IPKey)
    end_ip: Mapped[str | None] = mapped_column(IPKey)
    created_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    deleted_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alert: Mapped[Alert | None] = relationship(back_populates="decisions", lazy="raise_on_sql")

    @property
    def end(self) -> datetime:
        """When the decision stops (or stopped) applying."""
        return self.deleted_at if self.deleted_at is not None else self.until


class Event(Base):
    """One event of an alert: its time and its meta as JSON (CrowdSec's ``serialized``)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    serialized: Mapped[str] = mapped_column(LongText, nullable=False)


class Meta(Base):
    """One key/value of an alert's meta."""

    __tablename__ = "metas"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    key: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    value: Mapped[str] = mapped_column(LongText, nullable=False)


class Machine(Base):
    """A watcher (agent, cscli) of the LAPI (CrowdSec's ``machines``). ``password`` is a bcrypt
    hash (CrowdSec stores the same), never the password; a TLS-authenticated machine has
    ``auth_type`` ``"tls"`` and an unusable password. Login is refused until ``is_validated``.
    ``scenarios`` is the comma-separated list sent at the last login. Ids are never reused
    (SQLite ``AUTOINCREMENT``): a token names its machine's id (:mod:`lapi.tokens`)."""

    __tablename__ = "machines"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    machine_id: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, unique=True)
    password: Mapped[str] = mapped_column(String(128), nullable=False)
    ip_address: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    scenarios: Mapped[str | None] = mapped_column(LongText)
    version: Mapped[str | None] = mapped_column(String(255))
    is_validated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    auth_type: Mapped[str] = mapped_column(String(32), nullable=False, default="password")
    last_push: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AllowList(Base):
    """A named allowlist (CrowdSec's ``allowlists``): IPs and ranges that never get an alert
    from an agent nor keep a decision. ``from_console``/``allowlist_id``: lists managed by
    the CrowdSec console (kept for the API shape; this LAPI does not pull them)."""

    __tablename__ = "allowlists"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(LongText, nullable=False, default="")
    from_console: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    allowlist_id: Mapped[str | None] = mapped_column(String(NAME_LEN), index=True)


class AllowListItem(Base):
    """One IP or range of an allowlist, as an address interval like a decision's
    (:mod:`lapi.iprange`); ``expires_at`` ``None``: never expires."""

    __tablename__ = "allowlist_items"
    __table_args__ = (Index("ix_allowlist_items_ip", "ip_size", "start_ip", "end_ip"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    allowlist_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("allowlists.id", ondelete="CASCADE"), nullable=False, index=True
    )
    value: Mapped[str] = mapped_column(String(64), nullable=False)
    description: Mapped[str] = mapped_column(LongText, nullable=False, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ip_size: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_ip: Mapped[str] = mapped_column(IPKey, nullable=False)
    end_ip: Mapped[str] = mapped_column(IPKey, nullable=False)


class UsageMetric(Base):
    """One ``POST /v1/usage-metrics`` snapshot (CrowdSec's ``metrics``): ``generated_type``
    ``LP`` (log processor, a machine) or ``RC`` (remediation component, a bouncer),
    ``generated_by`` its machine id or bouncer name, ``payload`` the JSON pushed."""

    __tablename__ = "usage_metrics"
    __table_args__ = (Index("ix_usage_metrics_origin", "generated_type", "generated_by"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    generated_type: Mapped[str] = mapped_column(String(2), nullable=False)
    generated_by: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(LongText, nullable=False)
