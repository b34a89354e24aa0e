"""Plain settings of the LAPI process; the app shell maps config.yaml into them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _default_kafka_options() -> dict[str, Any]:
    return {"client_id": "crowdstream-lapi", "security_protocol": "PLAINTEXT"}


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

    def __post_init__(self) -> None:
        self.profiles_path = Path(self.profiles_path)
        if not 0 <= int(self.listen_port) <= 65535:
            raise ValueError(f"listen_port out of range: {self.listen_port}")
