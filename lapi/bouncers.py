"""Bouncers and their API keys.

A key is shown once, at creation; the database keeps its SHA-512 hex digest (what CrowdSec
stores too, so its bouncer rows stay usable). Generated keys are 32 random alphanumerics
(~190 bits), so an unsalted digest is safe; a weak user-chosen key is the user's choice.
Authentication looks the digest up by index and compares it in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapi.db.models import NAME_LEN, Bouncer
from lapi.errors import BouncerError

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 32


def generate_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha512(key.encode("utf-8")).hexdigest()


def _check_key(key: str) -> None:
    if not key:
        raise BouncerError("the API key cannot be empty")
    if len(key) > 1024:
        raise BouncerError("the API key is too long (1024 characters at most)")
    if any(not (0x21 <= ord(c) <= 0x7E) for c in key):
        # keys travel in an HTTP header: printable ASCII without spaces
        raise BouncerError("the API key must be printable ASCII without spaces")


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise BouncerError("the bouncer name cannot be empty")
    if len(name) > NAME_LEN:
        raise BouncerError(f"the bouncer name is too long ({NAME_LEN} characters at most)")


def _now() -> datetime:
    from lapi.clock import utc_now

    return utc_now()


def add_bouncer(session: Session, name: str, key: str | None = None, *,
                now: datetime | None = None, auth_type: str = "api-key") -> str:
    """Create bouncer ``name`` and return its API key (``key``, or a generated one).
    BouncerError if the name is taken or the key unusable. The caller commits."""
    _check_name(name)
    key = generate_key() if key is None else key
    _check_key(key)
    if session.execute(select(Bouncer.id).where(Bouncer.name == name)).first() is not None:
        raise BouncerError(f"bouncer {name!r} already exists")
    digest = hash_key(key)
    if session.execute(select(Bouncer.id).where(Bouncer.api_key == digest)).first() is not None:
        raise BouncerError("this API key is already used by another bouncer")
    moment = now or _now()
    try:
        with session.begin_nested():
            session.add(Bouncer(name=name, api_key=digest, revoked=False, ip_address="",
                                created_at=moment, updated_at=moment, auth_type=auth_type))
            session.flush()
    except IntegrityError:
        raise BouncerError(f"bouncer {name!r} already exists") from None
    return key


def list_bouncers(session: Session) -> list[dict[str, Any]]:
    """Every bouncer as a dict (no key material), by name (code point order: sorted here,
    as a database's collation may order names otherwise, e.g. PostgreSQL's ``en_US``)."""
    rows = sorted(session.execute(select(Bouncer)).scalars(), key=lambda b: b.name)
    return [
        {
            "name": b.name,
            "ip_address": b.ip_address,
            "valid": not b.revoked,
            "last_pull": b.last_pull,
            "type": b.type or "",
            "version": b.version or "",
            "auth_type": b.auth_type,
            "created_at": b.created_at,
        }
        for b in rows
    ]


def delete_bouncer(session: Session, name: str) -> None:
    """Delete bouncer ``name`` (and its stream cursor); BouncerError if unknown."""
    result = session.execute(delete(Bouncer).where(Bouncer.name == name)
                             .execution_options(synchronize_session=False))
    if not result.rowcount:
        raise BouncerError(f"bouncer {name!r} does not exist")


@dataclass(frozen=True, slots=True)
class BouncerIdentity:
    """The authenticated bouncer of a request."""

    id: int
    name: str
    ip_address: str
    type: str | None
    version: str | None
    last_pull: datetime | None


def authenticate(session: Session, key: str | None) -> BouncerIdentity | None:
    """The bouncer owning ``key``, or None (missing, unknown or revoked key)."""
    if not key:
        return None
    digest = hash_key(key)
    row = session.execute(
        select(Bouncer.id, Bouncer.name, Bouncer.api_key, Bouncer.revoked, Bouncer.ip_address,
               Bouncer.type, Bouncer.version, Bouncer.last_pull)
        .where(Bouncer.api_key == digest, Bouncer.auth_type == "api-key")
        .limit(1)
    ).first()
    if row is None or not hmac.compare_digest(row.api_key.encode(), digest.encode()):
        return None
    if row.revoked:
        return None
    return BouncerIdentity(int(row.id), row.name, row.ip_address, row.type, row.version,
                           row.last_pull)


def user_agent_fields(user_agent: str | None) -> tuple[str | None, str | None]:
    """(type, version) from a bouncer's User-Agent, as CrowdSec splits it
    (``crowdsec-firewall-bouncer/v0.0.28`` → type, version)."""
    if not user_agent:
        return None, None
    kind, _, version = user_agent.partition("/")
    return kind[:255] or None, version[:255] or None
