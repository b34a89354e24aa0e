"""CrowdSec's stash: named key → string caches filled by parser ``stash:`` sections and read
with ``GetFromStash``, one :class:`Stash` per runtime.

Semantics follow CrowdSec (``pkg/cache`` over ``gcache``) with one change: time is the event
time passed in (``now_ns``), never the wall clock.

* An entry set at ``t`` with TTL ``d`` is readable while ``now_ns <= t + d`` and expired after.
  Reading an expired entry removes it. An entry's TTL is the one passed to ``set`` (the cache's
  when None).
* ``size`` bounds the entries, expired ones included until read: adding a new key to a full
  cache first evicts one entry — the least recently used (``LRU``: set and get both count as a
  use) or the least frequently read (``LFU``: ties go to the least recently used). ``ARC``
  is treated as ``LRU``; an unknown strategy is ``LRU``, as in CrowdSec.
* Configuring a name twice keeps the first configuration (CrowdSec then writes to both caches
  and reads the first, which behaves the same).
* Unknown cache names read ``""`` and ignore writes.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

log = logging.getLogger("engine.helpers")

STRATEGIES = ("LRU", "LFU", "ARC")


@dataclass(slots=True)
class _Entry:
    value: str
    expires_ns: int
    uses: int = 0


class _Cache:
    __slots__ = ("ttl_ns", "size", "strategy", "entries")

    def __init__(self, ttl_ns: int, size: int, strategy: str) -> None:
        self.ttl_ns = ttl_ns
        self.size = size
        self.strategy = strategy
        self.entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first

    def set(self, key: str, value: str, ttl_ns: int, now_ns: int) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            entry.value = value
            entry.expires_ns = now_ns + ttl_ns
            self.entries.move_to_end(key)
            return
        if len(self.entries) >= self.size:
            self._evict()
        self.entries[key] = _Entry(value, now_ns + ttl_ns)

    def _evict(self) -> None:
        if self.strategy == "LFU":
            victim = min(self.entries, key=lambda k: self.entries[k].uses)  # first = least recent
        else:
            victim = next(iter(self.entries))
        del self.entries[victim]

    def get(self, key: str, now_ns: int) -> str:
        entry = self.entries.get(key)
        if entry is None:
            return ""
        if entry.expires_ns < now_ns:
            del self.entries[key]
            return ""
        entry.uses += 1
        self.entries.move_to_end(key)
        return entry.value


class Stash:
    """The named caches of one runtime."""

    def __init__(self) -> None:
        self._caches: dict[str, _Cache] = {}

    def configure(self, name: str, *, ttl_ns: int, size: int, strategy: str = "LRU") -> None:
        """Declare cache ``name`` (a parser ``stash:`` entry); raises ValueError for a size
        below 1 or a negative TTL (the parser maps a missing size to CrowdSec's 100 first).
        A name configured twice keeps its first configuration."""
        if size < 1:
            raise ValueError(f"stash {name}: size must be at least 1, not {size}")
        if ttl_ns < 0:
            raise ValueError(f"stash {name}: negative ttl")
        if name in self._caches:
            log.info("Cache %s already exists", name)
            return
        self._caches[name] = _Cache(ttl_ns, size, strategy if strategy in STRATEGIES else "LRU")

    def has(self, name: str) -> bool:
        return name in self._caches

    def set(self, name: str, key: str, value: str, *, now_ns: int, ttl_ns: int | None = None) -> None:
        """Store ``value`` under ``key``, expiring ``ttl_ns`` (default: the cache's) after
        ``now_ns``; ignored when the cache does not exist."""
        cache = self._caches.get(name)
        if cache is None:
            return
        cache.set(key, value, cache.ttl_ns if ttl_ns is None else ttl_ns, now_ns)

    def get(self, name: str, key: str, *, now_ns: int) -> str:
        """The value, or ``""`` when the cache, the key or an unexpired entry is missing."""
        cache = self._caches.get(name)
        if cache is None:
            log.warning("Cache %s not found", name)
            return ""
        return cache.get(key, now_ns)

    def __len__(self) -> int:
        return len(self._caches)

    def size_of(self, name: str) -> int:
        """Entries held by cache ``name``, expired ones included (0 when unknown)."""
        cache = self._caches.get(name)
        return 0 if cache is None else len(cache.entries)
