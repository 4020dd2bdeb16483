"""The credential store and access log on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from drivers.credentials.store import SqlAccessLog, SqlCredentialStore
from drivers.kernel.batching import Batcher
from drivers.kernel.database import Database
from drivers.tables.credentials import credential_secrets
from engines.credentials.crypto import Sealed
from engines.credentials.vault import (
    AccessEvent,
    AccessKind,
    AccessOutcome,
    SealedSecret,
    StoredCredential,
)
from engines.kernel.errors import AlreadyExists
from engines.kernel.pagination import parse_page
from tests.support import new_tenant, request_key

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _credential(tenant: str, name: str = "k") -> tuple[StoredCredential, SealedSecret]:
    credential_id = str(uuid.uuid4())
    credential = StoredCredential(
        id=credential_id, tenant_id=tenant, name=name, version=1, key_version=1,
        expire_time=NOW + timedelta(days=1), metadata={"team": "ml"}, created_by="t",
        create_time=NOW, update_time=NOW,
    )
    secret = SealedSecret(tenant, credential_id, 1, Sealed(1, b"\x01" * 40), NOW)
    return credential, secret


def _audit(credential: StoredCredential, kind: AccessKind) -> AccessEvent:
    return AccessEvent(
        id=str(uuid.uuid4()), tenant_id=credential.tenant_id, credential_ref=credential.ref,
        credential_id=credential.id, caller="ops", outcome=AccessOutcome.ALLOWED,
        access_reason="why", detail=kind.value, requester_tenant_id=credential.tenant_id,
        create_time=NOW, kind=kind, rpc="/credentials.v1.CredentialService/X",
    )


async def _logged_kinds(database: Database, credential: StoredCredential) -> list[AccessKind]:
    page = parse_page(100, "", {"t": "audit"})
    events, _ = await SqlAccessLog(database).list(credential.tenant_id, credential.id, page)
    return sorted((e.kind for e in events), key=list(AccessKind).index)


async def test_insert_read_rotate_revoke(database: Database) -> None:
    store = SqlCredentialStore(database)
    tenant = new_tenant()
    credential, secret = _credential(tenant)
    created = _audit(credential, AccessKind.CREATE)
    assert await store.insert(credential, secret, request_key("req-1"), created) == credential
    again, _ = _credential(tenant, name="other")
    replayed = await store.insert(again, secret, request_key("req-1"), _audit(again, AccessKind.CREATE))
    assert replayed.id == credential.id  # idempotent
    clash = _credential(tenant)[0]
    with pytest.raises(AlreadyExists):
        await store.insert(clash, replace(secret, credential_id="x"), None,
                           _audit(clash, AccessKind.CREATE))

    assert await store.get(tenant, credential.id) == credential
    assert await store.get(new_tenant(), credential.id) is None
    assert await store.current_secret(new_tenant(), credential.id) is None

    rotated = replace(credential, version=2, update_time=NOW + timedelta(hours=1))
    second = SealedSecret(tenant, credential.id, 2, Sealed(1, b"\x02" * 40), NOW)
    rotation = _audit(rotated, AccessKind.ROTATE)
    assert await store.add_version(rotated, second, 1, rotation)
    assert not await store.add_version(rotated, second, 1, _audit(rotated, AccessKind.ROTATE))
    moved = await store.set_destinations(tenant, credential.id, ["a.example"], NOW,
                                         _audit(credential, AccessKind.UPDATE))
    assert moved is not None and moved.allowed_destinations == ("a.example",)
    found = await store.current_secret(tenant, credential.id)
    assert found is not None and found[1].version == 2 and found[1].sealed.blob == b"\x02" * 40

    assert not await store.revoke(new_tenant(), credential.id, NOW,
                                  _audit(credential, AccessKind.DELETE))
    assert await store.revoke(tenant, credential.id, NOW, _audit(credential, AccessKind.DELETE))
    assert await store.set_destinations(tenant, credential.id, [], NOW,
                                        _audit(credential, AccessKind.UPDATE)) is None
    # one row per change that happened, none for the replay, the clash, the stale write, the
    # other tenant's revoke or the update of a revoked credential
    assert await _logged_kinds(database, credential) == [
        AccessKind.CREATE, AccessKind.ROTATE, AccessKind.UPDATE, AccessKind.DELETE
    ]
    assert await store.current_secret(tenant, credential.id) is None
    async with database.transaction() as conn:
        left = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(credential_secrets).where(
                    credential_secrets.c.credential_id == credential.id
                )
            )
        ).scalar_one()
    assert left == 0  # revocation destroyed the ciphertexts


async def test_concurrent_reads_are_batched_per_tenant(database: Database) -> None:
    store = SqlCredentialStore(database)
    tenant, other = new_tenant(), new_tenant()
    mine, mine_secret = _credential(tenant)
    theirs, theirs_secret = _credential(other)
    await store.insert(mine, mine_secret, None, _audit(mine, AccessKind.CREATE))
    await store.insert(theirs, theirs_secret, None, _audit(theirs, AccessKind.CREATE))
    results = await asyncio.gather(
        store.current_secret(tenant, mine.id),
        store.current_secret(other, theirs.id),
        store.current_secret(tenant, theirs.id),  # a mix-up across tenants finds nothing
        store.current_secret(other, mine.id),
    )
    assert [r[0].id if r else None for r in results] == [mine.id, theirs.id, None, None]


async def test_rewrap_queries(database: Database) -> None:
    store = SqlCredentialStore(database)
    credential, secret = _credential(new_tenant())
    await store.insert(credential, secret, None, _audit(credential, AccessKind.CREATE))
    newest = 10_000  # every row of the shared test database is older than this
    batch = await store.secrets_to_rewrap(newest, (credential.id, 0), 1)
    assert [(s.credential_id, s.version) for s in batch] == [(credential.id, 1)]
    assert await store.replace_seal(batch[0], Sealed(newest, b"\x03" * 40))
    assert not await store.replace_seal(batch[0], Sealed(newest, b"\x04" * 40))  # moved on
    after = await store.secrets_to_rewrap(newest, (credential.id, 0), 1)
    assert all(s.credential_id != credential.id for s in after)


def _event(tenant: str, i: int, credential_id: str = "") -> AccessEvent:
    return AccessEvent(
        id=str(uuid.uuid4()), tenant_id=tenant, credential_ref=f"env://K{i}",
        credential_id=credential_id, caller="t", outcome=AccessOutcome.DENIED,
        access_reason=f"r{i}", detail="d", requester_tenant_id=tenant,
        create_time=NOW + timedelta(seconds=i),
    )


async def test_access_log_concurrent_records_and_paging(database: Database) -> None:
    log = SqlAccessLog(database)
    tenant = new_tenant()
    credential_id = str(uuid.uuid4())
    await asyncio.gather(*(log.record(_event(tenant, i, credential_id if i % 2 else "")) for i in range(25)))
    page = parse_page(10, "", {"t": tenant})
    rows, total = await log.list(tenant, None, page)
    assert total == 25 and [e.access_reason for e in rows[:3]] == ["r0", "r1", "r2"]
    rows, total = await log.list(tenant, credential_id, parse_page(100, "", {}))
    assert total == 12 and {e.credential_id for e in rows} == {credential_id}
    assert (await log.list(new_tenant(), None, page))[1] == 0


async def test_batcher_gives_every_caller_the_error() -> None:
    async def failing(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        raise RuntimeError("down")

    batcher: Batcher[int, int] = Batcher(failing)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)

    async def doubled(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        return [i * 2 for i in items]

    batcher = Batcher(doubled, max_batch=2)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(5))) == [0, 2, 4, 6, 8]
