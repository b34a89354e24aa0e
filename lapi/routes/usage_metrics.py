"""``POST /v1/usage-metrics``: log processors (machine token) and remediation components
(bouncer key or certificate) push usage metrics (:mod:`lapi.usage_metrics`). Answers 201
with no body, as CrowdSec; 422 for a body off the schema, 400 for a missing or repeated
item of the sender's kind or invalid JSON.

Who sends is told as CrowdSec tells it: an ``X-Api-Key`` header means a bouncer, else an
``Authorization`` header (or a ``crowdsec/`` User-Agent) a machine, else a bouncer (client
certificate)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from lapi.usage_metrics import (
    LOG_PROCESSOR,
    REMEDIATION,
    AllMetrics,
    Sender,
    UsageMetricsError,
    store_usage_metrics,
)
from lapi.web import HTTPError, require_bouncer, require_machine, state

router = APIRouter()


def authenticate_sender(request: Request) -> Sender:
    """Dependency: the machine or bouncer pushing (401/403 as their own endpoints)."""
    headers = request.headers
    machine_auth = not headers.get("x-api-key") and (
        bool(headers.get("authorization"))
        or headers.get("user-agent", "").startswith("crowdsec/"))
    if machine_auth:
        machine = require_machine(request)
        return Sender(LOG_PROCESSOR, machine.id, machine.machine_id)
    bouncer = require_bouncer(request)
    return Sender(REMEDIATION, bouncer.id, bouncer.name)


@router.post("/v1/usage-metrics")
def push_usage_metrics(request: Request, sender: Annotated[Sender, Depends(authenticate_sender)],
                       body: AllMetrics) -> Response:
    lapi = state(request)
    try:
        with lapi.database.session() as session:
            store_usage_metrics(session, sender, body, lapi.clock())
    except UsageMetricsError as exc:
        raise HTTPError(400, str(exc)) from None
    return Response(status_code=201)
