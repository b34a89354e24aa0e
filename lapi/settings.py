"""Plain settings of the LAPI process; the app shell maps config.yaml into them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from lapi.clientip import IPNetwork, parse_networks


def _default_kafka_options() -> dict[str, Any]:
    return {"client_id": "crowdstream-lapi", "security_protocol": "PLAINTEXT"}


#: CrowdSec's ``client_verification`` values; :mod:`lapi.tls` maps them onto Python's ssl
CLIENT_VERIFICATIONS = ("NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                        "VerifyClientCertIfGiven", "RequireAndVerifyClientCert")


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsSettings:
    """HTTPS for the LAPI and client-certificate authentication (CrowdSec's
    ``api.server.tls``): a verified client certificate whose OU is in ``agents_allowed_ou``
    logs in as machine ``<CN>@<client address>``, one in ``bouncers_allowed_ou`` is bouncer
    ``<CN>@<client address>``; both are created on first use."""

    cert_file: Path
    key_file: Path
    client_verification: str = "VerifyClientCertIfGiven"
    #: CA of the client certificates (unset: the system's CAs)
    ca_cert_path: Path | None = None
    #: revoked client certificates (PEM CRL of their CA), checked at the handshake
    crl_path: Path | None = None
    agents_allowed_ou: tuple[str, ...] = ("agent-ou",)
    bouncers_allowed_ou: tuple[str, ...] = ("bouncer-ou",)

    def __post_init__(self) -> None:
        if self.client_verification not in CLIENT_VERIFICATIONS:
            raise ValueError(f"unknown TLS client_verification {self.client_verification!r} "
                             f"(one of {', '.join(CLIENT_VERIFICATIONS)})")
        for name in ("agents_allowed_ou", "bouncers_allowed_ou"):
            if any(not ou for ou in getattr(self, name)):
                raise ValueError(f"{name} contains an empty OU")


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoRegistrationSettings:
    """Machines registering with ``token`` from ``allowed_ranges`` are validated at once."""

    token: str
    allowed_ranges: tuple[IPNetwork, ...]

    def __post_init__(self) -> None:
        if len(self.token) < 32:
            raise ValueError("auto-registration token is too short (32 characters at least)")
        object.__setattr__(self, "allowed_ranges", tuple(parse_networks(self.allowed_ranges)))


#: CrowdSec's default for ``metrics_max_age``
DEFAULT_METRICS_MAX_AGE = timedelta(days=7)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlushPolicy:
    """What the retention job deletes. Autodelete maps are keyed by auth type (``tls``,
    ``api-key``, ``password``) → how long without a pull/heartbeat."""

    max_items: int | None = None
    max_age: timedelta | None = None
    metrics_max_age: timedelta = DEFAULT_METRICS_MAX_AGE
    bouncers_autodelete: Mapping[str, timedelta] = field(default_factory=dict)
    agents_autodelete: Mapping[str, timedelta] = field(default_factory=dict)
    #: seconds between runs
    interval: float = 60.0

    def __post_init__(self) -> None:
        if self.max_items is not None and self.max_items <= 0:
            raise ValueError("max_items must be positive")
        for name in ("max_age", "metrics_max_age"):
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.interval <= 0:
            raise ValueError("interval must be positive")


@dataclass(slots=True, kw_only=True)
class LapiSettings:
    """Everything the LAPI needs, as plain values (keyword arguments only).

    ``db_url`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``,
    ``mysql+pymysql://…``). The alerts consumer runs only when both ``alerts_topic`` and
    ``kafka_bootstrap`` are set. ``kafka_client_options`` are aiokafka keyword arguments
    (security protocol, SASL, SSL context, client id).
    """

    db_url: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    profiles_path: Path
    alerts_topic: str | None = None
    kafka_bootstrap: str | None = None
    kafka_group: str = "crowdstream-lapi"
    kafka_client_options: dict[str, Any] = field(default_factory=_default_kafka_options)
    #: alerts per poll batch of the consumer (one DB transaction each)
    kafka_max_records: int = 500
    #: SQLite: how long a writer waits for the database lock (ms)
    db_busy_timeout_ms: int = 10_000
    #: how often ``cs_active_decisions`` is recomputed (seconds; 0 disables)
    metrics_refresh_seconds: float = 15.0
    #: HS256 secret of the machines' tokens, shared by every replica (64 characters at least,
    #: as CrowdSec); None: a random one per process (:mod:`lapi.tokens`)
    jwt_secret: str | None = None
    #: how long a machine's token is valid (CrowdSec: one hour)
    jwt_ttl_seconds: int = 3600
    #: addresses or ranges allowed to delete alerts, besides loopback (:mod:`lapi.clientip`)
    trusted_ips: Sequence[IPNetwork | str] = ("127.0.0.1", "::1")
    #: proxies whose forwarded-for headers name the client; None: headers ignored
    trusted_proxies: Sequence[IPNetwork | str] | None = None
    #: ``POST /v1/watchers`` (registration) only from loopback
    disable_remote_registration: bool = False
    #: HTTPS and client certificates; None: plain HTTP
    tls: TlsSettings | None = None
    #: registration with a token validates the machine (CrowdSec's ``auto_registration``)
    auto_registration: AutoRegistrationSettings | None = None
    #: decisions from the profiles are not stored when an active one on the same value and
    #: type already lasts until this long before their end (:func:`lapi.ingest.ingest_alerts`);
    #: None: every alert gets its decisions
    decision_dedup_window: timedelta | None = None
    #: how often a long-polling stream request re-reads the database for changes made by
    #: other replicas and for expiries (seconds; this replica's own changes wake it at once)
    stream_poll_interval: float = 0.5
    #: the retention job (:mod:`lapi.flush`); None: nothing is ever deleted
    flush: FlushPolicy | None = None

    def __post_init__(self) -> None:
        self.profiles_path = Path(self.profiles_path)
        self.trusted_ips = parse_networks(self.trusted_ips)
        if self.trusted_proxies is not None:
            self.trusted_proxies = parse_networks(self.trusted_proxies)
        if not 0 <= int(self.listen_port) <= 65535:
            raise ValueError(f"listen_port out of range: {self.listen_port}")
        if self.jwt_secret is not None and len(self.jwt_secret) < 64:
            raise ValueError("jwt_secret is too short (64 characters at least)")
        if not 60 < int(self.jwt_ttl_seconds) <= 31 * 86400:
            # clients log in again when the token has less than a minute left
            raise ValueError(f"jwt_ttl_seconds out of range (61 to 2678400): "
                             f"{self.jwt_ttl_seconds}")
