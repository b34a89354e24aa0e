"""The injectable clock: every "now" in the LAPI comes from a :data:`Clock`, never from a
wall-clock read inside the logic, so tests can drive time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: returns an aware UTC datetime
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The production clock."""
    return datetime.now(UTC)
