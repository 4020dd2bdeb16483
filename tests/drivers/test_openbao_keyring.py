"""Envelope encryption under a real OpenBao (transit) with data keys in the service's database,
on both backends: sealing, caching, tenant binding, rotation and rewrap, start checks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from drivers.credentials.data_key_store import SqlDataKeyStore
from drivers.credentials.openbao_client import OpenBaoClient, OpenBaoStartError
from drivers.credentials.openbao_transit import TransitKeyService
from drivers.kernel.database import Database
from drivers.tables.data_keys import tenant_data_keys
from engines.credentials.crypto import SealBroken
from engines.credentials.envelope_keyring import ENVELOPE_KEY_VERSION, EnvelopeKeyring
from tests.openbao import OpenBaoServer, openbao_settings, running_openbao
from tests.secrets_registry import register_secret
from tests.support import new_tenant


@contextlib.asynccontextmanager
async def transit(
    server: OpenBaoServer, tmp_path: Path, **overrides: Any
) -> AsyncIterator[TransitKeyService]:
    client = OpenBaoClient(openbao_settings(server, tmp_path, **overrides))
    try:
        service = TransitKeyService(client)
        await service.check()
        yield service
    finally:
        await client.close()


class CountingKeys:
    """A real TransitKeyService that counts the unwraps it performs."""

    def __init__(self, inner: TransitKeyService) -> None:
        self.inner = inner
        self.unwraps = 0
        self.key_name = inner.key_name

    async def generate(self, tenant_id: str) -> Any:
        return await self.inner.generate(tenant_id)

    async def unwrap(self, tenant_id: str, wrapped: str) -> bytes:
        self.unwraps += 1
        return await self.inner.unwrap(tenant_id, wrapped)

    async def rewrap(self, tenant_id: str, wrapped: str) -> tuple[str, int]:
        return await self.inner.rewrap(tenant_id, wrapped)

    async def newest_version(self) -> int:
        return await self.inner.newest_version()


async def _wrapped(database: Database, tenant: str) -> Any:
    async with database.transaction() as conn:
        return (
            await conn.execute(
                sa.select(tenant_data_keys).where(tenant_data_keys.c.tenant_id == tenant)
            )
        ).first()


async def test_seal_and_open_store_only_the_wrapped_key(
    openbao: OpenBaoServer, database: Database, tmp_path: Path
) -> None:
    tenant = new_tenant()
    async with transit(openbao, tmp_path) as keys:
        keyring = EnvelopeKeyring(keys, SqlDataKeyStore(database))
        sealed = await keyring.seal(tenant, b"the secret", b"aad")
        assert sealed.key_version == ENVELOPE_KEY_VERSION
        assert await keyring.open(tenant, sealed, b"aad") == b"the secret"
        with pytest.raises(SealBroken):
            await keyring.open(tenant, sealed, b"other aad")
        row = await _wrapped(database, tenant)
        assert row.kms_key == "transit/integrations" and row.wrapped.startswith("vault:v1:")
        # A second keyring (another replica, or after a restart) unwraps the stored key.
        again = EnvelopeKeyring(keys, SqlDataKeyStore(database))
        assert await again.open(tenant, sealed, b"aad") == b"the secret"


async def test_unwrapped_keys_are_cached_for_their_lifetime_only(
    openbao: OpenBaoServer, database: Database, tmp_path: Path
) -> None:
    tenant, now = new_tenant(), [0.0]
    async with transit(openbao, tmp_path) as inner:
        sealed = await EnvelopeKeyring(inner, SqlDataKeyStore(database)).seal(tenant, b"s", b"")
        keys = CountingKeys(inner)
        keyring = EnvelopeKeyring(
            keys, SqlDataKeyStore(database), ttl_seconds=60, monotonic=lambda: now[0]
        )
        for _ in range(20):
            assert await keyring.open(tenant, sealed, b"") == b"s"
        assert keys.unwraps == 1
        now[0] = 61.0
        await keyring.open(tenant, sealed, b"")
        assert keys.unwraps == 2


async def test_max_cached_keys_is_a_bound(
    openbao: OpenBaoServer, database: Database, tmp_path: Path
) -> None:
    tenants = [new_tenant() for _ in range(3)]
    async with transit(openbao, tmp_path) as inner:
        writer = EnvelopeKeyring(inner, SqlDataKeyStore(database))
        sealed = {t: await writer.seal(t, b"s", b"") for t in tenants}
        keys = CountingKeys(inner)
        keyring = EnvelopeKeyring(keys, SqlDataKeyStore(database), max_keys=2)
        for tenant in tenants:
            await keyring.open(tenant, sealed[tenant], b"")
        await keyring.open(tenants[0], sealed[tenants[0]], b"")  # evicted by the third
        assert keys.unwraps == 4


async def test_a_data_key_moved_to_another_tenant_does_not_open(
    openbao: OpenBaoServer, database: Database, tmp_path: Path
) -> None:
    owner, thief = new_tenant(), new_tenant()
    async with transit(openbao, tmp_path) as keys:
        keyring = EnvelopeKeyring(keys, SqlDataKeyStore(database))
        sealed = await keyring.seal(owner, b"s", b"")
        await keyring.seal(thief, b"t", b"")
        stolen = (await _wrapped(database, owner)).wrapped
        async with database.transaction() as conn:
            await conn.execute(
                tenant_data_keys.update()
                .where(tenant_data_keys.c.tenant_id == thief)
                .values(wrapped=stolen)
            )
        fresh = EnvelopeKeyring(keys, SqlDataKeyStore(database))
        with pytest.raises(SealBroken):  # derived transit key: the context is the tenant
            await fresh.open(thief, sealed, b"")


async def test_rotation_rewraps_data_keys_and_secrets_still_open(
    tmp_path: Path, database: Database
) -> None:
    with_own = OpenBaoServer(tmp_path / "bao")
    with_own.start()
    try:
        with_own.enable_engines()
        tenants = [new_tenant() for _ in range(3)]
        async with transit(with_own, tmp_path) as keys:
            keyring = EnvelopeKeyring(keys, SqlDataKeyStore(database))
            sealed = {t: await keyring.seal(t, t.encode(), b"") for t in tenants}
            with_own.api("POST", "transit/keys/integrations/rotate")
            result = await keyring.rewrap_data_keys(batch_size=2)
            # Rows of other tests (other OpenBao servers, same database) count as failed.
            assert result.rewrapped >= 3 and result.kms_version == 2
            for tenant in tenants:
                assert (await _wrapped(database, tenant)).wrapped.startswith("vault:v2:")
            # Old key versions retired: only rewrapped data keys still open.
            with_own.api(
                "POST", "transit/keys/integrations/config", {"min_decryption_version": 2}
            )
            fresh = EnvelopeKeyring(keys, SqlDataKeyStore(database))
            for tenant in tenants:
                assert await fresh.open(tenant, sealed[tenant], b"") == tenant.encode()
            assert (await fresh.rewrap_data_keys()).rewrapped == 0
    finally:
        with_own.close()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"key_name": "no-such-key"},
            "transit key 'no-such-key' on mount 'transit' does not exist",
            id="key",
        ),
        pytest.param(
            {"transit_mount": "elsewhere"},
            "'integrations' on mount 'elsewhere' does not exist",
            id="mount",
        ),
        pytest.param({"address": "http://127.0.0.1:1"}, "unreachable", id="unreachable"),
    ],
)
async def test_start_is_refused_with_a_message(
    openbao: OpenBaoServer, tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(OpenBaoStartError, match=message):
        async with transit(openbao, tmp_path, **overrides):
            pass


async def test_a_token_file_that_holds_a_bad_token_refuses_start(
    openbao: OpenBaoServer, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-token"
    bad.write_text("s.not-a-token")
    with pytest.raises(OpenBaoStartError, match="refused the service's login"):
        async with transit(openbao, tmp_path, token_file=str(bad)):
            pass


async def test_approle_login_over_tls_with_a_ca_file(tmp_path: Path, database: Database) -> None:
    with running_openbao(tmp_path / "bao", tls=True) as server:
        role_id, secret_id_file = server.approle(tmp_path)
        register_secret(secret_id_file.read_text())
        async with transit(
            server,
            tmp_path,
            token_file=None,
            approle_role_id=role_id,
            approle_secret_id_file=str(secret_id_file),
            ca_file=str(server.ca_file),
        ) as keys:
            assert server.address.startswith("https://")
            keyring = EnvelopeKeyring(keys, SqlDataKeyStore(database))
            tenant = new_tenant()
            assert await keyring.open(tenant, await keyring.seal(tenant, b"s", b""), b"") == b"s"


async def test_without_the_ca_file_tls_to_openbao_is_refused(tmp_path: Path) -> None:
    with running_openbao(tmp_path / "bao", tls=True) as server:
        with pytest.raises(OpenBaoStartError, match="unreachable"):
            async with transit(server, tmp_path):
                pass
