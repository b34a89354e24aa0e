"""Which bucket keys need attention when time advances: a min-heap of deadlines per key.

A key is scheduled with the time at which ``Content.expire`` would next change its states
(``Content.deadline``). :meth:`DeadlineIndex.due` hands out the keys whose deadline has
passed; the caller expires them and schedules them again with their new deadline. A key
keeps at most one live heap entry: a later deadline than the scheduled one is not pushed
(the key comes out at the earlier time, is found not due yet and is rescheduled), so the
heap stays about the size of the key set, however often a hot key is written.
"""
from __future__ import annotations

import heapq


class DeadlineIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._scheduled: dict[str, float] = {}

    def __len__(self) -> int:
        """The number of scheduled keys."""
        return len(self._scheduled)

    def schedule(self, key: str, deadline: float | None) -> None:
        """Make sure ``key`` comes out of :meth:`due` no later than ``deadline`` (None:
        nothing pending for it — an existing entry stays and will be found not due)."""
        if deadline is None:
            return
        current = self._scheduled.get(key)
        if current is None or deadline < current:
            self._scheduled[key] = deadline
            heapq.heappush(self._heap, (deadline, key))

    def due(self, now: float) -> list[str]:
        """The keys scheduled at or before ``now``, earliest first; they are unscheduled."""
        out: list[str] = []
        heap, scheduled = self._heap, self._scheduled
        while heap and heap[0][0] <= now:
            deadline, key = heapq.heappop(heap)
            if scheduled.get(key) == deadline:
                del scheduled[key]
                out.append(key)
        return out
