"""OpenBao's transit engine as the `KeyService` of envelope encryption: it generates each tenant's
data key (`datakey/plaintext`), unwraps it (`decrypt`), re-wraps it after a rotation (`rewrap`),
and rotates the key (`keys/<name>/rotate`). The transit key itself never leaves OpenBao.

Each call passes the tenant id as the derivation context, so with a key created `derived=true`
(docs/openbao.md) a wrapped data key opens only for its own tenant.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from drivers.credentials.openbao_client import OpenBaoClient, OpenBaoRefused, OpenBaoStartError
from engines.credentials.crypto import KEY_BYTES, SealBroken
from engines.credentials.envelope_keyring import NewDataKey
from engines.kernel.errors import Unavailable

__all__ = ["TransitKeyService"]

log = logging.getLogger("integrations.openbao")


def _context(tenant_id: str) -> str:
    return base64.b64encode(f"tenant:{tenant_id}".encode()).decode()


def _version_of(ciphertext: str) -> int:
    """The key version in a transit ciphertext `vault:v<N>:...`."""
    prefix, _, rest = ciphertext.partition(":")
    version, _, _ = rest.partition(":")
    if prefix != "vault" or not version.startswith("v") or not version[1:].isdigit():
        raise SealBroken()
    return int(version[1:])


class TransitKeyService:
    """Data keys wrapped by one transit key (`<mount>/keys/<name>`)."""

    def __init__(self, client: OpenBaoClient) -> None:
        self._client = client
        self._mount = client.settings.transit_mount.strip("/")
        self._key = client.settings.key_name

    @property
    def key_name(self) -> str:
        return f"{self._mount}/{self._key}"

    async def start(self) -> None:
        """Begins renewing the service's token in the background."""
        self._client.start_renewal()

    async def close(self) -> None:
        await self._client.close()

    async def check(self) -> None:
        """Logs in and reads the key's description: start is refused, with a message saying
        what to fix, when OpenBao is unreachable or sealed, the login fails, or the key is
        missing or cannot encrypt."""
        where = f"OpenBao at {self._client.address}"
        await self._client.login_at_start()
        key = f"transit key {self._key!r} on mount {self._mount!r}"
        try:
            info = (
                await self._client.request("GET", f"{self._mount}/keys/{self._key}", relogin=False)
            )["data"]
        except Unavailable as exc:
            raise OpenBaoStartError(f"{where}: {exc.message}") from None
        except OpenBaoRefused as exc:
            if exc.status == 404:
                problem = "does not exist"
            else:  # a least-privilege token cannot tell a missing key from a forbidden one
                problem = "does not exist, or the token's policy does not allow reading it"
            raise OpenBaoStartError(
                f"{where}: {key} {problem} (create it: bao write -f "
                f"{self._mount}/keys/{self._key} derived=true; policy: docs/openbao.md)"
            ) from None
        if not info.get("supports_encryption") or not info.get("supports_decryption"):
            raise OpenBaoStartError(
                f"{where}: transit key {self._key!r} is of type {info.get('type')!r}, which cannot "
                "encrypt; create an aes256-gcm96 key"
            )
        if not info.get("derived"):
            log.warning(
                "transit key %s is not derived: wrapped data keys are not bound to their tenant "
                "inside OpenBao (create the key with derived=true)",
                self.key_name,
            )

    async def generate(self, tenant_id: str) -> NewDataKey:
        data = await self._call("datakey/plaintext", {"context": _context(tenant_id), "bits": 256})
        try:
            plaintext = base64.b64decode(data["plaintext"], validate=True)
        except (KeyError, binascii.Error):
            raise Unavailable("the key service (OpenBao) returned no data key") from None
        if len(plaintext) != KEY_BYTES:
            raise Unavailable("the key service (OpenBao) returned a data key of the wrong size")
        return NewDataKey(plaintext, data["ciphertext"], _version_of(data["ciphertext"]))

    async def unwrap(self, tenant_id: str, wrapped: str) -> bytes:
        data = await self._call(
            "decrypt", {"ciphertext": wrapped, "context": _context(tenant_id)}, broken_on_400=True
        )
        try:
            return base64.b64decode(data["plaintext"], validate=True)
        except (KeyError, binascii.Error):
            raise SealBroken() from None

    async def rewrap(self, tenant_id: str, wrapped: str) -> tuple[str, int]:
        data = await self._call(
            "rewrap", {"ciphertext": wrapped, "context": _context(tenant_id)}, broken_on_400=True
        )
        return data["ciphertext"], _version_of(data["ciphertext"])

    async def newest_version(self) -> int:
        info = await self._client.request("GET", f"{self._mount}/keys/{self._key}")
        return int(info["data"]["latest_version"])

    async def rotate(self) -> int:
        """Adds a key version in OpenBao (an operator's policy); returns the newest version."""
        await self._client.request("POST", f"{self._mount}/keys/{self._key}/rotate", {})
        return await self.newest_version()

    async def _call(
        self, operation: str, body: dict[str, Any], *, broken_on_400: bool = False
    ) -> dict[str, Any]:
        try:
            reply = await self._client.request("POST", f"{self._mount}/{operation}/{self._key}", body)
        except OpenBaoRefused as exc:
            log.error("OpenBao refused %s on %s: %s", operation, self.key_name, exc)
            if broken_on_400 and exc.status == 400:
                raise SealBroken() from None  # a wrapped key that does not open
            raise Unavailable(
                f"the key service (OpenBao) refused {operation} with key {self.key_name}; "
                "see the service log",
                reason="KEY_SERVICE_REFUSED",
            ) from None
        return dict(reply["data"])
