"""Sealing of secrets: a keyring of versioned master keys, a key per tenant derived with
HKDF-SHA256, AES-256-GCM with associated data, and the `encrypted://` ref format.

A sealed secret always names the master-key version that sealed it, so old ciphertexts keep
opening after a new key is added, and `rewrap` can find what still uses an old one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engines.credentials.refs import ENCRYPTED_SCHEME

__all__ = [
    "BOUND_FORMAT",
    "KEY_BYTES",
    "Keyring",
    "SealBroken",
    "Sealed",
    "bound_plaintext",
    "encrypted_ref",
    "keyed_digest",
    "open_bound_plaintext",
    "parse_encrypted_ref",
    "ref_aad",
    "stored_aad",
]

KEY_BYTES = 32
_NONCE_BYTES = 12
_HKDF_SALT = b"integrations-service/credentials/v1"
_REF_PATTERN = re.compile(
    re.escape(ENCRYPTED_SCHEME) + r"(v[12])/(0|[1-9][0-9]{0,8})/([A-Za-z0-9_-]{38,})"
)  # fullmatch only; key version 0 is an envelope keyring's (engines/credentials/envelope_keyring)
# v1 seals the secret alone; v2 seals {"destinations": [...], "secret": ...} (`seal_bound`).
BOUND_FORMAT = "v2"
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


def ref_aad(tenant_id: str, context: Mapping[str, str], ref_format: str = "v1") -> bytes:
    """Associated data of an `encrypted://` ref: its tenant, the caller's context map and (for
    v2) its format, so a ref cannot be relabelled to the other format and still open."""
    kind = "ref" if ref_format == "v1" else f"ref-{ref_format}"
    return _canonical({"kind": kind, "tenant": tenant_id, "context": dict(context)})


def bound_plaintext(secret: bytes, destinations: Sequence[str]) -> bytes:
    """The v2 payload: the secret together with the destinations it may be sent to."""
    return _canonical({"destinations": list(destinations), "secret": secret.decode()})


def open_bound_plaintext(payload: bytes) -> tuple[bytes, tuple[str, ...]]:
    """(secret, destinations) of a v2 payload; SealBroken when it is not one."""
    try:
        document = json.loads(payload)
        secret, destinations = document["secret"], document["destinations"]
    except (ValueError, KeyError, TypeError):
        raise SealBroken() from None
    if not isinstance(secret, str) or not all(isinstance(d, str) for d in destinations):
        raise SealBroken()
    return secret.encode(), tuple(destinations)


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

    async def fingerprint(self, tenant_id: str, data: bytes) -> str:
        """A keyed digest of `data` for the tenant under the oldest master key (it changes only
        when that key is retired): see `keyed_digest`."""
        return keyed_digest(self._keys[self.versions[0]], tenant_id, data)

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


def keyed_digest(root_key: bytes, tenant_id: str, data: bytes) -> str:
    """HMAC-SHA256 of `data` under a key derived from `root_key` for the tenant (HKDF info
    `fingerprint:<tenant>`). Lets a stored digest tell secrets apart without giving a reader of
    the database anything to test guesses against."""
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=_HKDF_SALT,
        info=b"fingerprint:" + tenant_id.encode(),
    ).derive(root_key)
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def encrypted_ref(sealed: Sealed, ref_format: str = "v1") -> str:
    """`encrypted://<format>/<key_version>/<base64url(nonce | ciphertext | tag)>`."""
    text = base64.urlsafe_b64encode(sealed.blob).decode().rstrip("=")
    return f"{ENCRYPTED_SCHEME}{ref_format}/{sealed.key_version}/{text}"


def parse_encrypted_ref(ref: str) -> tuple[Sealed, str]:
    """The sealed secret inside an `encrypted://` ref and the ref's format ("v1" or "v2");
    SealBroken when the ref is not exactly of that grammar (no added character, not even a
    trailing newline)."""
    match = _REF_PATTERN.fullmatch(ref)
    if match is None:
        raise SealBroken()
    text = match.group(3)
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SealBroken() from None
    # Refuse non-canonical spellings (changed padding bits), so that one ciphertext has exactly
    # one ref and any changed character is detected.
    if base64.urlsafe_b64encode(blob).decode().rstrip("=") != text:
        raise SealBroken()
    return Sealed(key_version=int(match.group(2)), blob=blob), match.group(1)
