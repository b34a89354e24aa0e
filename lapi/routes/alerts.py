"""Alert endpoints (JWT). ``POST /v1/alerts``: an agent pushes alerts; the one ingestion path
(:func:`lapi.ingest.ingest_alerts`: validation, profiles, idempotence on the alert uuid)
stores them with their decisions. Answers 201 with the alert ids as strings, in order; an
invalid alert fails the whole request with 422 and stores nothing. ``GET /v1/alerts``
(filters of :func:`lapi.alerts.alert_filter`) and ``GET /v1/alerts/{id}`` read them back
(HEAD: the status only). ``DELETE /v1/alerts`` (same filters) and ``DELETE /v1/alerts/{id}``,
from trusted addresses only as in CrowdSec, answer ``{"nbDeleted": "N"}``; the alerts'
decisions end and bouncers get them under ``deleted``."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import update
from starlette.responses import Response

from lapi.alerts import delete_alerts, get_alert, search_alerts
from lapi.db.models import Machine as MachineRow
from lapi.ingest import ingest_alerts
from lapi.machines import MachineIdentity
from lapi.web import HTTPError, JSONBody, query, require_machine, require_trusted_ip, state

router = APIRouter()

Machine = Annotated[MachineIdentity, Depends(require_machine)]
TrustedAddress = Annotated[str, Depends(require_trusted_ip)]


def _alert_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise HTTPError(400, "alert_id must be valid integer")
    return int(text)


@router.post("/v1/alerts")
def push_alerts(request: Request, machine: Machine,
                alerts: Annotated[list[dict[str, Any]], Body()]) -> JSONBody:
    lapi = state(request)
    now = lapi.clock()
    with lapi.database.session() as session:
        ids = ingest_alerts(session, alerts, lapi.profiles, now,
                            machine_id=machine.machine_id, source="api",
                            dedup_window=lapi.settings.decision_dedup_window)
        session.execute(update(MachineRow).where(MachineRow.id == machine.id)
                        .values(last_push=now, updated_at=now)
                        .execution_options(synchronize_session=False))
    return JSONBody([str(i) for i in ids], status_code=201)


@router.api_route("/v1/alerts", methods=["GET", "HEAD"])
def list_alerts(request: Request, machine: Machine) -> Response:
    lapi = state(request)
    with lapi.database.read_session() as session:
        found = search_alerts(session, query(request), lapi.clock())
    if request.method == "HEAD":
        return Response(status_code=200)
    return JSONBody(found or None)  # 1.4.6 answers null for none


@router.api_route("/v1/alerts/{alert_id}", methods=["GET", "HEAD"])
def show_alert(request: Request, alert_id: str, machine: Machine) -> Response:
    lapi = state(request)
    with lapi.database.read_session() as session:
        found = get_alert(session, _alert_id(alert_id), lapi.clock())
    if found is None:
        raise HTTPError(404, "object not found")
    if request.method == "HEAD":
        return Response(status_code=200)
    return JSONBody(found)


@router.delete("/v1/alerts")
def delete_alerts_by_filter(request: Request, machine: Machine,
                            address: TrustedAddress) -> JSONBody:
    lapi = state(request)
    with lapi.database.session() as session:
        deleted = delete_alerts(session, lapi.clock(), query=query(request))
    return JSONBody({"nbDeleted": str(deleted)})


@router.delete("/v1/alerts/{alert_id}")
def delete_alert(request: Request, alert_id: str, machine: Machine,
                 address: TrustedAddress) -> JSONBody:
    lapi = state(request)
    with lapi.database.session() as session:
        deleted = delete_alerts(session, lapi.clock(), alert_id=_alert_id(alert_id))
    if not deleted:
        raise HTTPError(404, "object not found")
    return JSONBody({"nbDeleted": "1"})
