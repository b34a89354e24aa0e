"""Machines (watchers: agents, cscli) and their passwords.

The database keeps a bcrypt hash of the password (cost 10, CrowdSec's, so its machine rows
stay usable both ways). bcrypt reads at most 72 bytes: longer passwords are refused rather
than silently truncated. :func:`authenticate` always runs one bcrypt check, against a dummy
hash when the machine is unknown, so the answer time does not tell whether a machine exists.
A machine registered through the API is *pending* until validated (``machines validate``).
"""
from __future__ import annotations

import functools
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import bcrypt
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapi.clock import utc_now
from lapi.db.models import NAME_LEN, Machine
from lapi.errors import LapiError

BCRYPT_COST = 10
#: bcrypt ignores what follows
MAX_PASSWORD_BYTES = 72
PASSWORD_AUTH = "password"
TLS_AUTH = "tls"
#: generated passwords (``machines add --auto``): CrowdSec's length and alphabet
PASSWORD_LENGTH = 64
PASSWORD_ALPHABET = string.ascii_letters + string.digits


class MachineError(LapiError):
    """A machine management error (bad name or password, unknown machine)."""


class MachineExists(MachineError):
    """The machine id is taken."""


@dataclass(frozen=True, slots=True)
class MachineIdentity:
    """The authenticated machine of a request."""

    id: int
    machine_id: str
    ip_address: str
    auth_type: str = PASSWORD_AUTH
    version: str | None = None


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _check_machine_id(machine_id: str) -> None:
    if not machine_id or not machine_id.strip():
        raise MachineError("the machine id cannot be empty")
    if len(machine_id) > NAME_LEN:
        raise MachineError(f"the machine id is too long ({NAME_LEN} characters at most)")
    if "\x00" in machine_id:
        raise MachineError("the machine id cannot contain a NUL character")


def hash_password(password: str) -> str:
    """The stored form of a password; MachineError if empty or longer than bcrypt reads."""
    raw = password.encode("utf-8")
    if not raw:
        raise MachineError("the password cannot be empty")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise MachineError(f"the password is too long ({MAX_PASSWORD_BYTES} bytes at most)")
    return bcrypt.hashpw(raw, bcrypt.gensalt(BCRYPT_COST)).decode("ascii")


@functools.cache
def _dummy_hash() -> bytes:
    return bcrypt.hashpw(b"no such machine", bcrypt.gensalt(BCRYPT_COST))


def _password_matches(password: str, stored: bytes) -> bool:
    raw = password.encode("utf-8")
    if not raw or len(raw) > MAX_PASSWORD_BYTES:
        raw = b"\x00"  # never matches a hash of an accepted password; still one check
    try:
        return bcrypt.checkpw(raw, stored)
    except ValueError:  # a stored value that is not a bcrypt hash (e.g. a TLS machine's)
        bcrypt.checkpw(raw, _dummy_hash())
        return False


def add_machine(session: Session, machine_id: str, password: str, *, validated: bool,
                ip_address: str = "", auth_type: str = PASSWORD_AUTH,
                now: datetime | None = None) -> None:
    """Create ``machine_id`` (validated or pending). MachineExists if the id is taken,
    MachineError if it or the password is unusable. The caller commits."""
    _check_machine_id(machine_id)
    digest = hash_password(password)
    if session.execute(select(Machine.id).where(Machine.machine_id == machine_id)).first():
        raise MachineExists(f"user '{machine_id}': user already exist")
    moment = now or utc_now()
    try:
        with session.begin_nested():
            session.add(Machine(machine_id=machine_id, password=digest,
                                ip_address=ip_address[:64], is_validated=validated,
                                auth_type=auth_type, created_at=moment, updated_at=moment))
            session.flush()
    except IntegrityError:
        raise MachineExists(f"user '{machine_id}': user already exist") from None


def list_machines(session: Session) -> list[dict[str, Any]]:
    """Every machine as a dict (no password), by machine id in code point order."""
    rows = sorted(session.execute(select(Machine)).scalars(), key=lambda m: m.machine_id)
    return [
        {
            "machine_id": m.machine_id,
            "ip_address": m.ip_address,
            "is_validated": m.is_validated,
            "auth_type": m.auth_type,
            "version": m.version or "",
            "scenarios": m.scenarios or "",
            "last_push": m.last_push,
            "last_heartbeat": m.last_heartbeat,
            "created_at": m.created_at,
            "updated_at": m.updated_at,
        }
        for m in rows
    ]


def delete_machine(session: Session, machine_id: str) -> None:
    """Delete ``machine_id``; MachineError if unknown."""
    result = session.execute(delete(Machine).where(Machine.machine_id == machine_id)
                             .execution_options(synchronize_session=False))
    if not result.rowcount:
        raise MachineError(f"machine {machine_id!r} does not exist")


def validate_machine(session: Session, machine_id: str, *, now: datetime | None = None) -> None:
    """Let pending ``machine_id`` log in; MachineError if unknown."""
    result = session.execute(
        update(Machine).where(Machine.machine_id == machine_id)
        .values(is_validated=True, updated_at=now or utc_now())
        .execution_options(synchronize_session=False))
    if not result.rowcount:
        raise MachineError(f"machine {machine_id!r} does not exist")


def _identity(row: Any) -> MachineIdentity:
    return MachineIdentity(int(row.id), row.machine_id, row.ip_address, row.auth_type,
                           row.version)


_IDENTITY_COLUMNS = (Machine.id, Machine.machine_id, Machine.ip_address, Machine.auth_type,
                     Machine.version, Machine.is_validated)


@dataclass(frozen=True, slots=True)
class LoginCheck:
    """The outcome of a password check: ``identity`` when the password is right;
    ``validated`` tells whether that machine may log in yet."""

    identity: MachineIdentity | None
    validated: bool = False


def authenticate(session: Session, machine_id: str, password: str) -> LoginCheck:
    """Check ``password`` of password-authenticated ``machine_id`` with one bcrypt check
    whatever the outcome (module docstring)."""
    storable = 0 < len(machine_id) <= NAME_LEN and "\x00" not in machine_id
    row = session.execute(
        select(*_IDENTITY_COLUMNS, Machine.password).where(Machine.machine_id == machine_id)
        .limit(1)
    ).first() if storable else None
    stored = row.password.encode("ascii", "replace") if row is not None else _dummy_hash()
    matches = _password_matches(password, stored)
    if row is None or not matches or row.auth_type != PASSWORD_AUTH:
        return LoginCheck(None)
    return LoginCheck(_identity(row), bool(row.is_validated))


def tls_machine(session: Session, machine_id: str, ip_address: str, *,
                now: datetime) -> MachineIdentity:
    """Machine ``machine_id`` of a verified client certificate: created validated (with a
    random password nobody knows) on first use. MachineError if it exists with password
    authentication. The caller commits."""
    query = select(*_IDENTITY_COLUMNS).where(Machine.machine_id == machine_id).limit(1)
    row = session.execute(query).first()
    if row is None:
        try:
            add_machine(session, machine_id, generate_password(), validated=True,
                        ip_address=ip_address, auth_type=TLS_AUTH, now=now)
        except MachineExists:
            pass  # created meanwhile by a concurrent first request: use it
        row = session.execute(query).first()
        if row is None:  # that request's row is not visible to this transaction
            raise MachineError(f"machine {machine_id} is being created, retry")
    if row.auth_type != TLS_AUTH:
        raise MachineError(f"machine {machine_id} attempted to auth with TLS cert but it is "
                           f"configured to use {row.auth_type}")
    return _identity(row)


def find_machine(session: Session, machine_id: str) -> MachineIdentity | None:
    """The validated machine ``machine_id`` (a token's subject), or None."""
    row = session.execute(
        select(*_IDENTITY_COLUMNS).where(Machine.machine_id == machine_id).limit(1)).first()
    if row is None or not row.is_validated:
        return None
    return _identity(row)


def record_login(session: Session, machine: MachineIdentity, *, scenarios: list[str] | None,
                 ip_address: str, version: str | None, now: datetime) -> None:
    """What a login tells about its machine: the scenarios it runs (kept when it sends
    none), its address and version (kept when unknown)."""
    changes: dict[str, Any] = {"updated_at": now}
    if scenarios:
        changes["scenarios"] = ",".join(scenarios)
    if ip_address:
        changes["ip_address"] = ip_address[:64]
    if version:
        changes["version"] = version[:255]
    session.execute(update(Machine).where(Machine.id == machine.id).values(**changes)
                    .execution_options(synchronize_session=False))


def record_heartbeat(session: Session, machine: MachineIdentity, now: datetime) -> None:
    session.execute(update(Machine).where(Machine.id == machine.id)
                    .values(last_heartbeat=now)
                    .execution_options(synchronize_session=False))


def user_agent_version(user_agent: str | None) -> str | None:
    """The version of a ``name/version`` User-Agent (``crowdsec/v1.4.6-…`` → ``v1.4.6-…``)."""
    parts = (user_agent or "").split("/")
    if len(parts) != 2 or not parts[1]:
        return None
    return parts[1]
