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
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from engines.credentials.credential_service import Credential, CredentialService

__all__ = ["CachedCredentialService"]


# (tenant, ref, destination): a use allowed for one destination says nothing about another.
_Key = tuple[str, str, "str | None"]


@dataclass(frozen=True, slots=True)
class _Entry:
    credential: Credential
    fresh_until: float


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
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._pending: dict[_Key, asyncio.Future[Credential]] = {}

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        key = (tenant_id, credential_ref, destination)
        entry = self._entries.get(key)
        if entry is not None and self._usable(entry):
            return entry.credential
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Credential] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            credential = await self._inner.use(credential_ref, tenant_id, destination)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so a miss nobody shared never warns
            raise
        else:
            future.set_result(credential)
            self._remember(key, credential)
            return credential
        finally:
            del self._pending[key]

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        return await self._inner.store(tenant_id, name, secret, destinations)

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        for key in [k for k in self._entries if k[:2] == (tenant_id, credential_ref)]:
            del self._entries[key]
        await self._inner.delete(tenant_id, credential_ref)

    def _usable(self, entry: _Entry) -> bool:
        if entry.fresh_until <= self._monotonic():
            return False
        expires_at = entry.credential.expires_at
        return expires_at is None or expires_at > datetime.now(timezone.utc)

    def _remember(self, key: _Key, credential: Credential) -> None:
        if self._ttl <= 0:
            return
        self._entries[key] = _Entry(credential, self._monotonic() + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
