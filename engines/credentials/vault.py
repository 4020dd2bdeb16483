"""The rules of the credential service: sealing refs, storing, rotating, revoking and revealing
secrets, and writing every reveal attempt to the access log.

Failures that an attacker could learn from (a tampered ref, another tenant's ref, a wrong
context, an unknown id) all end in the same NotFound; the access log keeps the detail for the
owner.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from engines.credentials.credential_service import DESTINATION_DENIED
from engines.credentials.crypto import (
    BOUND_FORMAT,
    SealBroken,
    Sealed,
    bound_plaintext,
    encrypted_ref,
    open_bound_plaintext,
    parse_encrypted_ref,
    ref_aad,
    stored_aad,
)
from engines.credentials.env_credentials import DEFAULT_ENV_NAMES, EnvNamePolicy
from engines.credentials.expiry import (
    NO_FILTERS,
    CredentialFilters,
    ExpirySummary,
    check_horizon,
    check_rotation_interval,
    filters_for,
)
from engines.credentials.keyrings import SealingKeyring
from engines.credentials.refs import (
    ENCRYPTED_SCHEME,
    ENV_SCHEME,
    LEGACY_SCHEME,
    VAULT_SCHEME,
    parse_vault_ref,
    vault_ref,
)
from engines.egress.destinations import (
    Destination,
    allows,
    connection_string_destinations,
    parse_destination,
    provider_destinations,
    require_destinations,
)
from engines.kernel.clock import Clock, system_clock
from engines.kernel.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from engines.kernel.idempotency import IdempotencyKey, Replay, earlier_create, idempotency_key
from engines.kernel.lookup import find_owned
from engines.kernel.optimistic import version_etag
from engines.kernel.pagination import Page, PageRequest, PageTokens, read_page
from engines.kernel.validation import require_name, require_uuid

__all__ = [
    "Actor",
    "AccessEvent",
    "AccessKind",
    "AccessLog",
    "AccessOutcome",
    "CredentialStore",
    "CredentialVault",
    "EnvLookup",
    "Revealed",
    "EXTERNAL_KEY_VERSION",
    "RewrapResult",
    "SealedSecret",
    "SecretPayloadStore",
    "StoredCredential",
    "UseTarget",
]

RESOURCE = "credential"
MAX_SECRET_BYTES = 64 * 1024
MAX_REF_CHARS = 128 * 1024
MAX_REASON_CHARS = 512
_MAX_METADATA = 64
_SUPPORTED = f"{ENCRYPTED_SCHEME}, {VAULT_SCHEME} (and {ENV_SCHEME} in development)"
_SCHEMES = (ENCRYPTED_SCHEME, VAULT_SCHEME, ENV_SCHEME, LEGACY_SCHEME)
_NOT_THIS_TENANT = "names a credential of another tenant or none"
_DESTINATIONS_HINT = (
    "a caller with credentials.write can add it with UpdateCredentialDestinations "
    "(encrypted:// refs: seal the secret again with allowed_destinations)"
)

EnvLookup = Callable[[str], "str | None"]

# The key_version of a secret version whose value is kept by a `SecretPayloadStore` (OpenBao KV)
# rather than sealed in the database; its `sealed` blob is only `external_marker(kv_version)`.
EXTERNAL_KEY_VERSION = -1
_EXTERNAL_PREFIX = b"external-kv:v"


class AccessOutcome(enum.StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    FAILED = "failed"


class AccessKind(enum.StrEnum):
    """A reveal returns the secret to a caller; a use attaches it to the service's own
    outbound request; the others are the credential's lifecycle, logged with the change."""

    REVEAL = "reveal"
    USE = "use"
    CREATE = "create"
    ROTATE = "rotate"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class UseTarget:
    """Where the service is about to send a secret: `destination` (host:port), or, with
    `in_secret`, the host:port inside the secret itself (a connection string)."""

    destination: str = ""
    in_secret: bool = False


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A stored credential's metadata; the secret lives in `SealedSecret` rows only."""

    id: str
    tenant_id: str
    name: str
    version: int
    key_version: int
    expire_time: datetime | None
    metadata: Mapping[str, str]
    created_by: str
    create_time: datetime
    update_time: datetime
    allowed_destinations: tuple[str, ...] = ()
    rotation_interval: timedelta | None = None  # None: no rotation schedule
    rotation_due_time: datetime | None = None  # last rotation (or creation) + the interval

    @property
    def ref(self) -> str:
        return vault_ref(self.tenant_id, self.id)

    @property
    def etag(self) -> str:
        return version_etag(self.id, self.version)


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """One version of a stored credential's secret, sealed under a master-key version."""

    tenant_id: str
    credential_id: str
    version: int
    sealed: Sealed
    create_time: datetime

    @property
    def aad(self) -> bytes:
        return stored_aad(self.tenant_id, self.credential_id, self.version)


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One reveal or use attempt, or one lifecycle change, as written to the owning tenant's
    access log."""

    id: str
    tenant_id: str
    credential_ref: str
    credential_id: str
    caller: str
    outcome: AccessOutcome
    access_reason: str
    detail: str
    requester_tenant_id: str
    create_time: datetime
    kind: AccessKind = AccessKind.REVEAL
    destination: str = ""
    rpc: str = ""

    @property
    def allowed(self) -> bool:
        return self.outcome is AccessOutcome.ALLOWED


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes a credential and why, for the access-log row written with the change."""

    caller: str
    access_reason: str = ""
    rpc: str = ""


@dataclass(frozen=True, slots=True)
class Revealed:
    """A revealed secret; never logged (its repr hides the value)."""

    value: str
    expire_time: datetime | None
    version: int

    def __repr__(self) -> str:
        return f"Revealed(value='***', expire_time={self.expire_time!r}, version={self.version})"


@dataclass(frozen=True, slots=True)
class RewrapResult:
    """What `rewrap` did: secrets moved to the newest key, and those it could not open."""

    rewrapped: int
    failed: int
    key_version: int


@dataclass(slots=True)
class _Attempt:
    """The access-log facts of one reveal, filled in as the ref is resolved."""

    tenant_id: str
    credential_ref: str
    caller: str
    access_reason: str
    requester_tenant_id: str
    credential_id: str = ""
    kind: AccessKind = AccessKind.REVEAL
    destination: str = ""
    rpc: str = ""


class CredentialStore(Protocol):
    """Persistence of stored credentials and their sealed secret versions."""

    async def insert(
        self,
        credential: StoredCredential,
        secret: SealedSecret,
        key: IdempotencyKey | None,
        audit: AccessEvent,
    ) -> StoredCredential:
        """Stores a new credential, its first secret and `audit` in one transaction; when a
        create with the same request_id won a race, answers what `key.replay` says of it (and
        writes no audit row). Raises AlreadyExists on a live name clash."""

    async def find_by_request_id(
        self, tenant_id: str, request_id: str
    ) -> Replay[StoredCredential] | None:
        """What the tenant's create with `request_id` made (revoked or not), and its digest."""

    async def get(self, tenant_id: str, credential_id: str) -> StoredCredential | None:
        """A live (not revoked) credential of the tenant."""

    async def current_secret(
        self, tenant_id: str, credential_id: str
    ) -> tuple[StoredCredential, SealedSecret] | None:
        """A live credential and its newest secret version."""

    async def list(
        self, tenant_id: str, page: PageRequest, filters: CredentialFilters = NO_FILTERS
    ) -> tuple[Sequence[StoredCredential], int]:
        """One page of the tenant's live credentials that pass `filters`, and their count."""

    async def expiry_summary(
        self, tenant_id: str, now: datetime, horizon: timedelta
    ) -> ExpirySummary:
        """Counts of expired, expiring and rotation-due live credentials, in one query."""

    async def set_destinations(
        self,
        tenant_id: str,
        credential_id: str,
        destinations: Sequence[str],
        when: datetime,
        audit: AccessEvent,
    ) -> StoredCredential | None:
        """Replaces a live credential's allowed destinations and writes `audit` in the same
        transaction; None when there is no such credential (nothing written)."""

    async def add_version(
        self,
        credential: StoredCredential,
        secret: SealedSecret,
        expected_version: int,
        audit: AccessEvent,
    ) -> bool:
        """Stores `secret`, the updated metadata and `audit` if the version is still
        `expected_version` (else writes nothing)."""

    async def revoke(
        self, tenant_id: str, credential_id: str, when: datetime, audit: AccessEvent
    ) -> bool:
        """Marks the credential deleted, destroys its sealed secrets and writes `audit`, in one
        transaction."""

    async def secrets_to_rewrap(
        self, newest_key_version: int, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SealedSecret]:
        """Secrets sealed under an older key, ordered by (credential_id, version), after `after`."""

    async def key_version_counts(self) -> Mapping[int, int]:
        """How many stored secret versions (of every tenant) each key version seals."""

    async def replace_seal(self, secret: SealedSecret, sealed: Sealed) -> bool:
        """Swaps the ciphertext of one secret version if it is still sealed as `secret` says."""


class SecretPayloadStore(Protocol):
    """Where the values of stored credentials live when not sealed in the service's database
    (`--secret-store openbao`): one versioned entry per credential. Metadata, versions and the
    access log stay in the `CredentialStore`. Failures of the store raise Unavailable."""

    async def current_version(self, tenant_id: str, credential_id: str) -> int:
        """The newest version the store holds for the credential; 0 when none."""

    async def write(self, tenant_id: str, credential_id: str, value: str, *, cas: int) -> int:
        """Writes a new version only if the newest is still `cas` (0: none yet), and returns
        its version; raises Aborted when another write came first (check-and-set)."""

    async def read(self, tenant_id: str, credential_id: str, version: int) -> str | None:
        """The value of one version; None when it does not exist or was destroyed."""

    async def destroy(self, tenant_id: str, credential_id: str) -> None:
        """Destroys every version of the credential (nothing left to reveal)."""


def external_marker(version: int) -> bytes:
    """What the database keeps of a secret version held by a `SecretPayloadStore`."""
    return _EXTERNAL_PREFIX + str(version).encode()


def _external_version(blob: bytes) -> int | None:
    digits = blob.removeprefix(_EXTERNAL_PREFIX)
    return int(digits) if blob.startswith(_EXTERNAL_PREFIX) and digits.isdigit() else None


class AccessLog(Protocol):
    """Append-only record of reveal attempts."""

    async def record(self, event: AccessEvent) -> None: ...

    async def list(
        self, tenant_id: str, credential_id: str | None, page: PageRequest
    ) -> tuple[Sequence[AccessEvent], int]: ...


def _shown_ref(ref: str) -> str:
    """What the access log keeps of a ref: never a ciphertext, never something unrecognised
    (which may be a raw key pasted by mistake)."""
    if ref.startswith(ENCRYPTED_SCHEME):
        digest = hashlib.sha256(ref.encode()).hexdigest()[:16]
        version = ref.removeprefix(ENCRYPTED_SCHEME).split("/")[:2]
        prefix = "/".join(version) if len(version) == 2 and len(version[1]) <= 9 else "?"
        return f"{ENCRYPTED_SCHEME}{prefix}/sha256:{digest}"
    if ref.startswith((VAULT_SCHEME, ENV_SCHEME, LEGACY_SCHEME)) and len(ref) <= 512:
        return ref
    return "(not a credential ref)"


def _attempt(tenant_id: str, ref: str, caller: str, access_reason: str) -> _Attempt:
    parsed = parse_vault_ref(ref) if ref.startswith(VAULT_SCHEME) else None
    return _Attempt(
        tenant_id=tenant_id,
        credential_ref=_shown_ref(ref),
        caller=caller,
        access_reason=access_reason,
        requester_tenant_id=tenant_id,
        credential_id=parsed[1] if parsed else "",
    )


def _requested(destination: str) -> list[Destination]:
    """The host:port (or comma-separated host:ports) a use names; INVALID_ARGUMENT otherwise."""
    parsed = [parse_destination(d, wildcard=False) for d in destination.split(",")]
    if not parsed or any(d is None or d.port is None for d in parsed):
        raise InvalidArgument.single("destination", "must be host:port (comma-separated)")
    return [d for d in parsed if d is not None]


def _destination_denied(
    why: str, targets: Sequence[Destination] = ()
) -> FailedPrecondition:
    return FailedPrecondition(
        DESTINATION_DENIED,
        f"the credential may not be sent there: {why}",
        metadata={"destination": ",".join(str(t) for t in targets)[:512]} if targets else None,
    )


def _check_secret(field_name: str, secret: str) -> bytes:
    data = secret.encode()
    if not data:
        raise InvalidArgument.single(field_name, "is required")
    if len(data) > MAX_SECRET_BYTES:
        raise InvalidArgument.single(field_name, f"must be at most {MAX_SECRET_BYTES} bytes")
    return data


def _check_reason(actor: Actor) -> None:
    if len(actor.access_reason) > MAX_REASON_CHARS:
        raise InvalidArgument.single(
            "access_reason", f"must be at most {MAX_REASON_CHARS} characters"
        )


def _check_expiry(expire_time: datetime | None, now: datetime) -> None:
    if expire_time is not None and expire_time <= now:
        raise InvalidArgument.single("expire_time", "must be in the future")


def _violations_of(*checks: Callable[[], object]) -> list[FieldViolation]:
    """Runs every check and collects what they find, so one reply names every bad field."""
    violations: list[FieldViolation] = []
    for check in checks:
        try:
            check()
        except InvalidArgument as exc:
            violations.extend(exc.violations)
    return violations


def _check_metadata(field_name: str, metadata: Mapping[str, str]) -> list[FieldViolation]:
    violations = []
    if len(metadata) > _MAX_METADATA:
        violations.append(FieldViolation(field_name, f"at most {_MAX_METADATA} entries"))
    for key, value in metadata.items():
        if not key or len(key) > 63:
            violations.append(FieldViolation(f"{field_name}.{key}", "key must be 1-63 characters"))
        elif len(value) > 256:
            violations.append(FieldViolation(f"{field_name}.{key}", "at most 256 characters"))
    return violations


def _shown_key_version(secret: SealedSecret) -> int:
    """The key version a credential reports: 0 for a value kept by the payload store."""
    return max(secret.sealed.key_version, 0)


class CredentialVault:
    """Everything CredentialService does, independent of gRPC and of the database."""

    def __init__(
        self,
        keyring: SealingKeyring,
        store: CredentialStore,
        access_log: AccessLog,
        *,
        clock: Clock = system_clock,
        page_tokens: PageTokens | None = None,
        env_lookup: EnvLookup | None = None,
        env_names: EnvNamePolicy = DEFAULT_ENV_NAMES,
        min_key_version: int = 0,
        payloads: SecretPayloadStore | None = None,
    ) -> None:
        """`env_lookup` enables env:// refs (development only) for the names `env_names`
        allows; None refuses them. Secrets and refs sealed under a key version below
        `min_key_version` are retired: refused until rewrapped. With `payloads`, the values
        of new stored credentials (and rotations) are kept there instead of sealed in the
        store; secrets sealed before stay readable."""
        if min_key_version > keyring.newest_version:
            raise ValueError(
                f"the minimum key version {min_key_version} is above the newest key version "
                f"{keyring.newest_version}: nothing could be opened or sealed"
            )
        self._min_key_version = min_key_version
        self._env_names = env_names
        self._keyring = keyring
        self._store = store
        self._log = access_log
        self._clock = clock
        self._page_tokens = page_tokens  # None: a key of this process only
        self._env_lookup = env_lookup
        self._payloads = payloads

    @property
    def keyring(self) -> SealingKeyring:
        return self._keyring

    # -- stateless refs ---------------------------------------------------------------------

    async def encrypt(
        self,
        tenant_id: str,
        plaintext: str,
        context: Mapping[str, str],
        allowed_destinations: Sequence[str] = (),
    ) -> tuple[str, int]:
        """Seals `plaintext` for the tenant and context: the `encrypted://` ref and key version.
        With `allowed_destinations` they are sealed with it (a v2 ref)."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        data = _check_secret("plaintext", plaintext)
        destinations = require_destinations("allowed_destinations", allowed_destinations)
        if not destinations:
            sealed = await self._keyring.seal(tenant_id, data, ref_aad(tenant_id, context))
            return encrypted_ref(sealed), sealed.key_version
        payload = bound_plaintext(data, destinations)
        aad = ref_aad(tenant_id, context, BOUND_FORMAT)
        sealed = await self._keyring.seal(tenant_id, payload, aad)
        return encrypted_ref(sealed, BOUND_FORMAT), sealed.key_version

    # -- stored credentials -----------------------------------------------------------------

    async def create(
        self,
        tenant_id: str,
        name: str,
        secret: str,
        *,
        expire_time: datetime | None = None,
        metadata: Mapping[str, str] | None = None,
        request_id: str = "",
        actor: Actor,
        allowed_destinations: Sequence[str] = (),
        provider: str = "",
        rotation_interval: timedelta | None = None,
    ) -> StoredCredential:
        """Stores a secret; its destinations are `allowed_destinations`, else the official API
        hosts of `provider`, else none (the service will not send it anywhere). With
        `rotation_interval` it is due for rotation that long after each rotation."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        _check_reason(actor)
        metadata = dict(metadata or {})
        request = {
            "name": name,
            "secret": await self._keyring.fingerprint(tenant_id, secret.encode()),
            "expire_time": expire_time,
            "metadata": metadata,
            "allowed_destinations": list(allowed_destinations),
            "provider": provider,
            "rotation_interval": rotation_interval,
        }
        key = idempotency_key(request_id, request)
        earlier = await earlier_create(
            self._store.find_by_request_id, tenant_id, key, resource=RESOURCE
        )
        if earlier is not None:
            return earlier
        now = self._clock()
        destinations: tuple[str, ...] = ()

        def check_destinations() -> None:
            nonlocal destinations
            destinations = require_destinations("allowed_destinations", allowed_destinations)
            if not destinations and provider:
                destinations = provider_destinations("provider", provider)

        violations = _check_metadata("metadata", metadata) + _violations_of(
            lambda: require_name("name", name),
            lambda: _check_secret("secret", secret),
            lambda: _check_expiry(expire_time, now),
            lambda: check_rotation_interval("rotation_interval", rotation_interval),
            check_destinations,
        )
        if violations:
            raise InvalidArgument(violations)
        credential_id = str(uuid.uuid4())
        secret_row = await self._new_secret(tenant_id, credential_id, 1, secret, now)
        credential = StoredCredential(
            id=credential_id,
            tenant_id=tenant_id,
            name=name.strip(),
            version=1,
            key_version=_shown_key_version(secret_row),
            expire_time=expire_time,
            metadata=metadata,
            created_by=actor.caller,
            create_time=now,
            update_time=now,
            allowed_destinations=destinations,
            rotation_interval=rotation_interval,
            rotation_due_time=now + rotation_interval if rotation_interval else None,
        )
        audit = self._lifecycle(credential, AccessKind.CREATE, actor, "version 1")
        try:
            stored = await self._store.insert(credential, secret_row, key, audit)
        except BaseException:
            await self._discard(tenant_id, credential_id)
            raise
        if stored.id != credential_id:  # a create with the same request_id won a race
            await self._discard(tenant_id, credential_id)
        return stored

    async def update_destinations(
        self,
        tenant_id: str,
        credential_id: str,
        allowed_destinations: Sequence[str],
        *,
        actor: Actor,
    ) -> StoredCredential:
        """Replaces where the service may send a stored credential's secret."""
        _check_reason(actor)
        destinations = require_destinations("allowed_destinations", allowed_destinations)
        current = await self.get(tenant_id, credential_id)
        audit = self._lifecycle(
            current, AccessKind.UPDATE, actor, "destinations: " + (", ".join(destinations) or "none")
        )
        updated = await self._store.set_destinations(
            current.tenant_id, current.id, destinations, self._clock(), audit
        )
        if updated is None:
            raise NotFound(RESOURCE, credential_id)
        return updated

    async def get(self, tenant_id: str, credential_id: str) -> StoredCredential:
        """Metadata of a live credential of the tenant."""
        return await find_owned(
            self._store.get, tenant_id, credential_id, resource=RESOURCE, id_field="credential_id"
        )

    async def lookup(self, tenant_id: str, credential_ref: str) -> StoredCredential:
        """Metadata of the credential a `cus-vault://` ref (or a bare id) names."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        if not credential_ref.startswith(VAULT_SCHEME):
            return await self.get(tenant_id, require_uuid("credential_ref", credential_ref))
        parsed = parse_vault_ref(credential_ref)
        if parsed is None:
            raise InvalidArgument.single(
                "credential_ref", "must be cus-vault://<tenant_id>/<id> or a credential id"
            )
        owner, credential_id = parsed
        if owner != tenant_id:  # the same answer as an unknown id of the tenant
            raise NotFound(RESOURCE, credential_id)
        return await self.get(tenant_id, credential_id)

    async def exists(self, tenant_id: str, credential_ref: str) -> bool:
        """Whether a `cus-vault://` ref names a live credential of the tenant."""
        try:
            await self.lookup(tenant_id, credential_ref)
        except (NotFound, InvalidArgument):
            return False
        return True

    async def list(
        self,
        tenant_id: str,
        page_size: int,
        page_token: str,
        *,
        expires_within: timedelta | None = None,
        rotation_due: bool = False,
    ) -> Page[StoredCredential]:
        """The tenant's live credentials; with `expires_within`, only those expired or expiring
        within it; with `rotation_due`, only those whose rotation is due."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        filters = filters_for(self._clock(), expires_within=expires_within, rotation_due=rotation_due)
        return await read_page(
            page_size,
            page_token,
            {
                "tenant": tenant_id,
                "list": "credentials",
                "expires_within": expires_within.total_seconds() if expires_within else None,
                "rotation_due": rotation_due,
            },
            lambda page: self._store.list(tenant_id, page, filters),
            tokens=self._page_tokens,
        )

    async def expiring(self, tenant_id: str, within: timedelta | None = None) -> ExpirySummary:
        """What a scheduler polls: how many of the tenant's credentials are expired, expire
        within `within` (7 days when unset), or are due for rotation, and when the next is."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        horizon = check_horizon("within", within)
        return await self._store.expiry_summary(tenant_id, self._clock(), horizon)

    async def rotate(
        self,
        tenant_id: str,
        credential_id: str,
        secret: str,
        *,
        expire_time: datetime | None = None,
        etag: str = "",
        actor: Actor,
        rotation_interval: timedelta | None = None,
    ) -> StoredCredential:
        """Adds a secret version; a non-empty stale `etag` or a concurrent rotation is ABORTED.
        The rotation schedule restarts now (`rotation_interval` replaces it when given)."""
        _check_reason(actor)
        now = self._clock()
        violations = _violations_of(
            lambda: _check_secret("secret", secret),
            lambda: _check_expiry(expire_time, now),
            lambda: check_rotation_interval("rotation_interval", rotation_interval),
        )
        if violations:
            raise InvalidArgument(violations)
        current = await self.get(tenant_id, credential_id)
        if etag and etag != current.etag:
            raise Aborted(f"etag {etag!r} is stale: the credential was rotated since it was read")
        version = current.version + 1
        secret_row = await self._new_secret(current.tenant_id, current.id, version, secret, now)
        rotated = replace(
            current,
            version=version,
            key_version=_shown_key_version(secret_row),
            expire_time=expire_time if expire_time is not None else current.expire_time,
            update_time=now,
            rotation_interval=rotation_interval or current.rotation_interval,
        )
        if rotated.rotation_interval is not None:
            rotated = replace(rotated, rotation_due_time=now + rotated.rotation_interval)
        audit = self._lifecycle(rotated, AccessKind.ROTATE, actor, f"version {version}")
        if not await self._store.add_version(rotated, secret_row, current.version, audit):
            raise Aborted("the credential was rotated concurrently; read it again and retry")
        return rotated

    async def delete(self, tenant_id: str, credential_id: str, *, actor: Actor) -> StoredCredential:
        """Revokes: the sealed secrets are destroyed and later reveals are NOT_FOUND."""
        _check_reason(actor)
        credential = await self.get(tenant_id, credential_id)
        audit = self._lifecycle(
            credential, AccessKind.DELETE, actor, f"versions 1-{credential.version} destroyed"
        )
        if self._payloads is not None:
            # First, so that an outage of the payload store changes nothing (UNAVAILABLE, retry);
            # a revoke whose database write then fails is retried and finds nothing to destroy.
            await self._payloads.destroy(credential.tenant_id, credential.id)
        if not await self._store.revoke(credential.tenant_id, credential.id, self._clock(), audit):
            raise NotFound(RESOURCE, credential_id)
        return credential

    async def rewrap(self, batch_size: int = 100) -> RewrapResult:
        """Re-seals every stored secret under the newest master key; plaintext never leaves
        this method."""
        result = RewrapResult(rewrapped=0, failed=0, key_version=self._keyring.newest_version)
        async for progress in self.rewrap_progress(batch_size):
            result = progress
        return result

    async def rewrap_progress(self, batch_size: int = 100) -> AsyncIterator[RewrapResult]:
        """`rewrap`, reporting the running totals after each batch of `batch_size` secrets, and
        once with zeros when there is nothing to move (retired key versions are opened here,
        and only here, to move them)."""
        if not 1 <= batch_size <= 1000:
            raise InvalidArgument.single("batch_size", "must be between 1 and 1000")
        newest = self._keyring.newest_version
        rewrapped = failed = 0
        after: tuple[str, int] | None = None
        while True:
            batch = await self._store.secrets_to_rewrap(newest, after, batch_size)
            if not batch:
                if after is None:
                    yield RewrapResult(rewrapped=0, failed=0, key_version=newest)
                return
            for row in batch:
                after = (row.credential_id, row.version)
                try:
                    plaintext = await self._keyring.open(row.tenant_id, row.sealed, row.aad)
                except SealBroken:
                    failed += 1
                    continue
                resealed = await self._keyring.seal(row.tenant_id, plaintext, row.aad)
                del plaintext
                if await self._store.replace_seal(row, resealed):
                    rewrapped += 1
            yield RewrapResult(rewrapped=rewrapped, failed=failed, key_version=newest)

    async def key_status(self) -> Mapping[int, int]:
        """Stored secret versions per key version (never a secret), for retiring old keys."""
        return await self._store.key_version_counts()

    async def rewrap_ref(
        self, tenant_id: str, credential_ref: str, context: Mapping[str, str]
    ) -> tuple[str, int]:
        """The same secret, tenant, context and destinations sealed under the newest key: a new
        `encrypted://` ref for one a caller holds (a retired one included). The plaintext never
        leaves this method; a ref that does not open is the NOT_FOUND a reveal would give."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        if not credential_ref.startswith(ENCRYPTED_SCHEME) or len(credential_ref) > MAX_REF_CHARS:
            raise InvalidArgument.single("credential_ref", f"must be an {ENCRYPTED_SCHEME} ref")
        try:
            sealed, ref_format = parse_encrypted_ref(credential_ref)
            aad = ref_aad(tenant_id, context, ref_format)
            plaintext = await self._keyring.open(tenant_id, sealed, aad)
        except SealBroken:
            raise NotFound(RESOURCE, f"{ENCRYPTED_SCHEME}…") from None
        resealed = await self._keyring.seal(tenant_id, plaintext, aad)
        del plaintext
        return encrypted_ref(resealed, ref_format), resealed.key_version

    # -- reveal and its access log ----------------------------------------------------------

    async def reveal(
        self,
        tenant_id: str,
        credential_ref: str,
        *,
        context: Mapping[str, str] | None = None,
        access_reason: str = "",
        caller: str,
    ) -> Revealed:
        """Resolves a ref for the tenant; every attempt is written to the access log first."""
        attempt = self._begin(tenant_id, credential_ref, caller, access_reason)
        revealed, _ = await self._resolve(attempt, credential_ref, context or {})
        await self._record(attempt, AccessOutcome.ALLOWED, "")
        return revealed

    async def use(
        self,
        tenant_id: str,
        credential_ref: str,
        target: UseTarget,
        *,
        rpc: str,
        context: Mapping[str, str] | None = None,
        access_reason: str = "",
        caller: str,
    ) -> Revealed:
        """The secret for one outbound request of the service, only when `target` is within the
        credential's allowed destinations; every attempt is logged with kind USE."""
        attempt = self._begin(tenant_id, credential_ref, caller, access_reason)
        attempt.kind, attempt.rpc = AccessKind.USE, rpc[:256]
        requested = None if target.in_secret else _requested(target.destination)
        attempt.destination = (
            ",".join(map(str, requested)) if requested else "(in the connection string)"
        )
        revealed, allowed = await self._resolve(attempt, credential_ref, context or {})
        targets = requested or connection_string_destinations(revealed.value)
        if targets is None:
            # Nothing is sent: the destination cannot even be read (not such a URL, or a host or
            # port that no connection could use, such as port 99999).
            await self._record(attempt, AccessOutcome.DENIED, "not a usable postgresql:// URL")
            raise InvalidArgument.single(
                "credential_ref",
                "the secret is not a usable postgresql:// connection string (its scheme, a host or"
                " a port is malformed); store a corrected one",
                reason="CONNECTION_STRING_INVALID",
            )
        attempt.destination = ",".join(str(t) for t in targets)[:512]
        if allowed is not None and not allows(allowed, targets):
            detail = (
                f"{attempt.destination} is not among the allowed destinations"
                if allowed else "the credential has no allowed destinations"
            )
            await self._record(attempt, AccessOutcome.DENIED, detail)
            raise _destination_denied(f"{detail}; {_DESTINATIONS_HINT}", targets)
        await self._record(attempt, AccessOutcome.ALLOWED, "")
        return revealed

    def _begin(self, tenant_id: str, ref: str, caller: str, access_reason: str) -> _Attempt:
        tenant_id = require_uuid("tenant_id", tenant_id)
        if len(access_reason) > MAX_REASON_CHARS:
            raise InvalidArgument.single(
                "access_reason", f"must be at most {MAX_REASON_CHARS} characters"
            )
        return _attempt(tenant_id, ref, caller, access_reason)

    async def _resolve(
        self, attempt: _Attempt, ref: str, context: Mapping[str, str]
    ) -> tuple[Revealed, tuple[str, ...] | None]:
        """The secret and its allowed destinations (None: unrestricted, env:// only); every
        failure is logged here, success is logged by the caller."""
        if not ref.strip() or len(ref) > MAX_REF_CHARS:
            await self._record(attempt, AccessOutcome.FAILED, "not a credential ref")
            raise InvalidArgument.single("credential_ref", f"must be a ref: {_SUPPORTED}")
        if ref.strip() != ref and ref.strip().startswith(_SCHEMES):
            # Strict grammar: a ref with a character added (a trailing newline) names nothing.
            await self._record(attempt, AccessOutcome.FAILED, "not a well-formed ref")
            raise NotFound(RESOURCE, "…")
        if ref.startswith(ENCRYPTED_SCHEME):
            return await self._reveal_encrypted(attempt, ref, context)
        if ref.startswith(VAULT_SCHEME):
            return await self._reveal_stored(attempt, ref)
        if ref.startswith(ENV_SCHEME):
            return await self._reveal_env(attempt, ref), None
        if ref.startswith(LEGACY_SCHEME):
            await self._record(attempt, AccessOutcome.DENIED, f"legacy {LEGACY_SCHEME} ref")
            raise FailedPrecondition(
                "CREDENTIAL_SCHEME_UNSUPPORTED",
                f"{LEGACY_SCHEME} refs are no longer supported; supported schemes: {_SUPPORTED}. "
                "Store the secret again with CreateCredential or EncryptCredential",
            )
        await self._record(attempt, AccessOutcome.FAILED, "not a credential ref")
        raise InvalidArgument.single(
            "credential_ref", f"must be a ref ({_SUPPORTED}); the value was not stored"
        )

    async def record_refused(
        self,
        tenant_id: str,
        credential_ref: str,
        *,
        credential_id: str = "",
        caller: str,
        access_reason: str,
        detail: str,
        kind: AccessKind = AccessKind.REVEAL,
    ) -> None:
        """Logs a reveal, use or change refused before it reached the vault (for example a
        missing scope); a change names its credential by `credential_id`."""
        try:
            tenant_id = require_uuid("tenant_id", tenant_id)
            if credential_id:
                credential_id = require_uuid("credential_id", credential_id)
                credential_ref = credential_ref or vault_ref(tenant_id, credential_id)
        except InvalidArgument:
            return
        attempt = _attempt(tenant_id, credential_ref, caller, access_reason[:MAX_REASON_CHARS])
        attempt.kind = kind
        attempt.credential_id = credential_id or attempt.credential_id
        await self._record(attempt, AccessOutcome.DENIED, detail)

    async def access_events(
        self, tenant_id: str, credential_id: str, page_size: int, page_token: str
    ) -> Page[AccessEvent]:
        """The tenant's access log, optionally for one stored credential, oldest first."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        wanted = require_uuid("credential_id", credential_id) if credential_id else None
        return await read_page(
            page_size,
            page_token,
            {"tenant": tenant_id, "credential": wanted, "list": "access"},
            lambda page: self._log.list(tenant_id, wanted, page),
            tokens=self._page_tokens,
        )

    async def _reveal_encrypted(
        self, attempt: _Attempt, ref: str, context: Mapping[str, str]
    ) -> tuple[Revealed, tuple[str, ...]]:
        tenant_id = attempt.tenant_id
        try:
            sealed, ref_format = parse_encrypted_ref(ref)
            aad = ref_aad(tenant_id, context, ref_format)
            plaintext = await self._open(attempt, tenant_id, sealed, aad)
            destinations: tuple[str, ...] = ()
            if ref_format == BOUND_FORMAT:
                plaintext, destinations = open_bound_plaintext(plaintext)
        except SealBroken:
            await self._record(
                attempt, AccessOutcome.FAILED, "did not decrypt: tampered, another tenant's, "
                "another context or an unknown key version"
            )
            raise NotFound(RESOURCE, f"{ENCRYPTED_SCHEME}…") from None
        return Revealed(value=plaintext.decode(), expire_time=None, version=0), destinations

    async def _reveal_stored(
        self, attempt: _Attempt, ref: str
    ) -> tuple[Revealed, tuple[str, ...]]:
        parsed = parse_vault_ref(ref)
        if parsed is None:
            await self._record(attempt, AccessOutcome.FAILED, f"malformed {VAULT_SCHEME} ref")
            raise NotFound(RESOURCE, f"{VAULT_SCHEME}…")
        owner, credential_id = parsed
        if owner != attempt.tenant_id:
            # The caller's log reads the same whether the id exists or not; the owner's log
            # shows who tried.
            await self._record(attempt, AccessOutcome.FAILED, _NOT_THIS_TENANT)
            if await self._store.get(owner, credential_id) is not None:
                await self._record(
                    replace(attempt, tenant_id=owner), AccessOutcome.DENIED,
                    "requested for another tenant",
                )
            raise NotFound(RESOURCE, credential_id)
        found = await self._store.current_secret(owner, credential_id)
        if found is None:
            await self._record(attempt, AccessOutcome.FAILED, "unknown or revoked")
            raise NotFound(RESOURCE, credential_id)
        credential, secret = found
        if credential.expire_time is not None and credential.expire_time <= self._clock():
            await self._record(attempt, AccessOutcome.DENIED, "expired")
            raise FailedPrecondition(
                "CREDENTIAL_EXPIRED",
                "the credential has expired; rotate it with a new expire_time",
                metadata={"credential_id": credential_id},
            )
        if secret.sealed.key_version == EXTERNAL_KEY_VERSION:
            plaintext = await self._read_external(attempt, secret)
        else:
            try:
                plaintext = await self._open(attempt, owner, secret.sealed, secret.aad)
            except SealBroken:
                raise await self._unreadable(attempt, secret.sealed.key_version) from None
        revealed = Revealed(
            value=plaintext.decode(), expire_time=credential.expire_time, version=secret.version
        )
        return revealed, credential.allowed_destinations

    async def _open(self, attempt: _Attempt, tenant_id: str, sealed: Sealed, aad: bytes) -> bytes:
        """Opens with the keyring; an outage of its key service is logged as a failed attempt,
        a seal under a retired key version as a denied one."""
        if sealed.key_version < self._min_key_version:
            await self._record(
                attempt, AccessOutcome.DENIED, f"sealed under retired key version {sealed.key_version}"
            )
            raise FailedPrecondition(
                "CREDENTIAL_KEY_RETIRED",
                f"the secret was sealed under key version {sealed.key_version}, which is retired "
                f"(the minimum decryption version is {self._min_key_version}); rewrap it with "
                "RewrapCredentials, or RewrapCredentialRef for an encrypted:// ref",
                metadata={
                    "key_version": str(sealed.key_version),
                    "min_key_version": str(self._min_key_version),
                },
            )
        try:
            return await self._keyring.open(tenant_id, sealed, aad)
        except Unavailable:
            await self._record(attempt, AccessOutcome.FAILED, "key service unavailable")
            raise

    async def _read_external(self, attempt: _Attempt, secret: SealedSecret) -> bytes:
        """The value of a secret version kept by the payload store; an outage is logged as a
        failed attempt."""
        if self._payloads is None:
            await self._record(
                attempt, AccessOutcome.FAILED, "kept in the OpenBao secret store, not configured"
            )
            raise FailedPrecondition(
                "SECRET_STORE_NOT_CONFIGURED",
                "the secret is kept in the OpenBao secret store; start the service with "
                "--secret-store openbao to reveal it",
            )
        version = _external_version(secret.sealed.blob)
        try:
            value = None if version is None else await self._payloads.read(
                secret.tenant_id, secret.credential_id, version
            )
        except Unavailable:
            await self._record(attempt, AccessOutcome.FAILED, "secret store unavailable")
            raise
        if value is None:
            await self._record(
                attempt, AccessOutcome.FAILED, f"version {secret.version} missing from the secret store"
            )
            raise FailedPrecondition(
                "CREDENTIAL_CORRUPTED",
                "the stored secret is missing from the secret store (OpenBao); rotate the "
                "credential",
            )
        return value.encode()

    async def _unreadable(self, attempt: _Attempt, key_version: int) -> FailedPrecondition:
        """Logs and describes a stored secret that did not open: its master key is not
        configured, or the ciphertext was changed in the database."""
        if key_version not in self._keyring.versions:
            detail = f"sealed with master key version {key_version}, which is not configured"
            error = FailedPrecondition(
                "MASTER_KEY_UNAVAILABLE",
                f"the stored secret was sealed with master key version {key_version}, which "
                "this service does not have; configure it (and run rewrap)",
            )
        else:
            detail = "stored ciphertext failed its integrity check (changed at rest)"
            error = FailedPrecondition(
                "CREDENTIAL_CORRUPTED",
                "the stored secret failed its integrity check; rotate the credential",
            )
        await self._record(attempt, AccessOutcome.FAILED, detail)
        return error

    async def _reveal_env(self, attempt: _Attempt, ref: str) -> Revealed:
        if self._env_lookup is None:
            await self._record(attempt, AccessOutcome.DENIED, f"{ENV_SCHEME} refs are disabled")
            raise FailedPrecondition(
                "CREDENTIAL_SCHEME_DISABLED",
                f"{ENV_SCHEME} refs resolve only when the service runs with "
                f"--allow-env-credentials (development); use {ENCRYPTED_SCHEME} or "
                f"{VAULT_SCHEME} refs",
            )
        name = ref.removeprefix(ENV_SCHEME)
        if not self._env_names.allows(name):
            await self._record(attempt, AccessOutcome.DENIED, "environment name not allowed")
            raise FailedPrecondition(
                "ENV_CREDENTIAL_NAME_REFUSED",
                "env:// refs resolve only variable names starting with "
                f"{self._env_names.describe()} (--env-credential-prefix), and never the "
                "service's own configuration variables",
            )
        value = self._env_lookup(name)
        if value is None:
            await self._record(attempt, AccessOutcome.FAILED, "environment variable not set")
            raise NotFound(RESOURCE, ref)
        return Revealed(value=value, expire_time=None, version=0)

    def _lifecycle(
        self, credential: StoredCredential, kind: AccessKind, actor: Actor, detail: str
    ) -> AccessEvent:
        """The access-log row a lifecycle change writes in its own transaction."""
        return AccessEvent(
            id=str(uuid.uuid4()),
            tenant_id=credential.tenant_id,
            credential_ref=credential.ref,
            credential_id=credential.id,
            caller=actor.caller,
            outcome=AccessOutcome.ALLOWED,
            access_reason=actor.access_reason,
            detail=detail,
            requester_tenant_id=credential.tenant_id,
            create_time=self._clock(),
            kind=kind,
            rpc=actor.rpc[:256],
        )

    async def _record(self, attempt: _Attempt, outcome: AccessOutcome, detail: str) -> None:
        await self._log.record(
            AccessEvent(
                id=str(uuid.uuid4()),
                tenant_id=attempt.tenant_id,
                credential_ref=attempt.credential_ref,
                credential_id=attempt.credential_id,
                caller=attempt.caller,
                outcome=outcome,
                access_reason=attempt.access_reason,
                detail=detail,
                requester_tenant_id=attempt.requester_tenant_id,
                create_time=self._clock(),
                kind=attempt.kind,
                destination=attempt.destination,
                rpc=attempt.rpc,
            )
        )

    async def _new_secret(
        self, tenant_id: str, credential_id: str, version: int, secret: str, now: datetime
    ) -> SealedSecret:
        """A new secret version: sealed for the store, or written to the payload store (with
        check-and-set on its newest version, so a concurrent rotation is ABORTED there too)."""
        if self._payloads is None:
            return await self._seal_version(tenant_id, credential_id, version, secret, now)
        cas = 0 if version == 1 else await self._payloads.current_version(tenant_id, credential_id)
        written = await self._payloads.write(tenant_id, credential_id, secret, cas=cas)
        return SealedSecret(
            tenant_id=tenant_id,
            credential_id=credential_id,
            version=version,
            sealed=Sealed(key_version=EXTERNAL_KEY_VERSION, blob=external_marker(written)),
            create_time=now,
        )

    async def _discard(self, tenant_id: str, credential_id: str) -> None:
        """Destroys what a create wrote to the payload store when its database write did not
        keep it (best effort: an outage leaves an entry no credential names)."""
        if self._payloads is None:
            return
        try:
            await self._payloads.destroy(tenant_id, credential_id)
        except Unavailable:
            pass

    async def _seal_version(
        self, tenant_id: str, credential_id: str, version: int, secret: str, now: datetime
    ) -> SealedSecret:
        aad = stored_aad(tenant_id, credential_id, version)
        return SealedSecret(
            tenant_id=tenant_id,
            credential_id=credential_id,
            version=version,
            sealed=await self._keyring.seal(tenant_id, secret.encode(), aad),
            create_time=now,
        )
