"""Bouncer endpoints: ``GET /v1/decisions`` and ``GET /v1/decisions/stream`` (X-Api-Key).

Handlers are plain functions: FastAPI runs them in its thread pool, so database work never
blocks the event loop."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import update
from starlette.responses import Response

from lapi import metrics
from lapi.bouncers import BouncerIdentity, user_agent_fields
from lapi.db.models import Bouncer
from lapi.decisions import parse_bool, parse_filter, parse_page, query_decisions
from lapi.stream import DEFAULT_SCOPES, pull_stream
from lapi.web import JSONBody, client_ip, query, require_bouncer, state

router = APIRouter()

Authenticated = Annotated[BouncerIdentity, Depends(require_bouncer)]

#: GET /v1/decisions refreshes a bouncer's last_pull at most this often (as CrowdSec)
LAST_PULL_REFRESH = timedelta(minutes=1)


def _bouncer_changes(request: Request, bouncer: BouncerIdentity, now: datetime) -> dict[str, Any]:
    """Bouncer columns to refresh: last_pull, and the address and User-Agent it comes with."""
    changes: dict[str, Any] = {"last_pull": now, "updated_at": now}
    ip = client_ip(request)[:64]
    if ip and ip != bouncer.ip_address:
        changes["ip_address"] = ip
    kind, version = user_agent_fields(request.headers.get("user-agent"))
    if kind and (kind, version) != (bouncer.type, bouncer.version):
        changes.update(type=kind, version=version)
    return changes


@router.api_route("/v1/decisions", methods=["GET", "HEAD"])
def get_decisions(request: Request, bouncer: Authenticated) -> Response:
    lapi = state(request)
    params = query(request)
    flt = parse_filter(params)
    page = parse_page(params)
    now = lapi.clock()
    with lapi.database.read_session() as session:
        results = query_decisions(session, flt, page, now)
    (metrics.DECISIONS_OK if results else metrics.DECISIONS_KO).labels(bouncer.name).inc()
    if request.method == "HEAD":
        return Response(status_code=200)
    changes = _bouncer_changes(request, bouncer, now)
    stale = bouncer.last_pull is None or now - bouncer.last_pull >= LAST_PULL_REFRESH
    if stale or len(changes) > 2:
        with lapi.database.session() as session:
            session.execute(update(Bouncer).where(Bouncer.id == bouncer.id).values(**changes)
                            .execution_options(synchronize_session=False))
    # 1.4.6 answers null for no decision; clients accept it (pycrowdsec, blocklist-import)
    return JSONBody(results or None)


@router.api_route("/v1/decisions/stream", methods=["GET", "HEAD"])
def get_decisions_stream(request: Request, bouncer: Authenticated) -> Response:
    if request.method == "HEAD":
        # no body and no cursor move: a HEAD must not eat the next GET's delta
        return Response(status_code=200)
    lapi = state(request)
    params = query(request)
    startup_values = params.get("startup")
    startup = parse_bool("startup", startup_values[0]) if startup_values else False
    # simulated decisions are never streamed to bouncers
    flt = replace(parse_filter(params, default_scopes=DEFAULT_SCOPES), include_simulated=False)
    now = lapi.clock()
    answer = pull_stream(lapi.database, bouncer.id, flt, startup, now,
                         touch=_bouncer_changes(request, bouncer, now))
    # both keys always present (pycrowdsec indexes them); [] rather than null so that
    # current bouncers, which iterate the lists, work as well as 1.4.6-era ones
    return JSONBody(answer.body())
