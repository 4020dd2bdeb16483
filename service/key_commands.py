"""The key commands of the composition root: moving stored secrets between the local keyring
and OpenBao, rotating the OpenBao transit key, and re-wrapping data keys. Each returns counts
only; plaintext never leaves `CredentialVault.rewrap`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace

from drivers.credentials.openbao_transit import TransitKeyService
from drivers.credentials.store import SqlAccessLog, SqlCredentialStore
from drivers.kernel import migrator
from drivers.kernel.database import Database
from engines.credentials.crypto import Keyring
from engines.credentials.envelope_keyring import DataKeyRewrap
from engines.credentials.keyrings import MigratingKeyring
from engines.credentials.vault import CredentialVault, RewrapResult
from service.config import ServeConfig
from service.kms import envelope_keyring, master_keyring, open_key_service

__all__ = [
    "KeyStatus", "key_status", "migrate_keyring", "rewrap_credentials", "rewrap_data_keys",
    "rotate_transit_key",
]


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """Stored secret versions per key version, the newest configured version and every
    configured one (None when no local master keys are configured here)."""

    counts: Mapping[int, int]
    newest: int | None
    configured: tuple[int, ...] | None


async def key_status(config: ServeConfig) -> KeyStatus:
    """What `keys status` prints: counts only, never a secret; needs no key to count."""
    database = Database(config.database_url)
    try:
        if config.apply_migrations:
            await migrator.upgrade(database)
        counts = await SqlCredentialStore(database).key_version_counts()
    finally:
        await database.dispose()
    try:
        keyring = master_keyring(replace(config, kms="local"), create_dev=False)
    except ValueError:
        keyring = None
    if keyring is None:
        return KeyStatus(counts, None, None)
    return KeyStatus(counts, keyring.newest_version, tuple(keyring.versions))


@contextlib.asynccontextmanager
async def _opened(config: ServeConfig) -> AsyncIterator[tuple[Database, TransitKeyService]]:
    transit = await open_key_service(replace(config, kms="openbao"))
    assert transit is not None
    database = Database(config.database_url)
    try:
        if config.apply_migrations:
            await migrator.upgrade(database)
        yield database, transit
    finally:
        await database.dispose()
        await transit.close()


def _master_keys(config: ServeConfig) -> Keyring:
    local = master_keyring(replace(config, kms="local"), create_dev=False)
    assert local is not None
    return local


async def migrate_keyring(config: ServeConfig, *, to_openbao: bool) -> RewrapResult:
    """Re-seals every stored secret under OpenBao (`to_openbao`) or under the newest master key;
    a secret neither keyring opens is counted as failed and left as it was."""
    local = _master_keys(config)
    async with _opened(config) as (database, transit):
        envelope = envelope_keyring(config, database, transit)
        keyring = MigratingKeyring(local, envelope) if to_openbao else MigratingKeyring(envelope, local)
        vault = CredentialVault(keyring, SqlCredentialStore(database), SqlAccessLog(database))
        return await vault.rewrap()


async def rewrap_data_keys(config: ServeConfig) -> DataKeyRewrap:
    """Re-wraps every tenant's data key under the transit key's newest version."""
    async with _opened(config) as (database, transit):
        return await envelope_keyring(config, database, transit).rewrap_data_keys()


async def rotate_transit_key(config: ServeConfig) -> DataKeyRewrap:
    """Rotates the transit key in OpenBao, then re-wraps every data key under the new version."""
    async with _opened(config) as (database, transit):
        await transit.rotate()
        return await envelope_keyring(config, database, transit).rewrap_data_keys()


async def rewrap_credentials(config: ServeConfig) -> RewrapResult:
    """Re-seals every stored secret under the newest master key (`integrations-service rewrap`)."""
    keyring = master_keyring(config, create_dev=False)
    if keyring is None:
        raise ValueError(
            "rewrap re-seals under the newest local master key, and none is configured; under "
            "--kms openbao, `keys rotate-openbao` rotates the transit key and re-wraps data keys"
        )
    database = Database(config.database_url)
    try:
        if config.apply_migrations:
            await migrator.upgrade(database)
        vault = CredentialVault(
            keyring,
            SqlCredentialStore(database),
            SqlAccessLog(database),
        )
        return await vault.rewrap()
    finally:
        await database.dispose()
