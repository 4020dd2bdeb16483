"""CredentialVault with hand-written fake ports: sealing, binding, expiry, rotation, rewrap."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from engines.credentials.crypto import Keyring, Sealed
from engines.credentials.env_credentials import EnvNamePolicy
from engines.credentials.vault import (
    AccessEvent,
    AccessKind,
    AccessOutcome,
    Actor,
    CredentialVault,
    SealedSecret,
    StoredCredential,
)
from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from engines.kernel.pagination import PageRequest
from tests.support import new_tenant

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
ACTOR = Actor(caller="t")


class FakeStore:
    def __init__(self) -> None:
        self.credentials: dict[str, StoredCredential] = {}
        self.secrets: dict[tuple[str, int], SealedSecret] = {}
        self.audit: list[AccessEvent] = []

    async def insert(self, credential, secret, key, audit):  # type: ignore[no-untyped-def]
        self.audit.append(audit)
        self.credentials[credential.id] = credential
        self.secrets[(credential.id, secret.version)] = secret
        return credential

    async def find_by_request_id(self, tenant_id, request_id):  # type: ignore[no-untyped-def]
        return None

    async def get(self, tenant_id: str, credential_id: str) -> StoredCredential | None:
        found = self.credentials.get(credential_id)
        return found if found and found.tenant_id == tenant_id else None

    async def current_secret(self, tenant_id, credential_id):  # type: ignore[no-untyped-def]
        found = await self.get(tenant_id, credential_id)
        return (found, self.secrets[(found.id, found.version)]) if found else None

    async def list(self, tenant_id: str, page: PageRequest, filters=None):  # type: ignore[no-untyped-def]
        rows = [c for c in self.credentials.values() if c.tenant_id == tenant_id]
        return rows, len(rows)

    async def add_version(self, credential, secret, expected_version, audit):  # type: ignore[no-untyped-def]
        if self.credentials[credential.id].version != expected_version:
            return False
        self.audit.append(audit)
        self.credentials[credential.id] = credential
        self.secrets[(credential.id, secret.version)] = secret
        return True

    async def set_destinations(self, tenant_id, credential_id, destinations, when, audit):  # type: ignore[no-untyped-def]
        found = await self.get(tenant_id, credential_id)
        if found is None:
            return None
        self.audit.append(audit)
        self.credentials[credential_id] = replace(found, allowed_destinations=tuple(destinations))
        return self.credentials[credential_id]

    async def revoke(self, tenant_id, credential_id, when, audit):  # type: ignore[no-untyped-def]
        self.audit.append(audit)
        self.credentials.pop(credential_id)
        return True

    async def secrets_to_rewrap(self, newest, after, limit) -> Sequence[SealedSecret]:  # type: ignore[no-untyped-def]
        rows = sorted(
            (
                s for k, s in self.secrets.items()
                if s.sealed.key_version != newest and (after is None or k > after)
            ),
            key=lambda s: (s.credential_id, s.version),
        )
        return rows[:limit]

    async def replace_seal(self, secret: SealedSecret, sealed: Sealed) -> bool:
        self.secrets[(secret.credential_id, secret.version)] = replace(secret, sealed=sealed)
        return True

    async def key_version_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for secret in self.secrets.values():
            counts[secret.sealed.key_version] = counts.get(secret.sealed.key_version, 0) + 1
        return counts


class FakeAccessLog:
    def __init__(self) -> None:
        self.events: list[AccessEvent] = []

    async def record(self, event: AccessEvent) -> None:
        self.events.append(event)

    async def list(self, tenant_id, credential_id, page):  # type: ignore[no-untyped-def]
        rows = [e for e in self.events if e.tenant_id == tenant_id]
        return rows, len(rows)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _keyring(*versions: int) -> Keyring:
    return Keyring({v: os.urandom(32) for v in versions})


def _vault(keyring: Keyring, store: FakeStore | None = None, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    log = FakeAccessLog()
    return CredentialVault(keyring, store or FakeStore(), log, clock=clock or Clock()), log


async def test_encrypted_ref_is_bound_to_tenant_and_context() -> None:
    vault, log = _vault(_keyring(1))
    tenant = new_tenant()
    ref, version = await vault.encrypt(tenant, "secret", {"a": "1", "b": "2"})
    assert version == 1 and "secret" not in ref
    # Context order does not matter; its content does.
    revealed = await vault.reveal(tenant, ref, context={"b": "2", "a": "1"}, caller="t")
    assert revealed.value == "secret"
    for who, context in ((new_tenant(), {"a": "1", "b": "2"}), (tenant, {"a": "1"})):
        with pytest.raises(NotFound):
            await vault.reveal(who, ref, context=context, caller="t")
    assert [e.outcome for e in log.events] == [AccessOutcome.ALLOWED] + [AccessOutcome.FAILED] * 2


async def test_every_changed_character_is_detected() -> None:
    vault, log = _vault(_keyring(1))
    tenant = new_tenant()
    ref, _ = await vault.encrypt(tenant, "secret", {})
    start = len("encrypted://")
    for position in range(start, len(ref)):
        chars = list(ref)
        chars[position] = "B" if chars[position] != "B" else "C"
        with pytest.raises(NotFound):
            await vault.reveal(tenant, "".join(chars), caller="t")
    assert {e.outcome for e in log.events} == {AccessOutcome.FAILED}


async def test_keyring_rotation_old_refs_open_new_refs_use_newest() -> None:
    first = _keyring(1)
    vault, _ = _vault(first)
    tenant = new_tenant()
    old_ref, _ = await vault.encrypt(tenant, "old", {})
    both = Keyring({1: first._keys[1], 2: os.urandom(32)})  # noqa: SLF001 - the same key 1
    vault, _ = _vault(both)
    new_ref, version = await vault.encrypt(tenant, "new", {})
    assert version == 2 and new_ref.startswith("encrypted://v1/2/")
    assert (await vault.reveal(tenant, old_ref, caller="t")).value == "old"


async def test_rewrap_moves_every_version_and_keeps_values() -> None:
    first = _keyring(1)
    store = FakeStore()
    vault, _ = _vault(first, store)
    tenant = new_tenant()
    created = await vault.create(tenant, "k", "v1", actor=ACTOR)
    await vault.rotate(tenant, created.id, "v2", actor=ACTOR)
    vault, _ = _vault(Keyring({1: first._keys[1], 2: os.urandom(32)}), store)  # noqa: SLF001
    result = await vault.rewrap(batch_size=1)
    assert (result.rewrapped, result.failed, result.key_version) == (2, 0, 2)
    assert {s.sealed.key_version for s in store.secrets.values()} == {2}
    assert (await vault.reveal(tenant, created.ref, caller="t")).value == "v2"
    assert (await vault.rewrap()).rewrapped == 0


async def test_expiry_and_revocation() -> None:
    clock = Clock()
    vault, log = _vault(_keyring(1), clock=clock)
    tenant = new_tenant()
    created = await vault.create(
        tenant, "k", "v", expire_time=NOW + timedelta(hours=1), actor=ACTOR
    )
    assert (await vault.reveal(tenant, created.ref, caller="t")).expire_time == NOW + timedelta(hours=1)
    clock.now = NOW + timedelta(hours=1)
    with pytest.raises(FailedPrecondition) as caught:
        await vault.reveal(tenant, created.ref, caller="t")
    assert caught.value.reason == "CREDENTIAL_EXPIRED"
    rotated = await vault.rotate(
        tenant, created.id, "v2", expire_time=NOW + timedelta(days=1), actor=ACTOR
    )
    assert (await vault.reveal(tenant, rotated.ref, caller="t")).value == "v2"
    await vault.delete(tenant, created.id, actor=ACTOR)
    with pytest.raises(NotFound):
        await vault.reveal(tenant, created.ref, caller="t")
    assert [e.outcome for e in log.events] == [
        AccessOutcome.ALLOWED, AccessOutcome.DENIED, AccessOutcome.ALLOWED, AccessOutcome.FAILED
    ]


async def test_env_refs_need_a_lookup() -> None:
    tenant = new_tenant()
    vault, _ = _vault(_keyring(1))
    with pytest.raises(FailedPrecondition) as caught:
        await vault.reveal(tenant, "env://HOME", caller="t")
    assert caught.value.reason == "CREDENTIAL_SCHEME_DISABLED"
    enabled = CredentialVault(
        _keyring(1), FakeStore(), FakeAccessLog(), env_lookup={"DEV_K": "v"}.get
    )
    assert (await enabled.reveal(tenant, "env://DEV_K", caller="t")).value == "v"
    with pytest.raises(NotFound):
        await enabled.reveal(tenant, "env://DEV_MISSING", caller="t")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("PATH", id="no-allowed-prefix"),
        pytest.param("CREDENTIAL_MASTER_KEYS", id="master-keys"),
        pytest.param("INTEGRATIONS_DATABASE_URL", id="service-config"),
        pytest.param("dev_k", id="prefix-is-case-sensitive"),
    ],
)
async def test_env_refs_resolve_only_allowed_names(name: str) -> None:
    log = FakeAccessLog()
    every_name = {"PATH": "x", "CREDENTIAL_MASTER_KEYS": "x", "dev_k": "x",
                  "INTEGRATIONS_DATABASE_URL": "x"}
    vault = CredentialVault(_keyring(1), FakeStore(), log, env_lookup=every_name.get)
    with pytest.raises(FailedPrecondition) as caught:
        await vault.reveal(new_tenant(), f"env://{name}", caller="t")
    assert caught.value.reason == "ENV_CREDENTIAL_NAME_REFUSED"
    assert [e.outcome for e in log.events] == [AccessOutcome.DENIED]


async def test_reserved_names_stay_refused_whatever_the_prefixes() -> None:
    names = EnvNamePolicy.of(["INTEGRATIONS_", "CREDENTIAL_", "MY_"])
    vault = CredentialVault(
        _keyring(1), FakeStore(), FakeAccessLog(),
        env_lookup={"INTEGRATIONS_X": "x", "CREDENTIAL_MASTER_KEYS": "k", "MY_K": "v"}.get,
        env_names=names,
    )
    assert (await vault.reveal(new_tenant(), "env://MY_K", caller="t")).value == "v"
    for name in ("INTEGRATIONS_X", "CREDENTIAL_MASTER_KEYS"):
        with pytest.raises(FailedPrecondition):
            await vault.reveal(new_tenant(), f"env://{name}", caller="t")
    with pytest.raises(ValueError):
        EnvNamePolicy.of([""])


async def test_revealed_values_never_print() -> None:
    vault, _ = _vault(_keyring(1))
    tenant = new_tenant()
    ref, _ = await vault.encrypt(tenant, "hunter2", {})
    revealed = await vault.reveal(tenant, ref, caller="t")
    assert "hunter2" not in repr(revealed) and "hunter2" not in repr(vault.keyring)


def test_keyring_rejects_bad_keys() -> None:
    with pytest.raises(ValueError):
        Keyring({})
    with pytest.raises(ValueError):
        Keyring({1: b"short"})
    with pytest.raises(ValueError):
        Keyring({0: os.urandom(32)})


async def test_secret_size_limit_names_the_field() -> None:
    vault, _ = _vault(_keyring(1))
    with pytest.raises(InvalidArgument) as caught:
        await vault.encrypt(new_tenant(), "x" * (64 * 1024 + 1), {})
    assert [v.field for v in caught.value.violations] == ["plaintext"]


async def test_stored_secret_under_a_missing_key_says_which_version() -> None:
    store = FakeStore()
    vault, _ = _vault(_keyring(1), store)
    tenant = new_tenant()
    created = await vault.create(tenant, "k", "v", actor=ACTOR)
    vault, log = _vault(_keyring(2), store)
    with pytest.raises(FailedPrecondition) as caught:
        await vault.reveal(tenant, created.ref, caller="t")
    assert caught.value.reason == "MASTER_KEY_UNAVAILABLE" and "version 1" in caught.value.message
    assert [e.outcome for e in log.events] == [AccessOutcome.FAILED]


async def test_every_lifecycle_change_writes_one_audit_row_with_actor_reason_and_rpc() -> None:
    store = FakeStore()
    vault, _ = _vault(_keyring(1), store)
    tenant = new_tenant()
    actor = Actor(caller="ops", access_reason="INC-7 key leak", rpc="/c.v1.S/M")
    created = await vault.create(tenant, "k", "v1", actor=actor)
    await vault.rotate(tenant, created.id, "v2", actor=actor)
    await vault.update_destinations(tenant, created.id, ["api.openai.com"], actor=actor)
    await vault.delete(tenant, created.id, actor=actor)
    assert [(e.kind, e.detail) for e in store.audit] == [
        (AccessKind.CREATE, "version 1"),
        (AccessKind.ROTATE, "version 2"),
        (AccessKind.UPDATE, "destinations: api.openai.com"),
        (AccessKind.DELETE, "versions 1-2 destroyed"),
    ]
    assert {(e.caller, e.access_reason, e.rpc, e.tenant_id, e.credential_id, e.outcome)
            for e in store.audit} == {
        ("ops", "INC-7 key leak", "/c.v1.S/M", tenant, created.id, AccessOutcome.ALLOWED)
    }
    assert all("v1" not in e.detail and "v2" != e.detail for e in store.audit)


async def test_a_refused_change_writes_no_audit_row() -> None:
    store = FakeStore()
    vault, _ = _vault(_keyring(1), store)
    tenant = new_tenant()
    created = await vault.create(tenant, "k", "v1", actor=ACTOR)
    with pytest.raises(InvalidArgument) as caught:
        await vault.rotate(tenant, created.id, "v2", actor=Actor(caller="t", access_reason="x" * 513))
    assert "access_reason" in str(caught.value)
    with pytest.raises(NotFound):
        await vault.delete(new_tenant(), created.id, actor=ACTOR)
    assert [e.kind for e in store.audit] == [AccessKind.CREATE]


def _retiring(
    first: Keyring, store: FakeStore, min_key_version: int
) -> tuple[CredentialVault, FakeAccessLog]:
    """The same secrets under a keyring with a second master key and version 1 retired."""
    keys = Keyring({1: first._keys[1], 2: os.urandom(32)})  # noqa: SLF001
    log = FakeAccessLog()
    vault = CredentialVault(keys, store, log, clock=Clock(), min_key_version=min_key_version)
    return vault, log


async def test_retired_key_versions_are_refused_until_rewrapped() -> None:
    first, store, tenant = _keyring(1), FakeStore(), new_tenant()
    old, _ = _vault(first, store)
    stored = await old.create(tenant, "k", "stored-secret", actor=ACTOR)
    ref, _ = await old.encrypt(tenant, "ref-secret", {"app": "x"})

    vault, log = _retiring(first, store, min_key_version=2)
    for credential_ref, context in ((stored.ref, {}), (ref, {"app": "x"})):
        with pytest.raises(FailedPrecondition) as caught:
            await vault.reveal(tenant, credential_ref, context=context, caller="t")
        assert caught.value.reason == "CREDENTIAL_KEY_RETIRED"
        assert "key version 1" in caught.value.message and "-secret" not in caught.value.message
    assert [(e.outcome, e.detail) for e in log.events] == [
        (AccessOutcome.DENIED, "sealed under retired key version 1")
    ] * 2
    assert await vault.key_status() == {1: 1}

    progress = [p async for p in vault.rewrap_progress(batch_size=1)]
    assert [(p.rewrapped, p.failed, p.key_version) for p in progress] == [(1, 0, 2)]
    again = [p async for p in vault.rewrap_progress(batch_size=1)]
    assert [(p.rewrapped, p.failed, p.key_version) for p in again] == [(0, 0, 2)]  # nothing left
    assert (await vault.reveal(tenant, stored.ref, caller="t")).value == "stored-secret"
    new_ref, version = await vault.rewrap_ref(tenant, ref, {"app": "x"})
    assert version == 2 and new_ref != ref and "ref-secret" not in new_ref
    assert (await vault.reveal(tenant, new_ref, context={"app": "x"}, caller="t")).value == "ref-secret"
    assert await vault.key_status() == {2: 1}


async def test_rewrap_ref_refuses_what_it_cannot_open_and_bad_settings() -> None:
    vault, _ = _vault(_keyring(1))
    tenant = new_tenant()
    ref, _ = await vault.encrypt(tenant, "s", {"app": "x"})
    with pytest.raises(NotFound):
        await vault.rewrap_ref(new_tenant(), ref, {"app": "x"})  # another tenant's ref
    with pytest.raises(NotFound):
        await vault.rewrap_ref(tenant, ref, {"app": "y"})  # another context
    with pytest.raises(InvalidArgument):
        await vault.rewrap_ref(tenant, "cus-vault://x/y", {})
    with pytest.raises(InvalidArgument):
        [p async for p in vault.rewrap_progress(batch_size=0)]
    with pytest.raises(ValueError, match="minimum key version 3"):
        CredentialVault(_keyring(1, 2), FakeStore(), FakeAccessLog(), min_key_version=3)
