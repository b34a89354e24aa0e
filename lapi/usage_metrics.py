"""Usage metrics (``POST /v1/usage-metrics``): the swagger's ``AllMetrics`` schema and the
snapshot store.

A log processor (a machine) sends exactly one ``log_processors`` item, a remediation
component (a bouncer) exactly one ``remediation_components`` item; the item is stored as one
:class:`~lapi.db.models.UsageMetric` row (``LP``/``RC``, by machine id or bouncer name) and
its ``version`` (and a bouncer's ``type``) refreshes the sender's row, as CrowdSec does.
Types are checked strictly (JSON integers for the timestamps, no string coercion), unknown
fields ignored, as Go's decoder does."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.orm import Session

from lapi.db.models import Bouncer, Machine, UsageMetric
from lapi.errors import LapiError

Short = Annotated[str, Field(max_length=255)]
LOG_PROCESSOR = "LP"
REMEDIATION = "RC"


class UsageMetricsError(LapiError):
    """A payload the schema accepts but the sender cannot send (HTTP 400)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class OSVersion(_Model):
    name: Short
    version: Short
    family: Short | None = None


class MetricsMeta(_Model):
    window_size_seconds: int
    utc_now_timestamp: int


class MetricsDetailItem(_Model):
    name: Short
    value: float
    unit: Short
    labels: dict[str, Short] | None = None


class DetailedMetrics(_Model):
    items: list[MetricsDetailItem]
    meta: MetricsMeta


class HubItem(_Model):
    name: str | None = None
    version: str | None = None
    status: str | None = None


class BaseMetrics(_Model):
    version: Short
    utc_startup_timestamp: int
    os: OSVersion | None = None
    metrics: list[DetailedMetrics] | None = None
    feature_flags: list[Short] | None = None


class RemediationComponentMetrics(BaseMetrics):
    type: Short | None = None
    name: str | None = None
    last_pull: int | None = None


class LogProcessorMetrics(BaseMetrics):
    hub_items: dict[str, list[HubItem]]
    datasources: dict[str, int]
    name: str | None = None
    last_push: int | None = None
    last_update: int | None = None


class LapiMetrics(BaseMetrics):
    console_options: list[str] | None = None


class AllMetrics(_Model):
    """The body of ``POST /v1/usage-metrics``."""

    remediation_components: list[RemediationComponentMetrics] | None = None
    log_processors: list[LogProcessorMetrics] | None = None
    lapi: LapiMetrics | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who pushes: a machine (``LP``) or a bouncer (``RC``), by row id and name."""

    kind: Literal["LP", "RC"]
    row_id: int
    name: str


def _only_item(items: list[Any] | None, what: str) -> Any:
    if not items:
        raise UsageMetricsError(f"Missing {what} data")
    if len(items) > 1:
        raise UsageMetricsError(f"Payload has more than one {what}")
    return items[0]


def _storable(value: str) -> str:
    if "\x00" in value:
        raise UsageMetricsError("NUL character in payload")
    return value


def store_usage_metrics(session: Session, sender: Sender, metrics: AllMetrics,
                        now: datetime) -> int:
    """Store the sender's item as a snapshot received ``now``; its id. UsageMetricsError when
    the sender's item is missing or repeated, or its version holds a NUL (the schema
    already refuses lone surrogates)."""
    if sender.kind == LOG_PROCESSOR:
        item = _only_item(metrics.log_processors, "log processor")
        table: type[Machine] | type[Bouncer] = Machine
        changes: dict[str, Any] = {"version": _storable(item.version)}
    else:
        item = _only_item(metrics.remediation_components, "remediation component")
        table = Bouncer
        changes = {"version": _storable(item.version)}
        if item.type:
            changes["type"] = _storable(item.type)
    payload = orjson.dumps(item.model_dump(exclude_none=True)).decode()
    row = UsageMetric(generated_type=sender.kind, generated_by=sender.name, received_at=now,
                      payload=payload)
    session.add(row)
    session.execute(update(table).where(table.id == sender.row_id).values(**changes)
                    .execution_options(synchronize_session=False))
    session.flush()
    return row.id
