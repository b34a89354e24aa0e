"""Partition counts and topic configs. Pour partitions equal bucket-table partitions and
cannot change without re-keying state: they are chosen once, in the config."""
from __future__ import annotations

from dataclasses import dataclass, field

from topics.names import TopicNames


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int = 1
    configs: dict[str, str] = field(default_factory=dict)


def topic_specs(names: TopicNames, partitions: int, replication_factor: int = 1) -> list[TopicSpec]:
    """Every topic the pipeline needs (Faust creates its own changelog topics)."""
    retention = {"retention.ms": str(7 * 24 * 3600 * 1000)}
    return [
        TopicSpec(names.raw, partitions, replication_factor, retention),
        TopicSpec(names.pours, partitions, replication_factor, retention),
        TopicSpec(names.alerts, partitions, replication_factor, retention),
    ]
