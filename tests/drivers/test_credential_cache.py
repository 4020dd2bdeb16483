"""CachedCredentialService with a hand-written inner credential service and a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from drivers.credentials.cache import CachedCredentialService
from engines.credentials.credential_service import Credential
from engines.kernel.errors import NotFound


class CountingCredentials:
    """Reveals `secret-<n>` where n counts reveals; can be told to fail or to be slow."""

    def __init__(self) -> None:
        self.reveals = 0
        self.fail = False
        self.delay = 0.0
        self.expires_at: datetime | None = None
        self.deleted: list[str] = []

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        self.reveals += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise NotFound("credential", credential_ref)
        return Credential(f"{tenant_id}:{credential_ref}:{self.reveals}", self.expires_at)

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        return f"cus-vault://{tenant_id}/{name}"

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        self.deleted.append(credential_ref)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def inner() -> CountingCredentials:
    return CountingCredentials()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _cache(inner: CountingCredentials, clock: Clock, **kwargs: object) -> CachedCredentialService:
    return CachedCredentialService(inner, ttl_seconds=30, monotonic=clock, **kwargs)  # type: ignore[arg-type]


async def test_reuses_a_reveal_within_the_ttl_then_asks_again(
    inner: CountingCredentials, clock: Clock
) -> None:
    cache = _cache(inner, clock)
    first = await cache.use("env://A", "t1", None)
    assert await cache.use("env://A", "t1", None) == first
    assert inner.reveals == 1
    clock.now += 30
    assert (await cache.use("env://A", "t1", None)).value.endswith(":2")


async def test_entries_are_per_tenant_and_per_ref(inner: CountingCredentials, clock: Clock) -> None:
    cache = _cache(inner, clock)
    values = {
        (await cache.use(ref, tenant, None)).value
        for tenant, ref in [("t1", "env://A"), ("t2", "env://A"), ("t1", "env://B")]
    }
    assert len(values) == 3 and inner.reveals == 3


async def test_errors_are_not_cached(inner: CountingCredentials, clock: Clock) -> None:
    cache = _cache(inner, clock)
    inner.fail = True
    for _ in range(2):
        with pytest.raises(NotFound):
            await cache.use("env://A", "t1", None)
    assert inner.reveals == 2


async def test_never_serves_a_credential_past_its_expiry(
    inner: CountingCredentials, clock: Clock
) -> None:
    cache = _cache(inner, clock)
    inner.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    await cache.use("env://A", "t1", None)
    await cache.use("env://A", "t1", None)
    assert inner.reveals == 2


async def test_concurrent_misses_share_one_reveal(inner: CountingCredentials, clock: Clock) -> None:
    cache = _cache(inner, clock)
    inner.delay = 0.05
    results = await asyncio.gather(*(cache.use("env://A", "t1", None) for _ in range(10)))
    assert inner.reveals == 1 and len({r.value for r in results}) == 1


async def test_delete_forgets_the_secret(inner: CountingCredentials, clock: Clock) -> None:
    cache = _cache(inner, clock)
    await cache.use("cus-vault://t1/x", "t1", None)
    await cache.delete("t1", "cus-vault://t1/x")
    assert inner.deleted == ["cus-vault://t1/x"]
    await cache.use("cus-vault://t1/x", "t1", None)
    assert inner.reveals == 2


async def test_size_is_bounded_oldest_first(inner: CountingCredentials, clock: Clock) -> None:
    cache = _cache(inner, clock, max_entries=2)
    for ref in ("env://A", "env://B", "env://C"):
        await cache.use(ref, "t1", None)
    await cache.use("env://C", "t1", None)
    await cache.use("env://A", "t1", None)  # evicted: revealed again
    assert inner.reveals == 4


async def test_zero_ttl_disables_caching(inner: CountingCredentials, clock: Clock) -> None:
    cache = CachedCredentialService(inner, ttl_seconds=0, monotonic=clock)
    await cache.use("env://A", "t1", None)
    await cache.use("env://A", "t1", None)
    assert inner.reveals == 2
