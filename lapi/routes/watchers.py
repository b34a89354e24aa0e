"""Machine endpoints: registration, login (the token), heartbeat, self-deletion.

``POST /v1/watchers`` creates a *pending* machine (an operator validates it);
``POST /v1/watchers/login`` answers ``{"code":200,"expire":<RFC 3339>,"token":<JWT>}``
whatever ``Authorization`` header comes with it (the agent's second login carries its
current token); with a client certificate (:mod:`lapi.certauth`) no password is needed.
Handlers are plain functions run in FastAPI's thread pool: bcrypt and the database never
block the event loop."""
from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from lapi.certauth import CertRefused, cert_machine
from lapi.gotime import format_rfc3339
from lapi.machines import (
    MachineError,
    MachineExists,
    MachineIdentity,
    add_machine,
    authenticate,
    delete_machine,
    record_heartbeat,
    record_login,
    user_agent_version,
)
from lapi.settings import AutoRegistrationSettings, TlsSettings
from lapi.tls import CertSubject, client_subject
from lapi.tokens import TokenSubject
from lapi.web import HTTPError, JSONBody, client_ip, require_machine, state, unauthorized

if TYPE_CHECKING:
    from lapi.app import LapiState

log = logging.getLogger("crowdstream.lapi.watchers")

router = APIRouter()

Authenticated = Annotated[MachineIdentity, Depends(require_machine)]

LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")


def _storable(value: str) -> str:
    """Refuse what no database stores (PostgreSQL: NUL) or UTF-8 cannot encode (lone
    surrogates, which JSON escapes can carry)."""
    if "\x00" in value:
        raise ValueError("NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("invalid Unicode (lone surrogate)") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]


class Registration(BaseModel):
    """CrowdSec's ``WatcherRegistrationRequest``."""

    model_config = ConfigDict(extra="ignore")

    machine_id: Text
    password: Text
    registration_token: Annotated[Text, Field(min_length=32, max_length=255)] | None = None


class Login(BaseModel):
    """CrowdSec's ``WatcherAuthRequest`` (``scenarios`` is null for cscli). ``machine_id``
    and ``password`` are required unless a client certificate authenticates."""

    model_config = ConfigDict(extra="ignore")

    machine_id: Text | None = None
    password: Text | None = None
    scenarios: list[Text] | None = None


def _auto_registered(auto: AutoRegistrationSettings | None, token: str | None,
                     address: str) -> bool:
    """CrowdSec's auto-registration: off, or no token → a pending machine; a wrong token or
    an address outside the allowed ranges → 401."""
    if auto is None or not token:
        return False
    if not hmac.compare_digest(token.encode(), auto.token.encode()):
        raise HTTPError(401, "invalid token for auto registration")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if not any(ip in network for network in auto.allowed_ranges):
        raise HTTPError(401, "IP not in allowed range for auto registration")
    return True


@router.post("/v1/watchers")
def register(request: Request, body: Registration) -> Response:
    lapi = state(request)
    address = client_ip(request)
    if lapi.settings.disable_remote_registration and address not in LOOPBACK_ADDRESSES:
        raise HTTPError(403, "access forbidden")
    validated = _auto_registered(lapi.settings.auto_registration, body.registration_token,
                                 address)
    try:
        with lapi.database.session() as session:
            add_machine(session, body.machine_id, body.password, validated=validated,
                        ip_address=address, now=lapi.clock())
    except MachineExists as exc:
        raise HTTPError(403, str(exc)) from None
    except MachineError as exc:
        raise HTTPError(400, str(exc)) from None
    if validated:
        log.info("machine %r auto-registered from %s", body.machine_id, address)
        return Response(status_code=202)
    log.info("machine %r registered from %s, pending validation", body.machine_id, address)
    return Response(status_code=201)


def _password_login(request: Request, lapi: LapiState, body: Login) -> MachineIdentity:
    if body.machine_id is None or body.password is None:
        missing = [f"body.{name}: Field required" for name in ("machine_id", "password")
                   if getattr(body, name) is None]
        raise HTTPError(422, "; ".join(missing))
    with lapi.database.read_session() as session:
        check = authenticate(session, body.machine_id, body.password)
    if check.identity is None:
        log.warning("failed login for machine %r from %s", body.machine_id, client_ip(request))
        raise unauthorized("incorrect Username or Password")
    if not check.validated:
        raise unauthorized(f"machine {body.machine_id} not validated")
    return check.identity


def _cert_login(request: Request, lapi: LapiState, tls: TlsSettings,
                subject: CertSubject) -> MachineIdentity:
    try:
        return cert_machine(lapi.database, subject, tls.agents_allowed_ou, client_ip(request),
                            lapi.clock())
    except CertRefused as exc:
        log.warning("machine certificate refused from %s: %s", client_ip(request), exc)
        raise unauthorized(str(exc)) from None


@router.post("/v1/watchers/login")
def login(request: Request, body: Login) -> JSONBody:
    """A token for the machine of the request's client certificate if it has one (TLS
    configured), else for ``machine_id`` and ``password``."""
    lapi = state(request)
    tls = lapi.settings.tls
    subject = client_subject(request.scope) if tls is not None else None
    if tls is not None and subject is not None:
        machine = _cert_login(request, lapi, tls, subject)
    else:
        machine = _password_login(request, lapi, body)
    now = lapi.clock()
    with lapi.database.session() as session:
        record_login(session, machine, scenarios=body.scenarios, ip_address=client_ip(request),
                     version=user_agent_version(request.headers.get("user-agent")), now=now)
    token, expire = lapi.tokens.issue(TokenSubject(machine.machine_id, machine.id), now)
    return JSONBody({"code": 200, "expire": format_rfc3339(expire), "token": token})


@router.get("/v1/heartbeat")
def heartbeat(request: Request, machine: Authenticated) -> Response:
    lapi = state(request)
    with lapi.database.session() as session:
        record_heartbeat(session, machine, lapi.clock())
    return Response(status_code=200)


@router.delete("/v1/watchers/self")
def delete_self(request: Request, machine: Authenticated) -> Response:
    lapi = state(request)
    try:
        with lapi.database.session() as session:
            delete_machine(session, machine.machine_id)
    except MachineError as exc:  # deleted meanwhile
        raise HTTPError(404, str(exc)) from None
    log.info("machine %r deleted itself from %s", machine.machine_id, client_ip(request))
    return Response(status_code=204)
