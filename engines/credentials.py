"""The port through which every engine reaches secrets: the credential service.

Engines never see a master key or a stored ciphertext; they hold refs (`encrypted://`,
`cus-vault://<tenant>/<id>`, `env://NAME`) and ask this port for the value at the moment of use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["Credential", "CredentialService"]


@dataclass(frozen=True, slots=True)
class Credential:
    """A revealed secret. Keep it in memory only as long as the call that needs it."""

    value: str
    expires_at: datetime | None = None

    def __repr__(self) -> str:  # never print the secret, even in a traceback or a log
        return f"Credential(value='***', expires_at={self.expires_at!r})"


class CredentialService(Protocol):
    """What engines may ask of the credential service.

    Errors are engine errors: NotFound (unknown, revoked or another tenant's ref),
    InvalidArgument (malformed or tampered ref), FailedPrecondition (expired, scheme disabled),
    PermissionDenied, Unavailable.
    """

    async def get(self, credential_ref: str, tenant_id: str) -> Credential:
        """Reveals the secret behind `credential_ref` for `tenant_id`."""
        ...

    async def store(self, tenant_id: str, name: str, secret: str) -> str:
        """Stores `secret` as a new credential of the tenant; returns its `cus-vault://` ref."""
        ...

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        """Revokes a stored credential; later reveals are NotFound."""
        ...
