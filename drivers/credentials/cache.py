"""A `CredentialService` that reuses a revealed secret for a short while, for hot paths that
would otherwise reveal the same secret on every call (the SQL gateway resolves its connection
string per query).

Trade-off, documented in docs/sql_gateway.md: a rotated or revoked secret is noticed within the
TTL rather than at once, and the access log records one use per TTL instead of one per
query. Secrets stay in this process's memory only (never logged: `Credential` masks its repr).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from drivers.kernel.read_through import ReadThroughCache
from engines.credentials.credential_service import Credential, CredentialService

__all__ = ["CachedCredentialService"]


# (tenant, ref, destination): a use allowed for one destination says nothing about another.
_Key = tuple[str, str, "str | None"]


def _unexpired(credential: Credential) -> bool:
    expires_at = credential.expires_at
    return expires_at is None or expires_at > datetime.now(timezone.utc)


class CachedCredentialService:
    """Wraps a `CredentialService`; `use` results are reused for `ttl_seconds` (never past the
    credential's own expiry), errors are never cached, and concurrent misses for one ref share
    one reveal."""

    def __init__(
        self,
        inner: CredentialService,
        *,
        ttl_seconds: float,
        max_entries: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._cache: ReadThroughCache[_Key, Credential] = ReadThroughCache(
            ttl_seconds=ttl_seconds, max_entries=max_entries, monotonic=monotonic,
            usable=_unexpired,
        )
        self._pending: dict[_Key, asyncio.Future[Credential]] = {}

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        key = (tenant_id, credential_ref, destination)
        found = await self._cache.get(key, lambda: self._reveal_once(key))
        assert found is not None  # a reveal answers a credential or raises
        return found

    async def _reveal_once(self, key: _Key) -> Credential:
        """The inner reveal, shared by every caller that misses while it runs."""
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Credential] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            credential = await self._inner.use(key[1], key[0], key[2])
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so a miss nobody shared never warns
            raise
        else:
            future.set_result(credential)
            return credential
        finally:
            del self._pending[key]

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        return await self._inner.store(tenant_id, name, secret, destinations)

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        self._cache.drop_where(lambda key: key[:2] == (tenant_id, credential_ref))
        await self._inner.delete(tenant_id, credential_ref)
