"""Plain settings of one pipeline worker; the app shell maps config.yaml into them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from topics.names import TopicNames


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    bootstrap_servers: str
    topics: TopicNames
    partitions: int
    replication_factor: int = 1
    store: str = "memory://"
    data_dir: Path = Path("var/pipeline")
    linger_ms: int = 20
    web_port: int | None = None
    client_options: dict[str, Any] = field(default_factory=dict)
    max_pours_per_message: int = 500
    #: seconds between ticks (time records the leader sends to every pours partition)
    tick_interval: float = 1.0
    #: seconds the bucket watermark trails max(event time, wall clock); None: event time only
    watermark_lag: float | None = 60.0

    @property
    def app_id(self) -> str:
        """The Faust app id: the consumer group and the prefix of changelog topics."""
        return f"{self.topics.prefix}-pipeline"
