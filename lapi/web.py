"""HTTP plumbing shared by the routes: the app state, JSON responses, errors, query access,
the client address, and the dependencies authenticating bouncers (API key or client
certificate) and machines (token), and restricting endpoints to trusted addresses."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request
from starlette.responses import Response

from lapi import metrics
from lapi.bouncers import BouncerIdentity, authenticate
from lapi.certauth import CertRefused, cert_bouncer
from lapi.clientip import client_address, is_trusted
from lapi.machines import MachineIdentity, find_machine
from lapi.settings import TlsSettings
from lapi.tls import CertSubject, client_subject
from lapi.tokens import TokenError

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
    """An error answered as ``{"message": ...}`` with ``status`` (and ``"code": status`` when
    ``with_code``: the machines' authentication errors, as CrowdSec's JWT middleware)."""

    def __init__(self, status: int, message: str, *, with_code: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.with_code = with_code

    def body(self) -> dict[str, Any]:
        if self.with_code:
            return {"code": self.status, "message": self.message}
        return {"message": self.message}


def unauthorized(message: str) -> HTTPError:
    """A machine authentication failure: 401 ``{"code":401,"message":...}``."""
    return HTTPError(401, message, with_code=True)


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
    """The client's address (forwarded-for headers of trusted proxies: :mod:`lapi.clientip`)."""
    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers.items(), state(request).settings.trusted_proxies)


def require_trusted_ip(request: Request) -> str:
    """Dependency of the trusted-only endpoints (CrowdSec: deleting alerts): the client
    address when loopback or in ``trusted_ips``, else 403."""
    address = client_ip(request)
    if not is_trusted(address, state(request).settings.trusted_ips):
        raise HTTPError(403, f"access forbidden from this IP ({address})")
    return address


def _key_bouncer(request: Request, lapi: LapiState) -> BouncerIdentity | None:
    key = request.headers.get("x-api-key")
    with lapi.database.read_session() as session:
        bouncer = authenticate(session, key)
    if bouncer is None:
        log.warning("bouncer authentication failed from %s (%s key)", client_ip(request),
                    "no" if not key else "unknown")
    return bouncer


def _cert_bouncer(request: Request, lapi: LapiState, tls: TlsSettings,
                  subject: CertSubject) -> BouncerIdentity | None:
    try:
        return cert_bouncer(lapi.database, subject, tls.bouncers_allowed_ou, client_ip(request),
                            lapi.clock())
    except CertRefused as exc:
        log.warning("bouncer certificate refused from %s: %s", client_ip(request), exc)
        return None


def require_bouncer(request: Request) -> BouncerIdentity:
    """Dependency: the bouncer of the request's client certificate if it has one (TLS
    configured), else the one owning the ``X-Api-Key`` header; else 403."""
    lapi = state(request)
    tls = lapi.settings.tls
    subject = client_subject(request.scope) if tls is not None else None
    if tls is not None and subject is not None:
        bouncer = _cert_bouncer(request, lapi, tls, subject)
    else:
        bouncer = _key_bouncer(request, lapi)
    if bouncer is None:
        raise HTTPError(403, "access forbidden")
    metrics.BOUNCER_REQUESTS.labels(bouncer.name, route_path(request), request.method).inc()
    return bouncer


def bearer_token(request: Request) -> str:
    """The token of the ``Authorization: Bearer`` header; 401 if missing or malformed."""
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("auth header is empty")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme != "Bearer" or not token:
        raise unauthorized("auth header is invalid")
    return token


def require_machine(request: Request) -> MachineIdentity:
    """Dependency: the validated machine of the request's Bearer token, else 401."""
    lapi = state(request)
    try:
        subject = lapi.tokens.verify(bearer_token(request), lapi.clock())
    except TokenError as exc:
        log.info("machine token refused from %s: %s", client_ip(request), exc)
        raise unauthorized(str(exc)) from None
    with lapi.database.read_session() as session:
        machine = find_machine(session, subject.machine_id)
    if machine is None or machine.id != subject.row_id:
        log.warning("token of unknown or unvalidated machine %r from %s", subject.machine_id,
                    client_ip(request))
        raise unauthorized("machine not found or not validated")
    return machine
