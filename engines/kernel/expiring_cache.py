"""A bounded in-memory cache whose entries expire, where concurrent misses for one key share a
single load and failures are never remembered."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ExpiringCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """At most `max_entries` values (least recently used leave first), each for `ttl_seconds`."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self._pending: dict[K, asyncio.Future[V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: K) -> V | None:
        """The fresh value of `key`, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[0]

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or the result of `load()` (shared by concurrent callers)."""
        value = self.peek(key)
        if value is not None:
            return value
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved, so a miss nobody shared never warns
            raise
        else:
            future.set_result(value)
            self.put(key, value)
            return value
        finally:
            del self._pending[key]

    def put(self, key: K, value: V) -> None:
        if self._ttl <= 0:
            return
        self._entries[key] = (value, self._monotonic() + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
