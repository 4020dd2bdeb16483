"""SQL implementations of the credential vault's ports: `CredentialStore` (credentials and their
sealed secret versions) and `AccessLog` (reveal attempts), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.kernel.batching import Batcher
from drivers.kernel.database import Database
from drivers.kernel.repository import AfterWrite, RepositoryStore, TenantRepository
from drivers.tables.credentials import credential_access_events, credential_secrets, credentials
from engines.credentials.crypto import Sealed
from engines.credentials.expiry import NO_FILTERS, CredentialFilters, ExpirySummary
from engines.credentials.vault import (
    EXTERNAL_KEY_VERSION,
    RESOURCE,
    AccessEvent,
    AccessKind,
    AccessOutcome,
    SealedSecret,
    StoredCredential,
)
from engines.kernel.idempotency import IdempotencyKey
from engines.kernel.pagination import PageRequest

__all__ = ["SqlAccessLog", "SqlCredentialStore", "secret_from_row"]

_live = credentials.c.delete_time.is_(None)
_is_current_secret = sa.and_(
    credential_secrets.c.credential_id == credentials.c.id,
    credential_secrets.c.version == credentials.c.version,
)
# A credential joined to its current secret version.
_current = credentials.join(credential_secrets, _is_current_secret)
# A revoked credential has no secret left: its key_version is NULL.
_with_key_version = sa.select(credentials, credential_secrets.c.key_version).select_from(
    credentials.outerjoin(credential_secrets, _is_current_secret)
)

# What reveals read, built once (so SQLAlchemy computes its cache key once, not per batch): the
# live credentials among the batch's ids with their current secrets. Rows of a tenant not in the
# batch for that id are dropped by the caller's exact (tenant, id) lookup.
_READ_CURRENT = (
    sa.select(credentials, credential_secrets.c.key_version, credential_secrets.c.sealed)
    .select_from(_current)
    .where(
        credentials.c.tenant_id.in_(sa.bindparam("tenant_ids", expanding=True)),
        credentials.c.id.in_(sa.bindparam("credential_ids", expanding=True)),
        _live,
    )
)
_INSERT_ACCESS_EVENT = credential_access_events.insert()


def _to_credential(row: Any) -> StoredCredential:
    return StoredCredential(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        version=row.version,
        key_version=max(row.key_version or 0, 0),  # EXTERNAL_KEY_VERSION: shown as 0
        expire_time=row.expire_time,
        metadata=dict(row.metadata or {}),
        created_by=row.created_by,
        create_time=row.create_time,
        update_time=row.update_time,
        allowed_destinations=tuple(row.allowed_destinations or ()),
        rotation_interval=None
        if row.rotation_interval_seconds is None
        else timedelta(seconds=row.rotation_interval_seconds),
        rotation_due_time=row.rotation_due_time,
    )


def _rotation_values(credential: StoredCredential) -> dict[str, Any]:
    interval = credential.rotation_interval
    return {
        "rotation_interval_seconds": None if interval is None else int(interval.total_seconds()),
        "rotation_due_time": credential.rotation_due_time,
    }


def _filtered(filters: CredentialFilters) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if filters.expire_before is not None:
        conditions.append(credentials.c.expire_time <= filters.expire_before)
    if filters.rotation_due_before is not None:
        conditions.append(credentials.c.rotation_due_time <= filters.rotation_due_before)
    return conditions


def secret_from_row(row: Any) -> SealedSecret:
    """The engine value of one credential_secrets row."""
    return SealedSecret(
        tenant_id=row.tenant_id,
        credential_id=row.credential_id,
        version=row.version,
        sealed=Sealed(key_version=row.key_version, blob=bytes(row.sealed)),
        create_time=row.create_time,
    )


def _secret_values(secret: SealedSecret) -> dict[str, Any]:
    return {
        "credential_id": secret.credential_id,
        "version": secret.version,
        "tenant_id": secret.tenant_id,
        "key_version": secret.sealed.key_version,
        "sealed": secret.sealed.blob,
        "create_time": secret.create_time,
    }


def _add_secret(secret: SealedSecret, audit: AccessEvent) -> AfterWrite:
    async def add(conn: AsyncConnection) -> None:
        await conn.execute(credential_secrets.insert().values(**_secret_values(secret)))
        await _append(audit)(conn)

    return add


def _append(audit: AccessEvent) -> AfterWrite:
    """Writes a lifecycle change's access-log row in the change's own transaction."""

    async def append(conn: AsyncConnection) -> None:
        await conn.execute(credential_access_events.insert().values(**_event_values(audit)))

    return append


def _credential_and_secret(row: Any) -> tuple[StoredCredential, SealedSecret]:
    secret = SealedSecret(
        tenant_id=row.tenant_id,
        credential_id=row.id,
        version=row.version,
        sealed=Sealed(key_version=row.key_version, blob=bytes(row.sealed)),
        create_time=row.update_time,
    )
    return _to_credential(row), secret


class SqlCredentialStore(RepositoryStore[StoredCredential]):
    """Credentials and sealed secret versions in the service's database.

    Reveals are hot: concurrent reads of current secrets are served by one query per batch."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._rows = TenantRepository(
            database,
            credentials,
            _to_credential,
            resource=RESOURCE,
            clash="a credential with this name already exists for the tenant",
            select=_with_key_version,
        )
        self._reads: Batcher[
            tuple[str, str], tuple[StoredCredential, SealedSecret] | None
        ] = Batcher(self._read_current)

    async def insert(
        self,
        credential: StoredCredential,
        secret: SealedSecret,
        key: IdempotencyKey | None,
        audit: AccessEvent,
    ) -> StoredCredential:
        values = {
            "id": credential.id,
            "tenant_id": credential.tenant_id,
            "name": credential.name,
            "version": credential.version,
            "expire_time": credential.expire_time,
            "metadata": dict(credential.metadata),
            "created_by": credential.created_by,
            "create_time": credential.create_time,
            "update_time": credential.update_time,
            "allowed_destinations": list(credential.allowed_destinations),
            **_rotation_values(credential),
        }
        return await self._rows.insert(credential, values, key, _add_secret(secret, audit))

    async def set_destinations(
        self,
        tenant_id: str,
        credential_id: str,
        destinations: Sequence[str],
        when: datetime,
        audit: AccessEvent,
    ) -> StoredCredential | None:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                credentials.update()
                .where(
                    credentials.c.id == credential_id,
                    credentials.c.tenant_id == tenant_id,
                    _live,
                )
                .values(allowed_destinations=list(destinations), update_time=when)
            )
            if result.rowcount == 1:
                await _append(audit)(conn)
        return await self.get(tenant_id, credential_id) if result.rowcount == 1 else None

    async def current_secret(
        self, tenant_id: str, credential_id: str
    ) -> tuple[StoredCredential, SealedSecret] | None:
        return await self._reads.submit((tenant_id, credential_id))

    async def _read_current(
        self, keys: list[tuple[str, str]]
    ) -> list[tuple[StoredCredential, SealedSecret] | None]:
        """One query for every reveal waiting: the live credentials and their newest secrets."""
        values = {
            "tenant_ids": list({tenant for tenant, _ in keys}),
            "credential_ids": list({credential_id for _, credential_id in keys}),
        }
        async with self._db.read() as conn:
            rows = (await conn.execute(_READ_CURRENT, values)).all()
        found = {(row.tenant_id, row.id): _credential_and_secret(row) for row in rows}
        return [found.get(key) for key in keys]

    async def list(
        self, tenant_id: str, page: PageRequest, filters: CredentialFilters = NO_FILTERS
    ) -> tuple[Sequence[StoredCredential], int]:
        return await self._rows.list(tenant_id, page, *_filtered(filters))

    async def expiry_summary(
        self, tenant_id: str, now: datetime, horizon: timedelta
    ) -> ExpirySummary:
        expire, due = credentials.c.expire_time, credentials.c.rotation_due_time

        def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

        query = sa.select(
            count(expire <= now),
            count(sa.and_(expire > now, expire <= now + horizon)),
            count(due <= now),
            sa.func.min(sa.case((expire > now, expire))),
            sa.func.min(sa.case((due > now, due))),
        ).where(credentials.c.tenant_id == tenant_id, _live)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one()
        return ExpirySummary(
            now=now,
            horizon=horizon,
            expired=int(row[0]),
            expiring=int(row[1]),
            rotation_due=int(row[2]),
            next_expire_time=row[3],
            next_rotation_due_time=row[4],
        )

    async def add_version(
        self,
        credential: StoredCredential,
        secret: SealedSecret,
        expected_version: int,
        audit: AccessEvent,
    ) -> bool:
        values = {
            "version": credential.version,
            "expire_time": credential.expire_time,
            "update_time": credential.update_time,
            **_rotation_values(credential),
        }
        return await self._rows.update(
            credential.tenant_id, credential.id, expected_version, values,
            _add_secret(secret, audit),
        )

    async def revoke(
        self, tenant_id: str, credential_id: str, when: datetime, audit: AccessEvent
    ) -> bool:
        async def destroy_secrets(conn: AsyncConnection) -> None:
            # Revocation destroys the ciphertexts: nothing is left that could ever be revealed.
            await conn.execute(
                credential_secrets.delete().where(
                    credential_secrets.c.credential_id == credential_id,
                    credential_secrets.c.tenant_id == tenant_id,
                )
            )
            await _append(audit)(conn)

        return await self._rows.soft_delete(tenant_id, credential_id, when, destroy_secrets)

    async def secrets_to_rewrap(
        self, newest_key_version: int, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SealedSecret]:
        query = sa.select(credential_secrets).where(
            credential_secrets.c.key_version != newest_key_version,
            credential_secrets.c.key_version != EXTERNAL_KEY_VERSION,  # nothing sealed here
        )
        if after is not None:
            after_id, after_version = after
            query = query.where(
                sa.or_(
                    credential_secrets.c.credential_id > after_id,
                    sa.and_(
                        credential_secrets.c.credential_id == after_id,
                        credential_secrets.c.version > after_version,
                    ),
                )
            )
        query = query.order_by(
            credential_secrets.c.credential_id, credential_secrets.c.version
        ).limit(limit)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(query)).all()
        return [secret_from_row(r) for r in rows]

    async def key_version_counts(self) -> dict[int, int]:
        version = credential_secrets.c.key_version
        query = (
            sa.select(version, sa.func.count())
            .where(version != EXTERNAL_KEY_VERSION)
            .group_by(version)
            .order_by(version)
        )
        async with self._db.read() as conn:
            return {int(v): int(n) for v, n in (await conn.execute(query)).all()}

    async def replace_seal(self, secret: SealedSecret, sealed: Sealed) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                credential_secrets.update()
                .where(
                    credential_secrets.c.credential_id == secret.credential_id,
                    credential_secrets.c.tenant_id == secret.tenant_id,
                    credential_secrets.c.version == secret.version,
                    credential_secrets.c.key_version == secret.sealed.key_version,
                )
                .values(key_version=sealed.key_version, sealed=sealed.blob)
            )
        return result.rowcount == 1


def _to_event(row: Any) -> AccessEvent:
    return AccessEvent(
        id=row.id,
        tenant_id=row.tenant_id,
        credential_ref=row.credential_ref,
        credential_id=row.credential_id or "",
        caller=row.caller,
        outcome=AccessOutcome(row.outcome),
        access_reason=row.access_reason,
        detail=row.detail,
        requester_tenant_id=row.requester_tenant_id,
        create_time=row.create_time,
        kind=AccessKind(row.kind),
        destination=row.destination,
        rpc=row.rpc,
    )


def _event_values(event: AccessEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "tenant_id": event.tenant_id,
        "credential_id": event.credential_id or None,
        "credential_ref": event.credential_ref,
        "caller": event.caller,
        "outcome": event.outcome.value,
        "access_reason": event.access_reason,
        "detail": event.detail,
        "requester_tenant_id": event.requester_tenant_id,
        "create_time": event.create_time,
        "kind": event.kind.value,
        "destination": event.destination,
        "rpc": event.rpc,
    }


class SqlAccessLog:
    """The access log of reveal and use attempts, append-only, in the service's database
    (lifecycle changes are written by `SqlCredentialStore` in their own transactions).

    Writes are group-committed: `record` returns once its event is committed, but events that
    arrive while a commit is in flight share the next one, so the log costs one transaction per
    batch of concurrent reveals instead of one per reveal."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._writes: Batcher[dict[str, Any], None] = Batcher(self._insert)
        self._events = TenantRepository(
            database, credential_access_events, _to_event, resource="access event", clash=None
        )

    async def record(self, event: AccessEvent) -> None:
        await self._writes.submit(_event_values(event))

    async def _insert(self, rows: list[dict[str, Any]]) -> list[None]:
        # executemany: one compiled statement whatever the batch size, one commit per batch.
        async with self._db.transaction() as conn:
            await conn.execute(_INSERT_ACCESS_EVENT, rows)
        return [None] * len(rows)

    async def list(
        self, tenant_id: str, credential_id: str | None, page: PageRequest
    ) -> tuple[Sequence[AccessEvent], int]:
        table = credential_access_events
        conditions = [] if credential_id is None else [table.c.credential_id == credential_id]
        return await self._events.list(tenant_id, page, *conditions)
