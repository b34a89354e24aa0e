"""Decision endpoints: ``GET /v1/decisions`` and ``GET /v1/decisions/stream`` for bouncers
(X-Api-Key); ``DELETE /v1/decisions`` (by filter) and ``DELETE /v1/decisions/{id}`` for
machines (JWT). A delete ends the decisions now: bouncers get them under ``deleted``.

Handlers are plain functions: FastAPI runs them in its thread pool, so database work never
blocks the event loop."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import update
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lapi import metrics
from lapi.bouncers import BouncerIdentity, user_agent_fields
from lapi.db.models import Bouncer, Decision
from lapi.decisions import (expire_decisions, parse_bool, parse_delete_filter, parse_filter,
                            parse_page, query_decisions)
from lapi.machines import MachineIdentity
from lapi.longpoll import parse_wait, wait_for_stream
from lapi.stream import DEFAULT_SCOPES, pull_stream
from lapi.web import HTTPError, JSONBody, client_ip, query, require_bouncer, require_machine, state

router = APIRouter()

Authenticated = Annotated[BouncerIdentity, Depends(require_bouncer)]
Machine = Annotated[MachineIdentity, Depends(require_machine)]

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
async def get_decisions_stream(request: Request, bouncer: Authenticated) -> Response:
    if request.method == "HEAD":
        # no body and no cursor move: a HEAD must not eat the next GET's delta
        return Response(status_code=200)
    lapi = state(request)
    params = query(request)
    startup_values = params.get("startup")
    startup = parse_bool("startup", startup_values[0]) if startup_values else False
    wait_values = params.get("wait")
    wait = parse_wait(wait_values[0]) if wait_values else 0.0
    # simulated decisions are never streamed to bouncers
    flt = replace(parse_filter(params, default_scopes=DEFAULT_SCOPES),
                  include_simulated=False)

    def touch(now: datetime) -> dict[str, Any]:
        return _bouncer_changes(request, bouncer, now)

    if wait and not startup:
        answer = await wait_for_stream(
            lapi.database, lapi.changes, lapi.clock, bouncer.id, flt, wait=wait,
            poll_interval=lapi.settings.stream_poll_interval, touch=touch,
            gone=request.is_disconnected)
        if answer is None:
            return Response(status_code=499)  # nobody reads it
    else:
        now = lapi.clock()
        answer = await run_in_threadpool(pull_stream, lapi.database, bouncer.id, flt, startup,
                                         now, touch=touch(now))
    # both keys always present (pycrowdsec indexes them); [] rather than null so that
    # current bouncers, which iterate the lists, work as well as 1.4.6-era ones
    return JSONBody(answer.body())


@router.delete("/v1/decisions")
def delete_decisions(request: Request, machine: Machine) -> JSONBody:
    lapi = state(request)
    flt = parse_delete_filter(query(request))
    with lapi.database.session() as session:
        deleted = expire_decisions(session, lapi.clock(), flt=flt)
    # a string, as CrowdSec answers (cscli parses it so)
    return JSONBody({"nbDeleted": str(deleted)})


@router.delete("/v1/decisions/{decision_id}")
def delete_decision(request: Request, decision_id: str, machine: Machine) -> JSONBody:
    if not decision_id.isascii() or not decision_id.isdigit() or len(decision_id) > 18:
        raise HTTPError(400, "decision_id must be valid integer")
    lapi = state(request)
    with lapi.database.session() as session:
        if session.get(Decision, int(decision_id)) is None:
            # CrowdSec answers this with a 500; a missing object is a 404
            raise HTTPError(404, f"decision with id '{decision_id}' doesn't exist")
        deleted = expire_decisions(session, lapi.clock(), ids=[int(decision_id)])
    return JSONBody({"nbDeleted": str(deleted)})
