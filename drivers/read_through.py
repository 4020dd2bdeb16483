"""A per-process read-through cache in front of a store of immutable resources: `get` answers
from memory for a while, everything else goes to the store.

Only for resources that never change once created (SQL templates and gateways): an update or
delete RPC on them would have to invalidate the cache, or drop it."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from engines.idempotency import IdempotencyKey, Replay
from engines.pagination import PageRequest
from engines.store import ResourceStore

__all__ = ["ReadThroughStore"]

R = TypeVar("R")
F = TypeVar("F")


class ReadThroughStore(Generic[R, F]):
    """Wraps `store`; found resources are kept for `ttl_seconds` (the least recently used
    beyond `max_entries` are dropped). Misses are not cached: a create is visible at once."""

    def __init__(
        self,
        store: ResourceStore[R, F],
        *,
        ttl_seconds: float = 60.0,
        max_entries: int = 4096,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[tuple[str, str], tuple[float, R]] = OrderedDict()

    async def get(self, tenant_id: str, resource_id: str) -> R | None:
        key = (tenant_id, resource_id)
        now = self._monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            self._entries.move_to_end(key)
            return cached[1]
        found = await self._store.get(tenant_id, resource_id)
        if found is not None:
            self._entries[key] = (now + self._ttl, found)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return found

    async def insert(self, resource: R, key: IdempotencyKey | None) -> R:
        return await self._store.insert(resource, key)

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[R] | None:
        return await self._store.find_by_request_id(tenant_id, request_id)

    async def list(self, tenant_id: str, filters: F, page: PageRequest) -> tuple[Sequence[R], int]:
        return await self._store.list(tenant_id, filters, page)
