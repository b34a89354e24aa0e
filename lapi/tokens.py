"""The machines' session tokens: HS256 JWTs as CrowdSec's LAPI issues them.

Claims: ``id`` (the machine id), ``exp`` and ``orig_iat`` (Unix seconds), as CrowdSec, plus
``row`` (the machine's row id, see :class:`TokenSubject`). Expiry is checked against the LAPI
clock (:mod:`lapi.clock`), not the wall clock, so tests can drive it. The secret must be
shared by every LAPI replica (a token from one is then valid on all); without one configured
each process draws its own and its tokens are valid only there.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from lapi.errors import LapiError
from lapi.settings import LapiSettings

log = logging.getLogger("crowdstream.lapi.tokens")

ALGORITHM = "HS256"
MACHINE_CLAIM = "id"
#: our own claim: the machine's row id
ROW_CLAIM = "row"
#: CrowdSec refuses shorter secrets (HS256 secrets can be brute-forced)
MIN_SECRET_LENGTH = 64


class TokenError(LapiError):
    """A token that does not authenticate anyone; ``str(exc)`` is the reason."""


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """Whom a valid token names: the machine id and its row id (a machine deleted and
    created again under the same id has another row: its old tokens no longer work)."""

    machine_id: str
    row_id: int


@dataclass(frozen=True, slots=True)
class Tokens:
    """Issues and verifies tokens valid for ``ttl``."""

    secret: bytes
    ttl: timedelta

    def issue(self, subject: TokenSubject, now: datetime) -> tuple[str, datetime]:
        """A token for ``subject`` and its expiry (whole seconds, UTC)."""
        issued = int(now.timestamp())
        expire = issued + int(self.ttl.total_seconds())
        claims = {MACHINE_CLAIM: subject.machine_id, ROW_CLAIM: subject.row_id, "exp": expire,
                  "orig_iat": issued}
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM)
        return token, datetime.fromtimestamp(expire, UTC)

    def verify(self, token: str, now: datetime) -> TokenSubject:
        """The subject of ``token``; TokenError if it is malformed, forged or expired at
        ``now``."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                options={"verify_exp": False, "require": ["exp"]})
        except jwt.InvalidSignatureError:
            raise TokenError("signature is invalid") from None
        except jwt.InvalidTokenError:
            raise TokenError("token is invalid") from None
        expire, machine_id, row_id = (claims.get(k) for k in ("exp", MACHINE_CLAIM, ROW_CLAIM))
        if not _is_number(expire) or not isinstance(machine_id, str) or not machine_id \
                or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise TokenError("token is invalid")
        if now.timestamp() >= expire:
            raise TokenError("token is expired")
        return TokenSubject(machine_id, row_id)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def tokens_from_settings(settings: LapiSettings) -> Tokens:
    """The process's :class:`Tokens`: the configured secret, else a random one (warned)."""
    if settings.jwt_secret:
        secret = settings.jwt_secret.encode("utf-8")
    else:
        log.warning("no LAPI jwt_secret configured: using a random one; replicas behind one "
                    "address need a shared secret (api.server.jwt_secret or "
                    "CROWDSTREAM_LAPI_JWT_SECRET)")
        secret = secrets.token_bytes(MIN_SECRET_LENGTH)
    return Tokens(secret, timedelta(seconds=settings.jwt_ttl_seconds))
