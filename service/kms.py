"""The keyring half of the composition root: `--kms local` (master keys on this host, the
default) or `--kms openbao` (envelope encryption under OpenBao transit; no master key here).

With `--kms openbao` and master keys configured as well, the master keys only open what they
sealed before (old `encrypted://` refs, stored secrets not yet migrated); everything new is
sealed under OpenBao. `integrations-service keys migrate-to-openbao` moves stored secrets.
"""

from __future__ import annotations

import logging
from pathlib import Path

from drivers.credentials.data_key_store import SqlDataKeyStore
from drivers.credentials.master_keys import (
    dev_key_path,
    ensure_dev_key_file,
    load_key_file,
    parse_master_keys,
)
from drivers.credentials.openbao_client import OpenBaoClient
from drivers.credentials.openbao_kv import KvSecretStore
from drivers.credentials.openbao_transit import TransitKeyService
from drivers.kernel.database import Database
from engines.credentials.crypto import Keyring
from engines.credentials.envelope_keyring import EnvelopeKeyring
from engines.credentials.keyrings import MigratingKeyring, SealingKeyring
from service.config import ServeConfig

__all__ = [
    "KMS_CHOICES",
    "SECRET_STORE_CHOICES",
    "envelope_keyring",
    "master_keyring",
    "min_key_version",
    "open_key_service",
    "open_secret_store",
    "sealing_keyring",
]

KMS_CHOICES = ("local", "openbao")
SECRET_STORE_CHOICES = ("local", "openbao")
log = logging.getLogger("integrations.credentials")


async def open_key_service(config: ServeConfig) -> TransitKeyService | None:
    """With `--kms openbao`: a logged-in client of the transit key, checked (start is refused
    with a message when OpenBao is unreachable, sealed, refuses the login, or lacks the key)."""
    if config.kms not in KMS_CHOICES:
        raise ValueError(f"--kms {config.kms!r}: choose one of {', '.join(KMS_CHOICES)}")
    if config.kms != "openbao":
        return None
    client = OpenBaoClient(config.openbao)
    transit = TransitKeyService(client)
    try:
        await transit.check()
    except BaseException:
        await client.close()
        raise
    log.info(
        "credential keyring: OpenBao transit key %s at %s (data keys cached %.0fs)",
        transit.key_name,
        config.openbao.address,
        config.openbao.data_key_ttl_seconds,
    )
    return transit


async def open_secret_store(config: ServeConfig) -> KvSecretStore | None:
    """With `--secret-store openbao`: a logged-in client of the KV v2 mount, checked (start is
    refused with a message when OpenBao is unreachable, sealed, refuses the login, or the mount
    is missing or not KV v2). It has its own connection and token renewal."""
    if config.secret_store not in SECRET_STORE_CHOICES:
        raise ValueError(
            f"--secret-store {config.secret_store!r}: choose one of {', '.join(SECRET_STORE_CHOICES)}"
        )
    if config.secret_store != "openbao":
        return None
    client = OpenBaoClient(config.openbao, flag="--secret-store openbao", what="the secret store")
    store = KvSecretStore(client, config.secret_store_mount)
    try:
        await store.check()
    except BaseException:
        await client.close()
        raise
    log.info(
        "credential values: OpenBao KV v2 mount %s at %s", store.mount, config.openbao.address
    )
    return store


def envelope_keyring(
    config: ServeConfig, database: Database, transit: TransitKeyService
) -> EnvelopeKeyring:
    """Per-tenant data keys wrapped by `transit`, stored in the service's database."""
    return EnvelopeKeyring(
        transit,
        SqlDataKeyStore(database),
        ttl_seconds=config.openbao.data_key_ttl_seconds,
        max_keys=config.openbao.max_data_keys,
    )


def sealing_keyring(
    config: ServeConfig,
    database: Database,
    transit: TransitKeyService | None,
    local: Keyring | None,
) -> SealingKeyring:
    """The vault's keyring: local master keys, or OpenBao (opening older secrets with the
    master keys too when some are configured)."""
    if transit is None:
        if local is None:
            raise ValueError("no keyring configured")
        return local
    envelope = envelope_keyring(config, database, transit)
    if local is None:
        return envelope
    log.warning(
        "--kms openbao with master keys configured: they open older secrets only; run "
        "`integrations-service keys migrate-to-openbao`, then remove them from this host"
    )
    return MigratingKeyring(local, envelope)


def master_keyring(config: ServeConfig, *, create_dev: bool) -> Keyring | None:
    """The master keys: CREDENTIAL_MASTER_KEYS or --master-key-file; in development only, a
    key file next to the database (created when `create_dev`). With `--kms openbao`, only
    configured ones (None when there are none)."""
    if config.production and config.allow_env_credentials:
        raise ValueError("--allow-env-credentials is for development; not with --production")
    if config.master_keys and config.master_key_file:
        raise ValueError("set CREDENTIAL_MASTER_KEYS or --master-key-file, not both")
    if config.master_keys:
        return parse_master_keys(config.master_keys, source="CREDENTIAL_MASTER_KEYS")
    if config.master_key_file:
        return load_key_file(Path(config.master_key_file))
    if config.kms == "openbao":
        return None
    if config.production:
        raise ValueError(
            "--production needs a master key: set CREDENTIAL_MASTER_KEYS or --master-key-file"
        )
    path = dev_key_path(config.database_url)
    if not create_dev and not path.exists():
        raise ValueError(f"no master key configured and no development key file at {path}")
    log.warning(
        "no master key configured: using the DEVELOPMENT key file %s (created if missing, "
        "readable only by its owner); configure CREDENTIAL_MASTER_KEYS or --master-key-file "
        "for real secrets",
        path,
    )
    return ensure_dev_key_file(path)


def min_key_version(config: ServeConfig) -> int:
    """--min-key-version retires local master key versions; OpenBao retires transit key
    versions itself (the key's min_decryption_version)."""
    if config.min_key_version and config.kms != "local":
        raise ValueError(
            "--min-key-version retires local master key versions; with --kms openbao set the "
            "transit key's min_decryption_version in OpenBao instead"
        )
    return config.min_key_version
