"""The port through which the credential vault seals and opens secrets: the local keyring of
master keys (`engines/credentials/crypto.Keyring`) or envelope encryption under a key service
(`engines/credentials/envelope_keyring.EnvelopeKeyring`)."""

from __future__ import annotations

from typing import Protocol

from engines.credentials.crypto import Sealed

__all__ = ["MigratingKeyring", "SealingKeyring"]


class SealingKeyring(Protocol):
    """Seals with its newest key version and opens what any of its versions sealed.

    `open` raises `SealBroken` for anything that does not open (whatever the cause), and
    `engines.kernel.errors.Unavailable` when a key service it depends on cannot be reached."""

    @property
    def newest_version(self) -> int: ...

    @property
    def versions(self) -> tuple[int, ...]: ...

    async def seal(self, tenant_id: str, plaintext: bytes, aad: bytes) -> Sealed: ...

    async def open(self, tenant_id: str, sealed: Sealed, aad: bytes) -> bytes: ...

    async def fingerprint(self, tenant_id: str, data: bytes) -> str:
        """A keyed digest of `data` for the tenant, stable across key rotations (request
        digests of credential creates keep it instead of the secret)."""


class MigratingKeyring:
    """Seals with `target`, opens with whichever of `source` and `target` owns the sealed key
    version: moving stored secrets between keyrings is `CredentialVault.rewrap` over this.
    The two keyrings' versions must not overlap (master keys count from 1, envelope uses 0)."""

    def __init__(self, source: SealingKeyring, target: SealingKeyring) -> None:
        if set(source.versions) & set(target.versions):
            raise ValueError("the keyrings share key versions; cannot tell whose a secret is")
        self._source = source
        self._target = target

    @property
    def newest_version(self) -> int:
        return self._target.newest_version

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted({*self._source.versions, *self._target.versions}))

    async def seal(self, tenant_id: str, plaintext: bytes, aad: bytes) -> Sealed:
        return await self._target.seal(tenant_id, plaintext, aad)

    async def open(self, tenant_id: str, sealed: Sealed, aad: bytes) -> bytes:
        owner = self._source if sealed.key_version in self._source.versions else self._target
        return await owner.open(tenant_id, sealed, aad)

    async def fingerprint(self, tenant_id: str, data: bytes) -> str:
        return await self._target.fingerprint(tenant_id, data)
