"""Envelope encryption: every tenant's secrets are sealed (AES-256-GCM) with that tenant's own
data key, which a key service (OpenBao transit) generated and wrapped. Only the wrapped form is
stored; an unwrapped key lives in this process's memory for a bounded time, so a reveal calls the
key service once per tenant and lifetime, not once per request. No master key exists here.

Rotation happens in the key service: after its key is rotated, `rewrap_data_keys` asks it to
re-wrap every stored data key under the newest version; sealed secrets need no change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engines.credentials.crypto import KEY_BYTES, SealBroken, Sealed, keyed_digest
from engines.kernel.clock import Clock, system_clock
from engines.kernel.expiring_cache import ExpiringCache

__all__ = [
    "ENVELOPE_KEY_VERSION",
    "DataKeyRewrap",
    "DataKeyStore",
    "EnvelopeKeyring",
    "KeyService",
    "NewDataKey",
    "WrappedDataKey",
]

# The key version of everything an envelope keyring seals: not a master key, the tenant's data
# key. Local master keys are numbered from 1, so the two never mix.
ENVELOPE_KEY_VERSION = 0
_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class WrappedDataKey:
    """A tenant's data key as stored: wrapped by `kms_key` at its version `kms_version`."""

    tenant_id: str
    wrapped: str
    kms_key: str
    kms_version: int
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class NewDataKey:
    """A freshly generated data key: plaintext (never printed) and its wrapped form."""

    plaintext: bytes = field(repr=False)
    wrapped: str
    kms_version: int


@dataclass(frozen=True, slots=True)
class DataKeyRewrap:
    """What `rewrap_data_keys` did: keys re-wrapped, and those the key service would not open."""

    rewrapped: int
    failed: int
    kms_version: int


@dataclass(frozen=True, slots=True)
class _DataKey:
    """A tenant's unwrapped data key (never printed) and its cipher."""

    key: bytes = field(repr=False)
    cipher: AESGCM = field(repr=False)


class KeyService(Protocol):
    """The key service that wraps data keys (its key never leaves it). Outages raise
    `engines.kernel.errors.Unavailable`; a wrapped key that does not unwrap raises `SealBroken`."""

    @property
    def key_name(self) -> str:
        """Names the wrapping key, for example `transit/integrations`."""

    async def generate(self, tenant_id: str) -> NewDataKey: ...

    async def unwrap(self, tenant_id: str, wrapped: str) -> bytes: ...

    async def rewrap(self, tenant_id: str, wrapped: str) -> tuple[str, int]:
        """The same data key wrapped under the newest key version, and that version."""

    async def newest_version(self) -> int: ...


class DataKeyStore(Protocol):
    """Persistence of wrapped data keys, one per tenant."""

    async def get(self, tenant_id: str) -> WrappedDataKey | None: ...

    async def insert(self, key: WrappedDataKey) -> bool:
        """Stores the tenant's first data key; False when the tenant has one already."""

    async def older_than(
        self, kms_key: str, kms_version: int, after: str | None, limit: int
    ) -> Sequence[WrappedDataKey]:
        """Keys of `kms_key` wrapped under an older version, by tenant id, after `after`."""

    async def replace(self, key: WrappedDataKey, wrapped: str, kms_version: int) -> bool:
        """Swaps the wrapped form if it is still `key.wrapped`."""


class EnvelopeKeyring:
    """A `SealingKeyring` over per-tenant data keys; unwrapped keys are kept `ttl_seconds`, at
    most `max_keys` of them."""

    newest_version = ENVELOPE_KEY_VERSION
    versions = (ENVELOPE_KEY_VERSION,)

    def __init__(
        self,
        keys: KeyService,
        store: DataKeyStore,
        *,
        ttl_seconds: float = 300.0,
        max_keys: int = 10_000,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._store = store
        self._clock = clock
        # Keyed by (tenant, may create): a lookup that must not create never answers one that may.
        self._ciphers: ExpiringCache[tuple[str, bool], _DataKey] = ExpiringCache(
            ttl_seconds=ttl_seconds, max_entries=max_keys, monotonic=monotonic
        )

    def __repr__(self) -> str:  # never print key material
        return f"EnvelopeKeyring(key={self._keys.key_name!r}, cached={len(self._ciphers)})"

    @property
    def key_service(self) -> KeyService:
        return self._keys

    async def seal(self, tenant_id: str, plaintext: bytes, aad: bytes) -> Sealed:
        cipher = (await self._data_key(tenant_id, create=True)).cipher
        nonce = os.urandom(_NONCE_BYTES)
        return Sealed(ENVELOPE_KEY_VERSION, nonce + cipher.encrypt(nonce, plaintext, aad))

    async def open(self, tenant_id: str, sealed: Sealed, aad: bytes) -> bytes:
        if sealed.key_version != ENVELOPE_KEY_VERSION or len(sealed.blob) <= _NONCE_BYTES:
            raise SealBroken()
        cipher = (await self._data_key(tenant_id, create=False)).cipher
        try:
            return cipher.decrypt(sealed.blob[:_NONCE_BYTES], sealed.blob[_NONCE_BYTES:], aad)
        except InvalidTag:
            raise SealBroken() from None

    async def fingerprint(self, tenant_id: str, data: bytes) -> str:
        """A keyed digest of `data` under a key derived from the tenant's data key (created
        if the tenant has none yet), so it survives rotations of the key service's key."""
        return keyed_digest((await self._data_key(tenant_id, create=True)).key, tenant_id, data)

    def forget(self) -> None:
        """Drops every unwrapped data key from memory."""
        self._ciphers.clear()

    async def rewrap_data_keys(self, batch_size: int = 100) -> DataKeyRewrap:
        """Re-wraps every stored data key under the key service's newest version; the data
        keys themselves (and so every sealed secret) stay the same."""
        newest = await self._keys.newest_version()
        rewrapped = failed = 0
        after: str | None = None
        while True:
            batch = await self._store.older_than(self._keys.key_name, newest, after, batch_size)
            if not batch:
                return DataKeyRewrap(rewrapped=rewrapped, failed=failed, kms_version=newest)
            for key in batch:
                after = key.tenant_id
                try:
                    wrapped, version = await self._keys.rewrap(key.tenant_id, key.wrapped)
                except SealBroken:
                    failed += 1
                    continue
                if await self._store.replace(key, wrapped, version):
                    rewrapped += 1

    async def _data_key(self, tenant_id: str, *, create: bool) -> _DataKey:
        for cached in ((tenant_id, True), (tenant_id, False)):
            found = self._ciphers.peek(cached)
            if found is not None:
                return found
        return await self._ciphers.get(
            (tenant_id, create), lambda: self._load(tenant_id, create=create)
        )

    async def _load(self, tenant_id: str, *, create: bool) -> _DataKey:
        """The tenant's data key, unwrapped; SealBroken when it has none (and may not create
        one). Failures are not cached, so a key another replica creates is found next time."""
        stored = await self._store.get(tenant_id)
        if stored is None and create:
            new = await self._keys.generate(tenant_id)
            now = self._clock()
            row = WrappedDataKey(
                tenant_id, new.wrapped, self._keys.key_name, new.kms_version, now, now
            )
            if await self._store.insert(row):
                return _unwrapped(new.plaintext)
            stored = await self._store.get(tenant_id)  # another process created it first
        if stored is None:
            raise SealBroken()
        if stored.kms_key != self._keys.key_name:
            raise SealBroken()  # wrapped by another key than the one configured
        return _unwrapped(await self._keys.unwrap(tenant_id, stored.wrapped))


def _unwrapped(key: bytes) -> _DataKey:
    if len(key) != KEY_BYTES:
        raise SealBroken()
    return _DataKey(key, AESGCM(key))
