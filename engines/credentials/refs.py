"""Credential refs: the schemes a ref may use (spelled here only), their grammar, and the checks
every engine that takes a ref runs. A value that is not a ref may be a raw key pasted by mistake,
so no message ever repeats it."""

from __future__ import annotations

import re
from typing import Protocol

from engines.kernel.errors import InvalidArgument

__all__ = [
    "ENCRYPTED_SCHEME",
    "ENV_SCHEME",
    "LEGACY_SCHEME",
    "SCHEMES",
    "VAULT_SCHEME",
    "CredentialRefCheck",
    "check_credential_ref",
    "parse_vault_ref",
    "require_live_credential",
    "vault_ref",
]

ENCRYPTED_SCHEME = "encrypted://"
"""A secret sealed into the ref itself (`encrypted://v1/<key_version>/<ciphertext>`)."""
VAULT_SCHEME = "cus-vault://"
"""A credential stored by the credential service (`cus-vault://<tenant_id>/<id>`)."""
ENV_SCHEME = "env://"
"""A variable of the service's environment (`env://NAME`, development only)."""
LEGACY_SCHEME = "vault://"
"""The old stand-in vault's scheme: recognised only to refuse it with a hint."""
SCHEMES = (ENCRYPTED_SCHEME, VAULT_SCHEME, ENV_SCHEME)


def check_credential_ref(field_name: str, value: str) -> str:
    """The stripped ref; INVALID_ARGUMENT (reason CREDENTIAL_REF_INVALID) for anything that is
    not a ref of a known scheme."""
    ref = value.strip()
    if not ref:
        raise InvalidArgument.single(field_name, "is required")
    scheme = next((s for s in SCHEMES if ref.startswith(s)), None)
    if scheme is None or len(ref) == len(scheme) or any(c.isspace() for c in ref):
        raise InvalidArgument.single(
            field_name,
            f"must be a credential reference ({', '.join(SCHEMES)}); raw keys are refused and "
            "were not stored",
            reason="CREDENTIAL_REF_INVALID",
        )
    return ref


def vault_ref(tenant_id: str, credential_id: str) -> str:
    """The ref of a stored credential: `cus-vault://<tenant_id>/<id>`."""
    return f"{VAULT_SCHEME}{tenant_id}/{credential_id}"


def parse_vault_ref(ref: str) -> tuple[str, str] | None:
    """(owner tenant, credential id) of a `cus-vault://` ref spelled exactly as `vault_ref`
    spells it (canonical lower-case UUIDs, nothing added), else None."""
    if not ref.startswith(VAULT_SCHEME):
        return None
    owner, _, credential_id = ref.removeprefix(VAULT_SCHEME).partition("/")
    owner_id, stored_id = _canonical_uuid(owner), _canonical_uuid(credential_id)
    return (owner_id, stored_id) if owner_id and stored_id else None


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _canonical_uuid(text: str) -> str | None:
    """`text` when it is a UUID as `str(uuid.UUID(...))` spells it (on every credential read:
    a match, not a parse)."""
    return text if _CANONICAL_UUID.fullmatch(text) else None


class CredentialRefCheck(Protocol):
    """Confirms that a `cus-vault://` ref names a live credential of the tenant."""

    async def __call__(self, tenant_id: str, credential_ref: str) -> bool: ...


async def require_live_credential(
    check: CredentialRefCheck | None, tenant_id: str, field_name: str, ref: str
) -> None:
    """INVALID_ARGUMENT when a `cus-vault://` ref names no live credential of the tenant
    (checked without revealing it); other schemes cannot be checked before use."""
    if check is None or not ref.startswith(VAULT_SCHEME):
        return
    if not await check(tenant_id, ref):
        raise InvalidArgument.single(
            field_name,
            "names no credential of this tenant; create it with "
            "CredentialService.CreateCredential first",
            reason="CREDENTIAL_REF_INVALID",
        )
