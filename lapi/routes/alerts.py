"""Alert endpoints (JWT). ``POST /v1/alerts``: an agent pushes alerts; the one ingestion path
(:func:`lapi.ingest.ingest_alerts`: validation, profiles, idempotence on the alert uuid)
stores them with their decisions. Answers 201 with the alert ids as strings, in order; an
invalid alert fails the whole request with 422 and stores nothing. ``GET /v1/alerts``
(filters of :func:`lapi.alerts.alert_filter`) and ``GET /v1/alerts/{id}`` read them back."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import update

from lapi.alerts import get_alert, search_alerts
from lapi.db.models import Machine as MachineRow
from lapi.ingest import ingest_alerts
from lapi.machines import MachineIdentity
from lapi.web import HTTPError, JSONBody, query, require_machine, state

router = APIRouter()

Machine = Annotated[MachineIdentity, Depends(require_machine)]


@router.post("/v1/alerts")
def push_alerts(request: Request, machine: Machine,
                alerts: Annotated[list[dict[str, Any]], Body()]) -> JSONBody:
    lapi = state(request)
    now = lapi.clock()
    with lapi.database.session() as session:
        ids = ingest_alerts(session, alerts, lapi.profiles, now,
                            machine_id=machine.machine_id, source="api")
        session.execute(update(MachineRow).where(MachineRow.id == machine.id)
                        .values(last_push=now, updated_at=now)
                        .execution_options(synchronize_session=False))
    return JSONBody([str(i) for i in ids], status_code=201)


@router.get("/v1/alerts")
def list_alerts(request: Request, machine: Machine) -> JSONBody:
    lapi = state(request)
    with lapi.database.read_session() as session:
        found = search_alerts(session, query(request), lapi.clock())
    return JSONBody(found or None)  # 1.4.6 answers null for none


@router.get("/v1/alerts/{alert_id}")
def show_alert(request: Request, alert_id: str, machine: Machine) -> JSONBody:
    if not alert_id.isascii() or not alert_id.isdigit() or len(alert_id) > 18:
        raise HTTPError(400, "alert_id must be valid integer")
    lapi = state(request)
    with lapi.database.read_session() as session:
        found = get_alert(session, int(alert_id), lapi.clock())
    if found is None:
        raise HTTPError(404, "object not found")
    return JSONBody(found)
