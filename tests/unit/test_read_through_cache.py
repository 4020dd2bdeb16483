"""ReadThroughCache: entries until their TTL, nothing with TTL 0, misses never stored, an
invalidation winning over a read in flight, `drop_where` dropping only what it selects, and the
least recently stored entry dropped first beyond the bound."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from drivers.kernel.read_through import ReadThroughCache


class _Source:
    """Counts loads; a load answers `values[key]` (None: a miss), after `gate` if set."""

    def __init__(self, **values: str | None) -> None:
        self.values = values
        self.loads: list[str] = []
        self.gate: asyncio.Event | None = None

    def loader(self, key: str) -> Callable[[], Awaitable[str | None]]:
        async def load() -> str | None:
            self.loads.append(key)
            if self.gate is not None:
                await self.gate.wait()
            return self.values.get(key)

        return load


def _cache(now: list[float], ttl_seconds: float = 2.0, **options: int) -> ReadThroughCache[str, str]:
    return ReadThroughCache(ttl_seconds=ttl_seconds, monotonic=lambda: now[0], **options)


async def test_an_entry_serves_until_its_ttl() -> None:
    source, now = _Source(a="1"), [0.0]
    cache = _cache(now)
    assert await cache.get("a", source.loader("a")) == "1"
    source.values["a"] = "2"
    now[0] = 1.9
    assert await cache.get("a", source.loader("a")) == "1"
    now[0] = 2.0
    assert await cache.get("a", source.loader("a")) == "2"
    assert source.loads == ["a", "a"]


async def test_ttl_zero_and_misses_store_nothing() -> None:
    source, now = _Source(a="1"), [0.0]
    uncached = _cache(now, ttl_seconds=0)
    for _ in range(2):
        assert await uncached.get("a", source.loader("a")) == "1"
    cache = _cache(now)
    for _ in range(2):
        assert await cache.get("missing", source.loader("missing")) is None
    assert (len(uncached), len(cache), len(source.loads)) == (0, 0, 4)


@pytest.mark.parametrize(
    "invalidate",
    [
        lambda cache: cache.drop("a"),
        lambda cache: cache.drop_where(lambda key: False),  # even one that selects nothing
        lambda cache: cache.clear(),
    ],
    ids=["drop", "drop_where", "clear"],
)
async def test_an_invalidation_during_a_load_keeps_its_value_out(
    invalidate: Callable[[ReadThroughCache[str, str]], None],
) -> None:
    source, now = _Source(a="old"), [0.0]
    cache = _cache(now)
    source.gate = asyncio.Event()
    reading = asyncio.create_task(cache.get("a", source.loader("a")))
    await asyncio.sleep(0)
    invalidate(cache)
    source.gate.set()
    assert await reading == "old"  # answered, as the read began before the write
    assert len(cache) == 0


async def test_drop_where_drops_only_the_selected_keys() -> None:
    source, now = _Source(**{"t1/a": "1", "t1/b": "2", "t2/a": "3"}), [0.0]
    cache = _cache(now)
    for key in source.values:
        await cache.get(key, source.loader(key))
    cache.drop_where(lambda key: key.startswith("t1/"))
    assert len(cache) == 1
    assert await cache.get("t2/a", source.loader("t2/a")) == "3"
    assert source.loads.count("t2/a") == 1


async def test_beyond_the_bound_the_least_recently_stored_goes_first() -> None:
    source, now = _Source(a="1", b="2", c="3"), [0.0]
    cache = _cache(now, max_entries=2)
    for key in ("a", "b", "c"):
        await cache.get(key, source.loader(key))
    assert len(cache) == 2
    await cache.get("b", source.loader("b"))
    await cache.get("c", source.loader("c"))
    await cache.get("a", source.loader("a"))
    assert source.loads == ["a", "b", "c", "a"]
