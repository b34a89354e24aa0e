"""Reverse DNS for the ``reverse_dns`` enricher: bounded in time, cached.

A lookup that does not answer within ``timeout`` gives None at once; its thread keeps going
and its answer is cached for the next event from that address, so one slow resolver never
stalls the pipeline for more than ``timeout``."""
from __future__ import annotations

import socket
from collections.abc import Callable
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout


class CachedResolver:
    def __init__(self, timeout: float = 0.3, ttl: float = 3600.0, size: int = 65536,
                 lookup: Callable[[str], str | None] | None = None) -> None:
        self.timeout, self.ttl, self.size = timeout, ttl, size
        self._lookup = lookup or _gethostbyaddr
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._pending: dict[str, Future[str | None]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rdns")

    def __call__(self, ip: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(ip)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(ip)
                return hit[1]
            future = self._pending.get(ip)
            started = future is None
            if future is None:
                future = self._pool.submit(self._lookup, ip)
                self._pending[ip] = future
        if started:  # outside the lock: a finished future runs the callback right here
            future.add_done_callback(lambda f, ip=ip: self._store(ip, f))
        try:
            return future.result(self.timeout)
        except FutureTimeout:
            return None

    def _store(self, ip: str, future: Future[str | None]) -> None:
        name = None if future.exception() else future.result()
        with self._lock:
            self._pending.pop(ip, None)
            self._cache[ip] = (time.monotonic() + self.ttl, name)
            self._cache.move_to_end(ip)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)


def _gethostbyaddr(ip: str) -> str | None:
    try:
        return socket.gethostbyaddr(ip)[0]
    except OSError:
        return None
