"""``POST /v1/alerts`` (JWT): an agent pushes alerts; the one ingestion path
(:func:`lapi.ingest.ingest_alerts`: validation, profiles, idempotence on the alert uuid)
stores them with their decisions. Answers 201 with the alert ids as strings, in order; an
invalid alert fails the whole request with 422 and stores nothing."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import update

from lapi.db.models import Machine as MachineRow
from lapi.ingest import ingest_alerts
from lapi.machines import MachineIdentity
from lapi.web import JSONBody, require_machine, state

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
