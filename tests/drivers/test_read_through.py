"""ReadThroughStore: found resources come from memory until the TTL runs out; misses never."""

from __future__ import annotations

from collections.abc import Sequence

from drivers.read_through import ReadThroughStore
from engines.idempotency import IdempotencyKey, Replay
from engines.pagination import PageRequest


class CountingStore:
    """A store of strings that counts its reads."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], str] = {}
        self.reads = 0

    async def insert(self, resource: str, key: IdempotencyKey | None) -> str:
        return resource

    async def get(self, tenant_id: str, resource_id: str) -> str | None:
        self.reads += 1
        return self.rows.get((tenant_id, resource_id))

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[str] | None:
        return None

    async def list(self, tenant_id: str, filters: None, page: PageRequest) -> tuple[Sequence[str], int]:
        return [], 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_found_resources_are_served_from_memory_until_the_ttl_ends() -> None:
    store, clock = CountingStore(), Clock()
    cached = ReadThroughStore(store, ttl_seconds=60, monotonic=clock)
    store.rows[("t", "a")] = "A"
    assert await cached.get("t", "a") == "A"
    store.rows[("t", "a")] = "changed"
    assert await cached.get("t", "a") == "A"
    assert store.reads == 1
    clock.now = 61
    assert await cached.get("t", "a") == "changed"
    assert store.reads == 2


async def test_misses_are_not_cached_so_a_create_is_visible_at_once() -> None:
    store = CountingStore()
    cached = ReadThroughStore(store)
    assert await cached.get("t", "a") is None
    store.rows[("t", "a")] = "A"
    assert await cached.get("t", "a") == "A"


async def test_the_least_recently_used_entry_is_dropped_beyond_the_bound() -> None:
    store = CountingStore()
    cached = ReadThroughStore(store, max_entries=2)
    store.rows |= {("t", "a"): "A", ("t", "b"): "B", ("t", "c"): "C"}
    for key in ("a", "b", "a", "c"):
        await cached.get("t", key)
    reads = store.reads
    await cached.get("t", "a")
    assert store.reads == reads  # kept: used more recently than b
    await cached.get("t", "b")
    assert store.reads == reads + 1  # dropped
