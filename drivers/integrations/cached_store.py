"""The per-process read-through cache of integrations: `get` answers from memory for a while,
everything else goes to the store; invalidated on commit, locally and across replicas
(docs/consistency.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drivers.kernel.read_through import ReadThroughCache
from engines.integrations.integration import Integration, IntegrationFilters
from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest

if TYPE_CHECKING:
    from drivers.health.store import SqlHealthStore
    from drivers.integrations.store import SqlIntegrationStore
    from engines.health.checks import HealthCheckResult, HealthStore

__all__ = ["CachedIntegrationStore"]


class CachedIntegrationStore:
    """Wraps the integration store: `get` answers from memory for at most `ttl_seconds`.

    Consistency (docs/consistency.md): read-your-writes on this replica, since every write made
    through this store (and health results recorded through `invalidating_health`) drops the
    entry after its commit and before the call returns; across replicas, an entry is dropped
    when the PostgreSQL notification of the row's commit arrives (drivers/kernel/pg_listener.py), and
    `ttl_seconds` bounds the staleness when notifications are not being received. A read that
    was in flight while an invalidation arrived does not store what it read."""

    def __init__(
        self,
        store: SqlIntegrationStore,
        *,
        ttl_seconds: float = 2.0,
        max_entries: int = 4096,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cache: ReadThroughCache[tuple[str, str], Integration] = ReadThroughCache(
            ttl_seconds=ttl_seconds, max_entries=max_entries, monotonic=monotonic
        )

    # -- invalidation ---------------------------------------------------------------------

    def invalidate(self, tenant_id: str, integration_id: str) -> None:
        self._cache.drop((tenant_id, integration_id))

    def clear(self) -> None:
        """Drops everything (the listener reconnected: notifications may have been missed)."""
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        return await self._cache.get(
            (tenant_id, integration_id), lambda: self._store.get(tenant_id, integration_id)
        )

    async def find_by_request_id(
        self, tenant_id: str, request_id: str
    ) -> Replay[Integration] | None:
        return await self._store.find_by_request_id(tenant_id, request_id)

    async def list(
        self, tenant_id: str, filters: IntegrationFilters, page: PageRequest
    ) -> tuple[Sequence[Integration], int]:
        return await self._store.list(tenant_id, filters, page)

    # -- writes: the entry is dropped after the commit ------------------------------------

    async def insert(self, integration: Integration, key: IdempotencyKey | None) -> Integration:
        stored = await self._store.insert(integration, key)
        self.invalidate(stored.tenant_id, stored.id)
        return stored

    async def replace(self, integration: Integration, expected_version: int) -> bool:
        try:
            return await self._store.replace(integration, expected_version)
        finally:
            self.invalidate(integration.tenant_id, integration.id)

    async def soft_delete(self, tenant_id: str, integration_id: str, when: datetime) -> bool:
        try:
            return await self._store.soft_delete(tenant_id, integration_id, when)
        finally:
            self.invalidate(tenant_id, integration_id)

    def __getattr__(self, name: str) -> Any:  # usage events and totals: not cached
        return getattr(self._store, name)

    def invalidating_health(self, health: SqlHealthStore) -> HealthStore:
        """`health` whose recorded results (which change the integration's health columns)
        drop this cache's entry after they commit."""
        return _InvalidatingHealthStore(health, self)


class _InvalidatingHealthStore:
    def __init__(self, health: SqlHealthStore, cache: CachedIntegrationStore) -> None:
        self._health = health
        self._cache = cache

    async def record(self, tenant_id: str, result: HealthCheckResult) -> None:
        try:
            await self._health.record(tenant_id, result)
        finally:
            self._cache.invalidate(tenant_id, result.integration_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._health, name)
