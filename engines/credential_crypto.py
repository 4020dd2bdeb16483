"""Sealing of secrets: a keyring of versioned master keys, a key per tenant derived with
HKDF-SHA256, AES-256-GCM with associated data, and the `encrypted://` ref format.

A sealed secret always names the master-key version that sealed it, so old ciphertexts keep
opening after a new key is added, and `rewrap` can find what still uses an old one.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "ENCRYPTED_SCHEME",
    "KEY_BYTES",
    "Keyring",
    "SealBroken",
    "Sealed",
    "encrypted_ref",
    "parse_encrypted_ref",
    "ref_aad",
    "stored_aad",
]

ENCRYPTED_SCHEME = "encrypted://"
KEY_BYTES = 32
_NONCE_BYTES = 12
_HKDF_SALT = b"integrations-service/credentials/v1"
# Version 0 is an envelope keyring's (engines/envelope_keyring); master keys count from 1.
_REF_PATTERN = re.compile(r"^encrypted://v1/(0|[1-9][0-9]{0,8})/([A-Za-z0-9_-]{38,})$")
_MAX_CACHED_KEYS = 4096


class SealBroken(Exception):
    """A ciphertext did not open: tampered, another tenant's, another context, or unknown key.

    Deliberately carries no detail: callers must not learn which of these it was."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """An AES-256-GCM ciphertext (nonce, then ciphertext and tag) and the master-key version."""

    key_version: int
    blob: bytes

    def __repr__(self) -> str:
        return f"Sealed(key_version={self.key_version}, blob=<{len(self.blob)} bytes>)"


# One encoder for every call: building a configured JSONEncoder costs more than encoding.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _canonical(parts: Mapping[str, object]) -> bytes:
    return _CANONICAL.encode(parts).encode()


def ref_aad(tenant_id: str, context: Mapping[str, str]) -> bytes:
    """Associated data of an `encrypted://` ref: its tenant and the caller's context map."""
    return _canonical({"kind": "ref", "tenant": tenant_id, "context": dict(context)})


def stored_aad(tenant_id: str, credential_id: str, version: int) -> bytes:
    """Associated data of a stored secret: tenant, credential and version, so a ciphertext
    cannot be moved to another row and still open."""
    return _canonical(
        {"kind": "stored", "tenant": tenant_id, "credential": credential_id, "version": version}
    )


class Keyring:
    """Versioned 32-byte master keys: the newest seals, every one opens.

    Per-tenant keys are derived with HKDF-SHA256 (info = tenant id) and cached, so the cost of
    derivation is paid once per tenant and key version."""

    def __init__(self, keys: Mapping[int, bytes]) -> None:
        if not keys:
            raise ValueError("the keyring needs at least one master key")
        for version, key in keys.items():
            if version < 1:
                raise ValueError(f"master key version {version} must be >= 1")
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"master key version {version} must be {KEY_BYTES} bytes, got {len(key)}"
                )
        self._keys = dict(keys)
        self.newest_version = max(self._keys)
        self._derived: dict[tuple[int, str], AESGCM] = {}

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._keys))

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(versions={self.versions})"

    def _cipher(self, version: int, tenant_id: str) -> AESGCM:
        cached = self._derived.get((version, tenant_id))
        if cached is not None:
            return cached
        master = self._keys.get(version)
        if master is None:
            raise SealBroken()
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=_HKDF_SALT,
            info=b"tenant:" + tenant_id.encode(),
        ).derive(master)
        if len(self._derived) >= _MAX_CACHED_KEYS:
            self._derived.clear()
        cipher = AESGCM(derived)
        self._derived[(version, tenant_id)] = cipher
        return cipher

    def purpose_keys(self, purpose: str) -> tuple[bytes, ...]:
        """Keys for a use other than sealing (signing page tokens, ...), newest version first:
        HKDF-SHA256 with info `purpose:<purpose>`, which no tenant's info (`tenant:<id>`) is."""
        return tuple(
            HKDF(
                algorithm=hashes.SHA256(),
                length=KEY_BYTES,
                salt=_HKDF_SALT,
                info=b"purpose:" + purpose.encode(),
            ).derive(self._keys[version])
            for version in sorted(self._keys, reverse=True)
        )

    async def seal(self, tenant_id: str, plaintext: bytes, aad: bytes) -> Sealed:
        """Encrypts under the newest key, derived for `tenant_id`."""
        nonce = os.urandom(_NONCE_BYTES)
        version = self.newest_version
        blob = nonce + self._cipher(version, tenant_id).encrypt(nonce, plaintext, aad)
        return Sealed(key_version=version, blob=blob)

    async def open(self, tenant_id: str, sealed: Sealed, aad: bytes) -> bytes:
        """Decrypts, or raises SealBroken whatever the cause."""
        if len(sealed.blob) <= _NONCE_BYTES:
            raise SealBroken()
        cipher = self._cipher(sealed.key_version, tenant_id)
        nonce, ciphertext = sealed.blob[:_NONCE_BYTES], sealed.blob[_NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise SealBroken() from None


def encrypted_ref(sealed: Sealed) -> str:
    """`encrypted://v1/<key_version>/<base64url(nonce | ciphertext | tag)>`."""
    text = base64.urlsafe_b64encode(sealed.blob).decode().rstrip("=")
    return f"{ENCRYPTED_SCHEME}v1/{sealed.key_version}/{text}"


def parse_encrypted_ref(ref: str) -> Sealed:
    """The sealed secret inside an `encrypted://` ref; SealBroken when it is malformed."""
    match = _REF_PATTERN.match(ref)
    if match is None:
        raise SealBroken()
    text = match.group(2)
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SealBroken() from None
    # Refuse non-canonical spellings (changed padding bits), so that one ciphertext has exactly
    # one ref and any changed character is detected.
    if base64.urlsafe_b64encode(blob).decode().rstrip("=") != text:
        raise SealBroken()
    return Sealed(key_version=int(match.group(1)), blob=blob)
