"""Allowlist endpoints (JWT), as CrowdSec's: ``GET /v1/allowlists``, ``GET|HEAD
/v1/allowlists/{name}`` (``with_content=true`` adds the live items), ``GET|HEAD
/v1/allowlists/check/{ip_or_range}`` (HEAD: 200 allowlisted, 204 not) and ``POST
/v1/allowlists/check`` (``{"targets": [...]}`` → the allowlisted ones with their reasons).
A value that is neither an IP nor a range is a 400 (CrowdSec answers 500)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session
from starlette.responses import Response

from lapi.allowlists import AllowlistNotFound, allowlisted_by, get_allowlist, list_allowlists
from lapi.machines import MachineIdentity
from lapi.web import HTTPError, JSONBody, require_machine, state

router = APIRouter()

Machine = Annotated[MachineIdentity, Depends(require_machine)]


class BulkCheck(BaseModel):
    """CrowdSec's ``BulkCheckAllowlistRequest``."""

    model_config = ConfigDict(extra="ignore")

    targets: list[str]


def _with_content(request: Request) -> bool:
    return request.query_params.get("with_content") == "true"  # as CrowdSec reads it


def _reasons(session: Session, value: str, now: datetime) -> list[str]:
    try:
        return allowlisted_by(session, value, now)
    except ValueError as exc:
        raise HTTPError(400, str(exc)) from None


@router.get("/v1/allowlists")
def get_allowlists(request: Request, machine: Machine) -> JSONBody:
    lapi = state(request)
    with lapi.database.read_session() as session:
        found = list_allowlists(session, lapi.clock(), with_content=_with_content(request))
    return JSONBody(found)


@router.api_route("/v1/allowlists/check/{ip_or_range:path}", methods=["GET", "HEAD"])
def check_allowlisted(request: Request, ip_or_range: str, machine: Machine) -> Response:
    if not ip_or_range:
        raise HTTPError(400, "value is required")
    lapi = state(request)
    with lapi.database.read_session() as session:
        reasons = _reasons(session, ip_or_range, lapi.clock())
    if request.method == "HEAD":
        return Response(status_code=200 if reasons else 204)
    if not reasons:
        return JSONBody({"allowlisted": False})
    return JSONBody({"allowlisted": True, "reason": ", ".join(reasons)})


@router.post("/v1/allowlists/check")
def check_allowlisted_bulk(request: Request, body: BulkCheck, machine: Machine) -> JSONBody:
    if not body.targets:
        raise HTTPError(400, "targets list cannot be empty")
    lapi = state(request)
    now = lapi.clock()
    results = []
    with lapi.database.read_session() as session:
        for target in body.targets:
            reasons = _reasons(session, target, now)
            if reasons:
                results.append({"allowlists": reasons, "target": target})
    return JSONBody({"results": results})


@router.api_route("/v1/allowlists/{allowlist_name}", methods=["GET", "HEAD"])
def get_one_allowlist(request: Request, allowlist_name: str, machine: Machine) -> Response:
    lapi = state(request)
    try:
        if "\x00" in allowlist_name:  # no database can even compare it
            raise AllowlistNotFound(allowlist_name)
        with lapi.database.read_session() as session:
            found = get_allowlist(session, allowlist_name, lapi.clock(),
                                  with_content=_with_content(request))
    except AllowlistNotFound as exc:
        if request.method == "HEAD":
            return Response(status_code=404)
        raise HTTPError(404, str(exc)) from None
    if request.method == "HEAD":
        return Response(status_code=200)
    return JSONBody(found)
