"""The start-up check that the configured master keys still open the stored secrets: one sealed
secret per master-key version is opened, so a key that was regenerated or dropped is noticed at
start instead of as CREDENTIAL_CORRUPTED on every later reveal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engines.credentials.crypto import SealBroken
from engines.credentials.keyrings import SealingKeyring
from engines.credentials.vault import SealedSecret

__all__ = ["KeyVersionSample", "SealSamples", "UnopenedKey", "check_master_keys"]


@dataclass(frozen=True, slots=True)
class KeyVersionSample:
    """One stored secret sealed under `key_version`, and how many are."""

    key_version: int
    secrets: int
    sample: SealedSecret


@dataclass(frozen=True, slots=True)
class UnopenedKey:
    """Stored secrets that the configured keys do not open: `configured` False when no
    configured key has that version at all, True when the key with that version is a different
    one."""

    key_version: int
    secrets: int
    configured: bool


class SealSamples(Protocol):
    """Reads one stored secret per master-key version in use."""

    async def one_per_key_version(self) -> Sequence[KeyVersionSample]: ...


async def check_master_keys(keyring: SealingKeyring, samples: SealSamples) -> list[UnopenedKey]:
    """The key versions whose sample does not open under `keyring` (empty when all do);
    `Unavailable` when a key service the keyring needs cannot be reached."""
    unopened = []
    for found in await samples.one_per_key_version():
        try:
            await keyring.open(found.sample.tenant_id, found.sample.sealed, found.sample.aad)
        except SealBroken:
            unopened.append(UnopenedKey(
                found.key_version, found.secrets, configured=found.key_version in keyring.versions
            ))
    return unopened
