"""Client-certificate authentication, as CrowdSec's TLS auth.

A verified client certificate (:mod:`lapi.tls`) authenticates instead of a password or an
API key. Its OU must be one allowed for the role (``agents_allowed_ou`` for machines,
``bouncers_allowed_ou`` for bouncers); the identity is ``<CN>@<client address>``, created on
first use with ``auth_type`` ``"tls"``. A machine or bouncer of that name using another
authentication is refused.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapi.bouncers import BouncerIdentity, add_bouncer, generate_key
from lapi.db.models import Bouncer
from lapi.db.session import Database
from lapi.errors import BouncerError, LapiError
from lapi.machines import TLS_AUTH, MachineError, MachineIdentity, tls_machine
from lapi.tls import CertSubject


class CertRefused(LapiError):
    """A client certificate that does not authenticate for the role; ``str(exc)`` says why."""


def cert_identity_name(subject: CertSubject, allowed_ous: Sequence[str], address: str) -> str:
    """``<CN>@<address>`` if the certificate has an allowed OU and a CN, else CertRefused."""
    if not any(ou in allowed_ous for ou in subject.organizational_units):
        raise CertRefused(f"client certificate OU {list(subject.organizational_units)} doesn't "
                          f"match expected OU {list(allowed_ous)}")
    if not subject.common_name:
        raise CertRefused("client certificate has no CN")
    return f"{subject.common_name}@{address}"


def cert_machine(database: Database, subject: CertSubject, allowed_ous: Sequence[str],
                 address: str, now: datetime) -> MachineIdentity:
    """The machine of a client certificate (created on first use); CertRefused if none."""
    name = cert_identity_name(subject, allowed_ous, address)
    try:
        with database.session() as session:
            return tls_machine(session, name, address, now=now)
    except MachineError as exc:
        raise CertRefused(str(exc)) from None


def _bouncer(session: Session, name: str) -> BouncerIdentity | None:
    bouncer = session.execute(select(Bouncer).where(Bouncer.name == name).limit(1)).scalar()
    if bouncer is None:
        return None
    if bouncer.auth_type != TLS_AUTH:
        raise CertRefused(f"bouncer {name} isn't allowed to auth by TLS")
    if bouncer.revoked:
        raise CertRefused(f"bouncer {name} is revoked")
    return BouncerIdentity(int(bouncer.id), bouncer.name, bouncer.ip_address, bouncer.type,
                           bouncer.version, bouncer.last_pull)


def cert_bouncer(database: Database, subject: CertSubject, allowed_ous: Sequence[str],
                 address: str, now: datetime) -> BouncerIdentity:
    """The bouncer of a client certificate, created on first use with a random API key
    nobody knows (only its digest is stored); CertRefused if none. Reads first: only a
    first request writes."""
    name = cert_identity_name(subject, allowed_ous, address)
    with database.read_session() as session:
        found = _bouncer(session, name)
    if found is not None:
        return found
    try:
        with database.session() as session:
            if session.execute(select(Bouncer.id).where(Bouncer.name == name)).first() is None:
                add_bouncer(session, name, generate_key(), now=now, auth_type=TLS_AUTH)
            # else created meanwhile by a concurrent first request: use it
            found = _bouncer(session, name)
    except BouncerError:  # that concurrent request won the insert
        found = None
    if found is None:
        raise CertRefused(f"bouncer {name} is being created, retry")
    return found
