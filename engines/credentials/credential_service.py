"""The port through which every engine reaches secrets: the credential service.

Engines never see a master key or a stored ciphertext; they hold refs (`encrypted://`,
`cus-vault://<tenant>/<id>`, `env://NAME`) and ask this port for the value at the moment of use,
naming where it is about to be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["DESTINATION_DENIED", "Credential", "CredentialService"]

# ErrorInfo reason of a use refused because the target is not among the allowed destinations.
DESTINATION_DENIED = "CREDENTIAL_DESTINATION_DENIED"


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

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        """The secret behind `credential_ref`, for one outbound request to `destination`
        (`host:port`); None when the secret is a connection string whose own host:port is the
        destination. Refused with FailedPrecondition CREDENTIAL_DESTINATION_DENIED unless the
        credential allows that destination; every attempt lands in the owner's access log."""
        ...

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        """Stores `secret` as a new credential of the tenant that may be sent to
        `destinations`; returns its `cus-vault://` ref."""
        ...

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        """Revokes a stored credential; later reveals are NotFound."""
        ...
