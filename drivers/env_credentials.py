"""A development-only `CredentialService` that resolves `env://NAME` refs from the environment.

Stand-in until the credential service is wired (issue 3); it cannot store secrets."""

from __future__ import annotations

import os

from engines.credentials import Credential
from engines.errors import FailedPrecondition, NotFound

__all__ = ["EnvCredentialService"]


class EnvCredentialService:
    """Reveals `env://NAME` from this process's environment; every other scheme is refused."""

    async def get(self, credential_ref: str, tenant_id: str) -> Credential:
        if not credential_ref.startswith("env://"):
            raise FailedPrecondition(
                "CREDENTIAL_SCHEME_UNSUPPORTED",
                "only env:// credential refs can be resolved by this build",
            )
        value = os.environ.get(credential_ref.removeprefix("env://"))
        if value is None:
            raise NotFound("credential", credential_ref)
        return Credential(value=value)

    async def store(self, tenant_id: str, name: str, secret: str) -> str:
        raise FailedPrecondition(
            "CREDENTIAL_STORE_UNAVAILABLE", "this build has no credential store"
        )

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        raise FailedPrecondition(
            "CREDENTIAL_STORE_UNAVAILABLE", "this build has no credential store"
        )
