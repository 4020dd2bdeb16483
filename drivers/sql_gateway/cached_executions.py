"""What ExecuteQuery reads (a gateway and the latest version of its template), answered from
process memory; dropped on every write through this process and, across replicas, when the
PostgreSQL notification of another replica's commit arrives (docs/consistency.md).

A tenant's entries are dropped together on any change of that tenant's templates or gateways:
one template is read through many gateways, and writes are rare next to queries."""

from __future__ import annotations

import time
from collections.abc import Callable

from drivers.kernel.database import Database
from drivers.kernel.read_through import ReadThroughCache
from drivers.sql_gateway.store import SqlGatewayStore, SqlTemplateStore
from engines.sql_gateway.gateway import Gateway
from engines.sql_gateway.templates import QueryTemplate

__all__ = ["CachedExecutions"]

_Pair = tuple[Gateway | None, QueryTemplate | None]


class CachedExecutions:
    """An `ExecutionReader` with the template and gateway stores whose writes invalidate it.

    Consistency: read-your-writes on this replica (a write through `templates` or `gateways`
    drops the tenant's entries before it returns); across replicas, an entry lives until the
    listener hears the change (`invalidate`) or for at most `ttl_seconds` (0: no caching)."""

    def __init__(
        self,
        database: Database,
        *,
        ttl_seconds: float,
        max_entries: int = 4096,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache: ReadThroughCache[tuple[str, str, str], _Pair] = ReadThroughCache(
            ttl_seconds=ttl_seconds, max_entries=max_entries, monotonic=monotonic
        )
        self.templates = SqlTemplateStore(database, changed=self.invalidate_tenant)
        self.gateways = SqlGatewayStore(database, changed=self.invalidate_tenant)

    def __len__(self) -> int:
        return len(self._cache)

    async def get_with_template(
        self, tenant_id: str, gateway_id: str, template_id: str
    ) -> _Pair:
        missing: _Pair = (None, None)

        async def load() -> _Pair | None:
            nonlocal missing
            pair = await self.gateways.get_with_template(tenant_id, gateway_id, template_id)
            if pair[0] is None or pair[1] is None:  # a miss is answered, never stored
                missing = pair
                return None
            return pair

        found = await self._cache.get((tenant_id, gateway_id, template_id), load)
        return found if found is not None else missing

    def invalidate_tenant(self, tenant_id: str) -> None:
        self._cache.drop_where(lambda key: key[0] == tenant_id)

    def invalidate(self, tenant_id: str, _resource_id: str) -> None:
        """A notification of a change to one of the tenant's templates or gateways."""
        self.invalidate_tenant(tenant_id)

    def clear(self) -> None:
        """Drops everything (the listener reconnected: notifications may have been missed)."""
        self._cache.clear()
