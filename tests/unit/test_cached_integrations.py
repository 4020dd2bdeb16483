"""CachedIntegrationStore: hits within the TTL, writes drop the entry after they return, a read
in flight during an invalidation stores nothing, and the size is bounded."""

from __future__ import annotations

import asyncio
from typing import Any

from drivers.integrations.cached_store import CachedIntegrationStore


class _Rows:
    """A store of plain values standing in for SqlIntegrationStore (get/replace only)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self.gets = 0
        self.gate: asyncio.Event | None = None

    async def get(self, tenant_id: str, resource_id: str) -> Any:
        self.gets += 1
        found = self.values.get((tenant_id, resource_id))
        if self.gate is not None:
            await self.gate.wait()
        return found

    async def replace(self, integration: Any, expected_version: int) -> bool:
        self.values[(integration.tenant_id, integration.id)] = integration
        return True


class _Row:
    def __init__(self, tenant_id: str, id: str, version: int) -> None:
        self.tenant_id, self.id, self.version = tenant_id, id, version


def _cache(rows: _Rows, now: list[float], **options: Any) -> CachedIntegrationStore:
    return CachedIntegrationStore(rows, monotonic=lambda: now[0], **options)  # type: ignore[arg-type]


async def test_hits_until_the_ttl_and_a_local_write_is_read_at_once() -> None:
    rows, now = _Rows(), [0.0]
    rows.values[("t", "a")] = _Row("t", "a", 1)
    cache = _cache(rows, now, ttl_seconds=2.0)
    assert (await cache.get("t", "a")).version == 1  # type: ignore[union-attr]
    assert (await cache.get("t", "a")).version == 1  # type: ignore[union-attr]
    assert rows.gets == 1
    await cache.replace(_Row("t", "a", 2), 1)  # type: ignore[arg-type]
    assert (await cache.get("t", "a")).version == 2  # type: ignore[union-attr]
    now[0] = 2.5
    await cache.get("t", "a")
    assert rows.gets == 3


async def test_a_read_in_flight_during_an_invalidation_is_not_stored() -> None:
    rows, now = _Rows(), [0.0]
    rows.values[("t", "a")] = _Row("t", "a", 1)
    cache = _cache(rows, now)
    rows.gate = asyncio.Event()
    reading = asyncio.create_task(cache.get("t", "a"))
    await asyncio.sleep(0)
    cache.invalidate("t", "a")  # another replica's commit heard while the read was in flight
    rows.gate.set()
    await reading
    assert len(cache) == 0


async def test_size_is_bounded_and_clear_drops_everything() -> None:
    rows, now = _Rows(), [0.0]
    for i in range(10):
        rows.values[("t", str(i))] = _Row("t", str(i), 1)
    cache = _cache(rows, now, max_entries=4)
    for i in range(10):
        await cache.get("t", str(i))
    assert len(cache) == 4
    cache.clear()
    assert len(cache) == 0
