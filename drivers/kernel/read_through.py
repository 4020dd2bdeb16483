"""A bounded in-process read-through cache whose entries expire, and whose invalidations win over
reads in flight: the common part of the caches of integrations, of SQL gateway executions
(docs/consistency.md) and of revealed credentials (drivers/credentials/cache.py)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ReadThroughCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ReadThroughCache(Generic[K, V]):
    """Values by key for at most `ttl_seconds` (0 caches nothing), at most `max_entries` of them
    (the least recently stored dropped first), and while `usable(value)` holds (a value with its
    own expiry). A miss (`None`) is never stored, and a value read while an invalidation
    happened is returned but not stored: it may predate the write."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int = 4096,
        monotonic: Callable[[], float] = time.monotonic,
        usable: Callable[[V], bool] | None = None,
    ) -> None:
        self._ttl = ttl_seconds
        self._usable = usable
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._generation = 0  # bumped by every invalidation

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The entry for `key` while fresh, else what `load()` reads (stored if found)."""
        now = self._monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            if self._usable is None or self._usable(cached[1]):
                return cached[1]
        generation = self._generation
        found = await load()
        if found is not None and generation == self._generation and self._ttl > 0:
            self._entries[key] = (now + self._ttl, found)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return found

    def drop(self, key: K) -> None:
        self._generation += 1
        self._entries.pop(key, None)

    def drop_where(self, stale: Callable[[K], bool]) -> None:
        """Drops every entry whose key `stale` accepts (one pass over at most `max_entries`)."""
        self._generation += 1
        for key in [key for key in self._entries if stale(key)]:
            del self._entries[key]

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
