"""HTTP plumbing shared by the routes: the app state, JSON responses, errors, query access,
the bouncer API-key dependency."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request
from starlette.responses import Response

from lapi import metrics
from lapi.bouncers import BouncerIdentity, authenticate

if TYPE_CHECKING:
    from lapi.app import LapiState

log = logging.getLogger("crowdstream.lapi.web")

JSON_TYPE = "application/json; charset=utf-8"


class JSONBody(Response):
    """orjson-encoded JSON, with the content type CrowdSec (gin) sends."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class HTTPError(Exception):
    """An error answered as ``{"message": ...}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def state(request: Request) -> LapiState:
    return request.app.state.lapi


def query(request: Request) -> dict[str, Sequence[str]]:
    """Every query parameter with all its values (CrowdSec reads the first one). NUL
    characters are refused here: PostgreSQL cannot even compare text holding one."""
    params = request.query_params
    out = {key: params.getlist(key) for key in params}
    for key, values in out.items():
        if "\x00" in key or any("\x00" in v for v in values):
            raise HTTPError(400, f"invalid query parameter {key!r}: NUL character")
    return out


def route_path(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "invalid-endpoint"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def require_bouncer(request: Request) -> BouncerIdentity:
    """Dependency: the bouncer owning the ``X-Api-Key`` header, else 403."""
    key = request.headers.get("x-api-key")
    lapi = state(request)
    with lapi.database.read_session() as session:
        bouncer = authenticate(session, key)
    if bouncer is None:
        log.warning("bouncer authentication failed from %s (%s key)", client_ip(request),
                    "no" if not key else "unknown")
        raise HTTPError(403, "access forbidden")
    metrics.BOUNCER_REQUESTS.labels(bouncer.name, route_path(request), request.method).inc()
    return bouncer
