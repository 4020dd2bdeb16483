"""EnvelopeKeyring and MigratingKeyring with hand-written fakes: one key-service call per tenant
and lifetime, shared misses, no cached failures, replicas racing for a tenant's first key."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import datetime, timezone

import pytest

from engines.credentials.crypto import Keyring, SealBroken, Sealed
from engines.credentials.envelope_keyring import EnvelopeKeyring, NewDataKey, WrappedDataKey
from engines.credentials.keyrings import MigratingKeyring
from engines.kernel.errors import Unavailable
from tests.support import new_tenant


class FakeKeyService:
    """Wraps by XOR with a fixed pad (enough to tell keys apart); counts calls."""

    key_name = "transit/test"

    def __init__(self) -> None:
        self.generated = self.unwrapped = 0
        self.fail_next: Exception | None = None
        self.delay = 0.0

    def _check(self) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

    async def generate(self, tenant_id: str) -> NewDataKey:
        await asyncio.sleep(self.delay)
        self._check()
        self.generated += 1
        key = os.urandom(32)
        return NewDataKey(key, f"{tenant_id}:{key.hex()}", 1)

    async def unwrap(self, tenant_id: str, wrapped: str) -> bytes:
        await asyncio.sleep(self.delay)
        self._check()
        self.unwrapped += 1
        owner, _, key = wrapped.partition(":")
        if owner != tenant_id:
            raise SealBroken()
        return bytes.fromhex(key)

    async def rewrap(self, tenant_id: str, wrapped: str) -> tuple[str, int]:
        return wrapped, 2

    async def newest_version(self) -> int:
        return 2


class FakeDataKeyStore:
    def __init__(self) -> None:
        self.rows: dict[str, WrappedDataKey] = {}

    async def get(self, tenant_id: str) -> WrappedDataKey | None:
        return self.rows.get(tenant_id)

    async def insert(self, key: WrappedDataKey) -> bool:
        if key.tenant_id in self.rows:
            return False
        self.rows[key.tenant_id] = key
        return True

    async def older_than(
        self, kms_key: str, kms_version: int, after: str | None, limit: int
    ) -> Sequence[WrappedDataKey]:
        rows = sorted(
            (r for r in self.rows.values() if r.kms_key == kms_key and r.kms_version < kms_version),
            key=lambda r: r.tenant_id,
        )
        return [r for r in rows if after is None or r.tenant_id > after][:limit]

    async def replace(self, key: WrappedDataKey, wrapped: str, kms_version: int) -> bool:
        now = datetime.now(timezone.utc)
        self.rows[key.tenant_id] = WrappedDataKey(
            key.tenant_id, wrapped, key.kms_key, kms_version, key.create_time, now
        )
        return True


async def test_concurrent_first_seals_of_a_tenant_share_one_generated_key() -> None:
    keys, store = FakeKeyService(), FakeDataKeyStore()
    keys.delay = 0.01
    keyring = EnvelopeKeyring(keys, store)
    tenant = new_tenant()
    sealed = await asyncio.gather(*(keyring.seal(tenant, b"s", b"") for _ in range(10)))
    assert keys.generated == 1
    for one in sealed:
        assert await keyring.open(tenant, one, b"") == b"s"
    assert keys.unwrapped == 0  # the generated key was kept in memory


async def test_a_replica_that_loses_the_race_uses_the_winners_key() -> None:
    keys, store = FakeKeyService(), FakeDataKeyStore()
    first, second = EnvelopeKeyring(keys, store), EnvelopeKeyring(keys, store)
    tenant = new_tenant()
    a, b = await asyncio.gather(first.seal(tenant, b"a", b""), second.seal(tenant, b"b", b""))
    assert keys.generated == 2 and len(store.rows) == 1
    for keyring in (first, second, EnvelopeKeyring(keys, store)):
        assert await keyring.open(tenant, a, b"") == b"a"
        assert await keyring.open(tenant, b, b"") == b"b"


async def test_failures_and_missing_keys_are_not_remembered() -> None:
    keys, store = FakeKeyService(), FakeDataKeyStore()
    reader, writer = EnvelopeKeyring(keys, store), EnvelopeKeyring(keys, store)
    tenant = new_tenant()
    probe = Sealed(0, os.urandom(40))
    with pytest.raises(SealBroken):  # no data key yet
        await reader.open(tenant, probe, b"")
    sealed = await writer.seal(tenant, b"s", b"")  # another replica creates it
    keys.fail_next = Unavailable("down")
    with pytest.raises(Unavailable):
        await reader.open(tenant, sealed, b"")
    assert await reader.open(tenant, sealed, b"") == b"s"


async def test_what_is_not_an_envelope_seal_does_not_open() -> None:
    keyring = EnvelopeKeyring(FakeKeyService(), FakeDataKeyStore())
    tenant = new_tenant()
    sealed = await keyring.seal(tenant, b"s", b"")
    with pytest.raises(SealBroken):
        await keyring.open(tenant, Sealed(1, sealed.blob), b"")
    with pytest.raises(SealBroken):
        await keyring.open(new_tenant(), sealed, b"")
    assert "transit/test" in repr(keyring) and sealed.blob.hex() not in repr(keyring)


async def test_rewrap_data_keys_moves_every_key_to_the_newest_version() -> None:
    keys, store = FakeKeyService(), FakeDataKeyStore()
    keyring = EnvelopeKeyring(keys, store)
    for _ in range(5):
        await keyring.seal(new_tenant(), b"s", b"")
    result = await keyring.rewrap_data_keys(batch_size=2)
    assert (result.rewrapped, result.failed, result.kms_version) == (5, 0, 2)
    assert (await keyring.rewrap_data_keys()).rewrapped == 0


async def test_migrating_keyring_seals_with_the_target_and_opens_both() -> None:
    local = Keyring({1: os.urandom(32)})
    envelope = EnvelopeKeyring(FakeKeyService(), FakeDataKeyStore())
    tenant = new_tenant()
    old = await local.seal(tenant, b"old", b"")
    both = MigratingKeyring(local, envelope)
    new = await both.seal(tenant, b"new", b"")
    assert new.key_version == 0 and both.versions == (0, 1) and both.newest_version == 0
    assert await both.open(tenant, old, b"") == b"old"
    assert await both.open(tenant, new, b"") == b"new"
    with pytest.raises(ValueError):
        MigratingKeyring(local, Keyring({1: os.urandom(32)}))


async def test_fingerprints_are_keyed_by_the_tenants_data_key_and_survive_restarts() -> None:
    keys, store = FakeKeyService(), FakeDataKeyStore()
    keyring = EnvelopeKeyring(keys, store)
    tenant, other = new_tenant(), new_tenant()
    digest = await keyring.fingerprint(tenant, b"sk-live-123")
    assert keys.generated == 1  # the tenant's data key, made on first use
    assert digest == await EnvelopeKeyring(keys, store).fingerprint(tenant, b"sk-live-123")
    assert digest != await keyring.fingerprint(tenant, b"sk-live-124")
    assert digest != await keyring.fingerprint(other, b"sk-live-123")
    assert digest != await EnvelopeKeyring(keys, FakeDataKeyStore()).fingerprint(
        tenant, b"sk-live-123"
    )
    assert digest == await MigratingKeyring(Keyring({1: os.urandom(32)}), keyring).fingerprint(
        tenant, b"sk-live-123"
    )
