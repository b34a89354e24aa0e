"""The long-poll variant of ``GET /v1/decisions/stream`` (our extension).

``?wait=DURATION`` (a Go duration or seconds, at most :data:`MAX_WAIT`): when the bouncer's
delta is empty the request is held until there is something to send — a decision created,
deleted or expired in its filtered view — or the wait is over, then answered exactly as a
plain pull (same cursor, same exactly-once guarantee). A bouncer that re-polls at once gets
a ban within milliseconds of its commit on this replica: commits that change decisions wake
the waiters (:class:`ChangeSignal`). Commits made by other replicas and natural expiry are
seen by re-reading every ``poll_interval`` seconds. ``startup=true`` never waits.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool

from lapi.clock import Clock
from lapi.db.session import Database
from lapi.decisions import DecisionFilter
from lapi.errors import InvalidFilter
from lapi.gotime import parse_duration
from lapi.stream import StreamAnswer, commit_stream, peek_stream

#: the longest a stream request may be held
MAX_WAIT = timedelta(seconds=60)


class ChangeSignal:
    """Wakes the coroutines waiting in :meth:`wait` when :meth:`notify` is called, from any
    thread (the database's change listener runs in the committing thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop is closed: the app has stopped, nobody waits
            pass

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def waiter(self) -> asyncio.Event:
        """The event the next :meth:`notify` sets: take it *before* reading the database,
        so a commit between the read and the wait is not missed."""
        return self._event


def parse_wait(text: str) -> float:
    """Seconds of a ``wait`` parameter: a Go duration (``30s``) or a number of seconds."""
    try:
        seconds = float(text) if text.replace(".", "", 1).isdigit() else \
            parse_duration(text).total_seconds()
    except (ValueError, OverflowError) as exc:
        raise InvalidFilter(f"invalid wait: {exc}") from None
    if not 0 <= seconds <= MAX_WAIT.total_seconds():
        raise InvalidFilter(f"invalid wait: must be between 0 and {MAX_WAIT.seconds}s")
    return seconds


async def wait_for_stream(database: Database, signal: ChangeSignal, clock: Clock,
                          bouncer_id: int, flt: DecisionFilter, *, wait: float,
                          poll_interval: float,
                          touch: Callable[[datetime], dict[str, Any]],
                          gone: Callable[[], Awaitable[bool]]) -> StreamAnswer | None:
    """The bouncer's next non-empty delta, or its empty one after ``wait`` seconds; the
    cursor advances as a plain pull. None (cursor untouched) when ``gone()`` says the
    client disconnected meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        changed = signal.waiter()
        now = clock()
        answer = await run_in_threadpool(peek_stream, database, bouncer_id, flt, False, now)
        left = deadline - loop.time()
        if answer.new or answer.deleted or left <= 0:
            await run_in_threadpool(commit_stream, database, bouncer_id, answer, now,
                                    touch=touch(now))
            return answer
        try:
            await asyncio.wait_for(changed.wait(), timeout=min(left, poll_interval))
        except TimeoutError:
            pass
        if await gone():
            return None
