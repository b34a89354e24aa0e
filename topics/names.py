"""Topic names, derived from one configurable prefix."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The names of every topic crowdstream reads or writes."""

    prefix: str = "crowdstream"

    @property
    def raw(self) -> str:
        """Raw log lines from shippers (key: the acquisition stream)."""
        return f"{self.prefix}.raw"

    @property
    def pours(self) -> str:
        """Events routed to buckets (partition = hash of the bucket key)."""
        return f"{self.prefix}.pours"

    @property
    def alerts(self) -> str:
        """Overflows as CrowdSec alerts, consumed by the LAPI."""
        return f"{self.prefix}.alerts"
