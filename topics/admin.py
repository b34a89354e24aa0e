"""Topic creation: create what is missing, refuse a partition count that differs from the
spec (state is partitioned by it and cannot be re-keyed silently)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from topics.specs import TopicSpec


class TopicMismatch(RuntimeError):
    """An existing topic does not match its spec."""


async def ensure_topics(
    bootstrap_servers: str, specs: Iterable[TopicSpec], client_options: Mapping[str, Any] | None = None
) -> list[str]:
    """Create the missing topics; returns the names created."""
    specs = list(specs)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **dict(client_options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=dict(s.configs))
                 for s in missing]
            )
        present = [s for s in specs if s.name in existing]
        if present:
            described = {d["topic"]: d for d in await admin.describe_topics([s.name for s in present])}
            for spec in present:
                count = len(described[spec.name]["partitions"])
                if count != spec.partitions:
                    raise TopicMismatch(
                        f"topic {spec.name} has {count} partitions, the config says {spec.partitions}"
                    )
        return [s.name for s in missing]
    finally:
        await admin.close()
